"""Tests of core.network: every event from every state, IMEI locks, stale events, bad lines."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from simdeck.core import auth, network
from simdeck.core.auth import NETWORK, Actor
from simdeck.core.errors import InputError, PermissionDenied
from simdeck.core.identifiers import make_iccid, make_imei
from simdeck.core.importer import import_sims
from simdeck.core.lifecycle import NETWORK_EVENTS, STATES, State
from simdeck.core.models import AuditEvent, Endpoint, Sim
from simdeck.core.network import IngestReport, apply_events, ingest
from simdeck.core.records import create_group

T0 = "2024-05-01T12:00:00Z"
T0_EPOCH = int(dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC).timestamp())


@pytest.fixture
def _db(admin: Actor) -> Actor:
    """The shared fresh database (tests/conftest.py) and the admin who created it."""
    return admin


def iccid(i: int) -> str:
    return make_iccid(f"894450{i:013d}")


def imei(i: int) -> str:
    return make_imei(f"35{i:012d}")


def make_endpoints(actor: Actor, tmp_path: Path, n: int, *, pool: int = 0) -> list[int]:
    """n Active endpoints (grouped, with a SIM each) and ``pool`` SIMs left unlinked."""
    create_group(actor, "fleet")
    lines = ["iccid,imsi"] + [f"{iccid(i)},00101{i:010d}" for i in range(n)]
    path = tmp_path / "eps.csv"
    path.write_text("\n".join(lines) + "\n")
    assert import_sims(actor, path, as_endpoints=True, group="fleet").imported == n
    if pool:
        lines = ["iccid,imsi"] + [f"{iccid(i)},00101{i:010d}" for i in range(n, n + pool)]
        path = tmp_path / "pool.csv"
        path.write_text("\n".join(lines) + "\n")
        assert import_sims(actor, path).imported == pool
    return [e.id for e in Endpoint.select().order_by(Endpoint.id)]


def endpoint(i: int) -> Endpoint:
    return Endpoint.get(Endpoint.iccid == iccid(i))


def set_row(i: int, **values: Any) -> None:
    """Test setup: put endpoint i in a given state or setting directly."""
    Endpoint.update(**values).where(Endpoint.iccid == iccid(i)).execute()


def network_audit(action: str | None = None) -> list[AuditEvent]:
    q = AuditEvent.select().where(AuditEvent.actor == NETWORK)
    if action:
        q = q.where(AuditEvent.action == action)
    return list(q.order_by(AuditEvent.id))


# --- the transition table -----------------------------------------------------------

CASES = [
    (state, name)
    for state in STATES
    if state is not State.HOLD  # an endpoint in Hold has no SIM, so no event names it
    for name in NETWORK_EVENTS
]


@pytest.mark.parametrize(("state", "name"), CASES, ids=[f"{s}-{e}" for s, e in CASES])
def test_each_event_from_each_state(
    _db: Actor, tmp_path: Path, state: State, name: str
) -> None:
    make_endpoints(_db, tmp_path, 1)
    set_row(0, state=state.value)
    before = endpoint(0)
    event = {"iccid": iccid(0), "event": name, "at": T0, "imei": imei(1)}
    report = apply_events(_db, [event])
    after = endpoint(0)
    assert report.events == 1 and not report.errors
    if state in NETWORK_EVENTS[name].sources:
        result = NETWORK_EVENTS[name].result
        assert report.applied == 1 and report.rejected == {}
        assert after.state == result.value
        assert after.last_activity == T0_EPOCH
        assert after.version == before.version + 1
        (audit,) = network_audit()
        assert (audit.action, audit.from_state, audit.to_state) == (name, state.value,
                                                                    result.value)
        assert audit.endpoint_id == after.id and audit.iccid == iccid(0)
        assert json.loads(audit.detail) == {"imei": imei(1)}
    else:
        assert report.applied == 0 and report.rejected == {state.label: 1}
        assert (after.state, after.last_activity, after.version) == (
            before.state, before.last_activity, before.version)
        (audit,) = network_audit()
        assert audit.action == "rejected"
        assert audit.from_state == audit.to_state == state.value
        assert json.loads(audit.detail) == {"event": name, "reason": f"endpoint is {state.label}"}


def test_presence_follows_a_day_of_events(_db: Actor, tmp_path: Path) -> None:
    make_endpoints(_db, tmp_path, 1)
    seq = ["attach", "session_start", "session_end", "session_start", "detach", "attach"]
    events = [{"iccid": iccid(0), "event": e, "at": f"2024-05-01T12:0{n}:00Z"}
              for n, e in enumerate(seq)]
    report = apply_events(_db, events)
    assert report.applied == 6
    assert endpoint(0).state == "idle"
    assert [a.to_state for a in network_audit()] == [
        "idle", "active", "idle", "active", "detached", "idle"]
    assert endpoint(0).last_activity == T0_EPOCH + 5 * 60


# --- IMEI lock ----------------------------------------------------------------------


def test_imei_lock(_db: Actor, tmp_path: Path) -> None:
    make_endpoints(_db, tmp_path, 1)
    lock = imei(7)
    set_row(0, imei_lock=lock)
    version = endpoint(0).version
    report = apply_events(_db, [
        {"iccid": iccid(0), "event": "attach", "at": T0, "imei": imei(8)},
        {"iccid": iccid(0), "event": "attach", "at": T0},
    ])
    assert report.applied == 0 and report.rejected == {"imei_mismatch": 2}
    assert endpoint(0).state == "active" and endpoint(0).version == version
    audits = network_audit("imei_mismatch")
    assert [json.loads(a.detail) for a in audits] == [
        {"imei": imei(8), "lock": lock}, {"imei": None, "lock": lock}]
    # The locked IMEI, typed with separators and without its check digit, is accepted.
    body = lock[:-1]
    ok = apply_events(_db, [{"iccid": iccid(0), "event": "attach", "at": T0,
                             "imei": f"{body[:2]}-{body[2:8]} {body[8:]}"}])
    assert ok.applied == 1 and endpoint(0).state == "idle"
    # The lock is about attaching: a session event without an IMEI still applies.
    later = apply_events(_db, [{"iccid": iccid(0), "event": "session_start", "at": T0}])
    assert later.applied == 1 and endpoint(0).state == "active"


# --- out of order -------------------------------------------------------------------


def test_stale_event_changes_nothing(_db: Actor, tmp_path: Path) -> None:
    make_endpoints(_db, tmp_path, 1)
    assert apply_events(_db, [{"iccid": iccid(0), "event": "session_start",
                               "at": "2024-05-01T12:10:00Z"}]).applied == 1
    version = endpoint(0).version
    report = apply_events(_db, [
        {"iccid": iccid(0), "event": "detach", "at": "2024-05-01T12:05:00Z"},
        # The same moment as the last one seen is not stale.
        {"iccid": iccid(0), "event": "session_end", "at": "2024-05-01T14:10:00+02:00"},
    ])
    assert report.applied == 1 and report.rejected == {"stale": 1}
    ep = endpoint(0)
    assert ep.state == "idle"
    assert ep.last_activity == T0_EPOCH + 600
    assert ep.version == version + 1
    (stale,) = network_audit("stale")
    assert stale.from_state == stale.to_state == "active"
    assert json.loads(stale.detail) == {"event": "detach", "at": "2024-05-01T12:05:00Z"}


def test_missing_time_is_now(_db: Actor, tmp_path: Path) -> None:
    make_endpoints(_db, tmp_path, 1)
    start = int(dt.datetime.now(dt.UTC).timestamp())
    assert apply_events(_db, [{"iccid": iccid(0), "event": "attach"}]).applied == 1
    assert start <= endpoint(0).last_activity <= start + 5


# --- bad input ----------------------------------------------------------------------


def test_bad_lines_are_reported_and_the_rest_applied(_db: Actor, tmp_path: Path) -> None:
    make_endpoints(_db, tmp_path, 2, pool=1)
    good = {"iccid": iccid(0), "event": "attach", "at": T0}
    lines = [
        json.dumps(good),                                                          # 1
        "{not json",                                                               # 2
        "",                                                                        # 3 blank
        json.dumps({"iccid": iccid(1), "event": "reboot", "at": T0}),             # 4
        json.dumps({"iccid": "8944", "event": "attach", "at": T0}),               # 5
        json.dumps({"iccid": iccid(99), "event": "attach", "at": T0}),            # 6
        json.dumps({"iccid": iccid(2), "event": "attach", "at": T0}),             # 7 pool SIM
        json.dumps({"iccid": iccid(1), "event": "attach", "at": "2024-05-01 12:00"}),  # 8
        json.dumps({"iccid": iccid(1), "event": "attach", "at": "yesterday"}),    # 9
        json.dumps({"iccid": iccid(1), "event": "attach", "imei": "123"}),        # 10
        json.dumps([1, 2]),                                                        # 11
        json.dumps({"iccid": iccid(1), "event": "session_start", "at": T0}),      # 12
        json.dumps({"event": "attach"}),                                           # 13
        json.dumps({"iccid": iccid(1), "event": "attach", "at": "2999-01-01T00:00:00Z"}),  # 14
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(("\r\n".join(lines) + "\n").encode() + b'{"iccid": "\xe9"}\n')  # 15
    report = ingest(_db, path)
    assert report.events == 14
    assert report.applied == 2
    errors = dict(report.errors)
    assert sorted(errors) == [2, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15]
    assert errors[2].startswith("is not JSON")
    assert errors[4].startswith("event reboot: is not one of attach")
    assert errors[5].startswith("ICCID 8944: has 4 digits")
    assert errors[6] == f"ICCID {iccid(99)}: no endpoint has this SIM"
    assert errors[7] == f"ICCID {iccid(2)}: no endpoint has this SIM"
    assert "has no time zone" in errors[8]
    assert errors[9].startswith("at yesterday: is not an ISO 8601 time")
    assert errors[10].startswith("IMEI 123: has 3 digits")
    assert errors[11].startswith("event: must be a JSON object")
    assert errors[13] == "ICCID: is empty"
    assert "in the future" in errors[14]
    assert errors[15].startswith("is not UTF-8 (byte 0xe9")
    assert endpoint(0).state == "idle" and endpoint(1).state == "active"
    assert [line for line in report.lines() if line.startswith("line ")][0].startswith("line 2:")


def test_unknown_iccid_audits_nothing(_db: Actor, tmp_path: Path) -> None:
    make_endpoints(_db, tmp_path, 1)
    before = AuditEvent.select().count()
    report = apply_events(_db, [{"iccid": iccid(5), "event": "attach"}])
    assert report.errors == [(1, f"ICCID {iccid(5)}: no endpoint has this SIM")]
    assert AuditEvent.select().count() == before


def test_rejected_events_are_audited(_db: Actor, tmp_path: Path) -> None:
    make_endpoints(_db, tmp_path, 3)
    set_row(0, state="suspended")
    set_row(1, state="terminated")
    events = [{"iccid": iccid(i), "event": "session_start", "at": T0} for i in (0, 1, 1, 2)]
    report = apply_events(_db, events)
    assert report.applied == 1
    assert report.rejected == {"Suspended": 1, "Terminated": 2}
    rejected = network_audit("rejected")
    assert [(a.iccid, json.loads(a.detail)["reason"]) for a in rejected] == [
        (iccid(0), "endpoint is Suspended"),
        (iccid(1), "endpoint is Terminated"),
        (iccid(1), "endpoint is Terminated"),
    ]
    assert endpoint(0).state == "suspended" and endpoint(1).state == "terminated"
    data = report.to_json()
    assert data == {"events": 4, "applied": 1,
                    "rejected": {"Suspended": 1, "Terminated": 2}, "errors": []}
    assert "  1 rejected — Suspended" in report.lines()


def test_many_events_in_several_transactions(
    _db: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_endpoints(_db, tmp_path, 5)
    monkeypatch.setattr(network, "CHUNK", 7)
    names = list(NETWORK_EVENTS)
    events = [
        {"iccid": iccid(n % 5), "event": names[n % 4], "at": T0_EPOCH + n} for n in range(103)
    ]
    report = apply_events(_db, events)
    assert report == IngestReport(events=103, applied=103, rejected={}, errors=[])
    for i in range(5):
        last = max(n for n in range(103) if n % 5 == i)
        ep = endpoint(i)
        assert ep.last_activity == T0_EPOCH + last
        assert ep.state == NETWORK_EVENTS[names[last % 4]].result.value
    assert len(network_audit()) == 103
    assert Sim.select().where(Sim.endpoint.is_null()).count() == 0


def test_viewer_is_refused(_db: Actor, tmp_path: Path) -> None:
    make_endpoints(_db, tmp_path, 1)
    auth.add_operator(_db, "vera", "viewer")
    viewer = auth.login(user="vera")
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps({"iccid": iccid(0), "event": "attach"}) + "\n")
    with pytest.raises(PermissionDenied):
        ingest(viewer, path)
    with pytest.raises(PermissionDenied):
        apply_events(viewer, [{"iccid": iccid(0), "event": "attach"}])
    assert endpoint(0).state == "active" and not network_audit()


def test_missing_file(_db: Actor, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        ingest(_db, tmp_path / "nope.jsonl")
