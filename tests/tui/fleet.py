"""A small, fixed fleet for the console's tests, snapshots and screenshots.

Built through core (records, actions, network) so states and audit trails are real,
then every time in it is pinned to ``NOW`` so the screen is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from simdeck.core import actions, auth, db, models, network, records
from simdeck.core.actions import Targets
from simdeck.core.identifiers import make_eid, make_iccid
from simdeck.core.models import AuditEvent, Endpoint, Imsi, Sim

#: 2025-11-21 04:40:00 UTC: "now" for every test and screenshot.
NOW = 1_763_700_000.0
USER = "alice"

GROUPS = (
    ("vantiq-connect-eu", "Passenger vehicles, Europe", "iot.vantiq.eu", "10.20.0.0/16"),
    ("vantiq-connect-us", "Passenger vehicles, North America", "iot.vantiq.us", None),
    ("cold-chain", "Refrigerated trailers", "cold.vantiq", "10.40.0.0/20"),
)

#: name, state, group, tags, reference, minutes since last activity (None: never)
FLEET: tuple[tuple[str, str, str | None, str, str, int | None], ...] = (
    ("berlin-taxi-0001", "active", "vantiq-connect-eu", "fleet-a eu", "VIN-WVW001", 2),
    ("berlin-taxi-0002", "idle", "vantiq-connect-eu", "fleet-a eu", "VIN-WVW002", 14),
    ("berlin-taxi-0003", "detached", "vantiq-connect-eu", "fleet-a eu", "VIN-WVW003", 2900),
    ("munich-van-0004", "active", "vantiq-connect-eu", "fleet-b eu", "VIN-WVW004", 1),
    ("munich-van-0005", "suspended", "vantiq-connect-eu", "fleet-b eu", "VIN-WVW005", 8700),
    ("lyon-truck-0006", "idle", "vantiq-connect-eu", "fleet-b eu trial", "VIN-VF1006", 45),
    ("lyon-truck-0007", "pre-active", "vantiq-connect-eu", "trial", "VIN-VF1007", None),
    ("porto-bus-0008", "active", "vantiq-connect-eu", "fleet-a eu", "VIN-VSS008", 5),
    ("austin-suv-0009", "active", "vantiq-connect-us", "fleet-c us", "VIN-1FT009", 3),
    ("austin-suv-0010", "idle", "vantiq-connect-us", "fleet-c us", "VIN-1FT010", 190),
    ("denver-suv-0011", "detached", "vantiq-connect-us", "fleet-c us", "VIN-1FT011", 12000),
    ("denver-suv-0012", "terminated", "vantiq-connect-us", "fleet-c us", "VIN-1FT012", 40000),
    ("seattle-van-0013", "pending", None, "us", "VIN-1FT013", None),
    ("seattle-van-0014", "pending", None, "us trial", "VIN-1FT014", None),
    ("reefer-0015", "active", "cold-chain", "reefer", "TRL-0015", 7),
    ("reefer-0016", "suspended", "cold-chain", "reefer", "TRL-0016", 20000),
    ("reefer-0017", "idle", "cold-chain", "reefer", "TRL-0017", 61),
    ("reefer-0018", "hold", "cold-chain", "reefer", "TRL-0018", None),
    ("factory-spare-0019", "hold", None, "", "", None),
    ("factory-spare-0020", "hold", None, "", "", None),
    ("oslo-taxi-0021", "active", "vantiq-connect-eu", "fleet-a eu", "VIN-WVW021", 0),
    ("oslo-taxi-0022", "detached", "vantiq-connect-eu", "fleet-a eu", "VIN-WVW022", 600),
    ("madrid-bus-0023", "idle", "vantiq-connect-eu", "fleet-b eu", "VIN-VSS023", 33),
    ("madrid-bus-0024", "active", "vantiq-connect-eu", "fleet-b eu", "VIN-VSS024", 9),
    ("boston-suv-0025", "pre-active", "vantiq-connect-us", "fleet-c us trial", "VIN-1FT025", None),
    ("boston-suv-0026", "terminated", "vantiq-connect-us", "us", "VIN-1FT026", 90000),
    ("reefer-0027", "active", "cold-chain", "reefer", "TRL-0027", 4),
    ("reefer-0028", "detached", "cold-chain", "reefer", "TRL-0028", 1500),
    ("", "hold", None, "", "", None),
    ("test-bench-0030", "pending", None, "lab", "BENCH-30", None),
)

_EVENT = {"idle": "attach", "detached": "detach"}


def build(path: str | Path, *, extra: int = 0, seed: int = 7) -> str:
    """Create the fleet (plus ``extra`` plain Active endpoints) in a new database file."""
    url = str(path)
    db.open_database(url)
    models.create_schema()
    actor = auth.login(user=USER)
    for name, description, apn, pool in GROUPS:
        records.create_group(actor, name, description=description, apn=apn, ip_pool=pool)
    rnd = random.Random(seed)
    for n, (name, state, group, tags, reference, minutes) in enumerate(FLEET, start=1):
        sim = None if state == "hold" else _sim(n, esim=n % 3 == 0, imsis=1 + (n % 4 == 0))
        ep = records.create_endpoint(
            actor,
            name=name,
            group=group if state != "pending" else None,
            tags=tags,
            reference=reference,
            sim=sim,
            activate_immediately=state != "pre-active",
            static_ip=f"10.20.0.{n}" if group == "vantiq-connect-eu" and n % 2 else None,
            imei_lock=None,
        )
        at = int(NOW - (minutes or 0) * 60 - rnd.randint(0, 50))
        if state in ("active", "idle", "detached") and minutes is not None:
            events = [{"iccid": ep.iccid, "event": "session_start", "at": at - 60}]
            if state in _EVENT:
                events.append({"iccid": ep.iccid, "event": _EVENT[state], "at": at})
            else:
                events[0]["at"] = at
            network.apply_events(actor, events)
        elif state in ("suspended", "terminated"):
            if minutes is not None:
                network.apply_events(
                    actor, [{"iccid": ep.iccid, "event": "session_start", "at": at}]
                )
            act = "suspend" if state == "suspended" else "terminate"
            actions.run(actor, act, Targets.one(ep.id))
    if extra:
        add_plain(extra)
    pin_times()
    if db.is_sqlite():
        db.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.database.close()
    return url


def _sim(n: int, *, esim: bool, imsis: int) -> str:
    """A Ready to Activate SIM in the pool (inserted as the inventory holds it)."""
    iccid = make_iccid(f"8949{n:014d}")
    sim = Sim.create(iccid=iccid, eid=make_eid(f"8904{n:026d}") if esim else None)
    for pos in range(imsis):
        Imsi.create(sim=sim, position=pos, imsi=f"26201{n:08d}{pos:02d}")
    return iccid


def add_plain(count: int, *, start: int = 1000) -> None:
    """``count`` more Active endpoints with SIMs, written in bulk (list data only)."""
    with db.database.atomic():
        rows = []
        for i in range(start, start + count):
            iccid = make_iccid(f"8944{i:014d}")
            rows.append(
                {
                    "iccid": iccid,
                    "name": f"bulk-{i:05d}",
                    "reference": f"B{i}",
                    "tags": "bulk",
                    "state": "active",
                    "last_activity": int(NOW) - i,
                }
            )
        for chunk in range(0, len(rows), 500):
            Endpoint.insert_many(rows[chunk : chunk + 500]).execute()


def pin_times() -> None:
    """Every stored time a fixed distance from NOW, so screens do not drift."""
    base = dt.datetime.fromtimestamp(NOW, dt.UTC).replace(tzinfo=None)
    Endpoint.update(
        created_at=base - dt.timedelta(days=30), updated_at=base - dt.timedelta(days=1)
    ).execute()
    Endpoint.update(terminated_at=base - dt.timedelta(days=2)).where(
        Endpoint.terminated_at.is_null(False)
    ).execute()
    for event_id, in AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id).tuples():
        AuditEvent.update(at=base - dt.timedelta(minutes=400 - event_id)).where(
            AuditEvent.id == event_id
        ).execute()
