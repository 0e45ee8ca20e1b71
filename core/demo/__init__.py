"""The demo fleet: Vantiq Motors' connected vehicles, one eSIM each, every state represented.

``build_demo`` fills a new, empty database with a fleet in the spirit of the Vantiq
Motors example: Endpoint Groups per region, one endpoint per vehicle (name
``VM-EU-ID4-0001234``, the VIN as reference, model and plant tags), its SIM with ICCID,
EID and IMSIs, a pool of Ready to Activate SIMs, static IPs and IMEI locks, an audit
trail for a sample of the fleet, and two finished bulk jobs.

- ``fleet``: the fleet as data, drawn from a seed (the same on every database).
- ``sqlite``: the SQLite build, fast at a million endpoints (two processes).
- ``postgres``: the PostgreSQL build: COPY, set-based SQL, one transaction.

A build writes the ``demo`` setting ``building`` before it starts and ``built`` as its
last row, so a build that was killed half-way (SQLite commits in steps) is recognised by
``status`` and can be thrown away with ``discard`` and built again.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from simdeck.core import models
from simdeck.core.auth import os_user
from simdeck.core.db import database, is_sqlite, write_tx
from simdeck.core.errors import InputError, Refused
from simdeck.core.lifecycle import State

from .fleet import POOL_MIN, POOL_SHARE, REGIONS, _Fleet, _naive_utc

#: The setting that says how far a demo build got.
MARKER = "demo"
BUILDING = "building"
BUILT = "built"


@dataclass
class DemoSummary:
    """What build_demo made, and how long it took."""

    endpoints: int
    sims: int
    pool_sims: int
    groups: int
    by_state: dict[str, int]
    seconds: float

    def lines(self) -> list[str]:
        """A human summary, a line each."""
        out = [
            f"Vantiq Motors demo fleet: {self.endpoints:,} endpoints "
            f"in {self.groups} Endpoint Groups",
            f"{self.sims:,} SIMs, {self.pool_sims:,} of them Ready to Activate",
        ]
        width = max(len(s.label) for s in State)
        for s in State:
            out.append(f"  {s.label:<{width}}  {self.by_state.get(s.value, 0):>11,}")
        out.append(f"Built in {self.seconds:.1f} s")
        return out


def status() -> str:
    """How far a demo build got in the bound database: ``built``, ``building`` (it
    stopped half-way: incomplete), or '' (no demo was ever started here, or the
    database predates the marker)."""
    if not models.has_schema():
        return ""
    row = models.Setting.get_or_none(models.Setting.key == MARKER)
    return str(row.value) if row else ""


def discard() -> None:
    """Drop every table of a demo database so the demo can be built again.

    Only a database whose ``demo`` marker says it holds a demo (complete or not): a
    database of real endpoints is never dropped.
    """
    if status() not in (BUILDING, BUILT):
        raise Refused("this database does not hold a demo fleet; it is not deleted")
    with write_tx():
        database.drop_tables(list(reversed(models.TABLES)), safe=True, cascade=not is_sqlite())
        # SQLite's FTS5 table, or PostgreSQL's copy of names and references (core/pg.py).
        database.execute_sql("DROP TABLE IF EXISTS endpoint_text")
        # SQLite's list of the trigrams in use (models.SQLITE_TRIGRAMS).
        database.execute_sql("DROP TABLE IF EXISTS endpoint_trigram")


def _set_marker(value: str) -> None:
    models.Setting.insert(key=MARKER, value=value).on_conflict(
        conflict_target=[models.Setting.key], update={models.Setting.value: value}
    ).execute()


def build_demo(
    endpoints: int = 5000,
    *,
    seed: int = 7,
    now: dt.datetime | None = None,
    operator: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Fill the bound (new, empty) database with the demo fleet; returns what was made."""
    started = time.perf_counter()
    if endpoints < 1:
        raise InputError(f"a demo fleet needs at least 1 endpoint, not {endpoints}")
    say = progress or (lambda _message: None)
    when = _naive_utc(now or dt.datetime.now(dt.UTC))
    user = operator or os_user()
    if is_sqlite():
        from .sqlite import _SqliteBuild

        _refuse_filled()
        with write_tx():
            _set_marker(BUILDING)
        by_state = _SqliteBuild(endpoints, seed, when, user, say).run()
        with write_tx():
            _set_marker(BUILT)
    else:
        from . import postgres

        with database.atomic():
            _refuse_filled()
            _set_marker(BUILDING)
            say(f"drawing a fleet of {endpoints:,} vehicles")
            fleet = _Fleet(endpoints, seed, when, user)
            postgres.load(fleet, say)
            by_state = fleet.by_state()
            _set_marker(BUILT)
        # The visibility map, outside the build's transaction: a search's walk of the
        # covering sort indexes then reads no row (core/pg.py, COVERED); and the
        # statistics a search's probe reads (queries.endpoints.DENSE_ESTIMATE).
        database.execute_sql("VACUUM ANALYZE endpoint")
        database.execute_sql("ANALYZE endpoint_text")
    say("done")
    sims = endpoints - by_state[State.HOLD.value]
    pool = max(POOL_MIN, round(endpoints * POOL_SHARE))
    return DemoSummary(
        endpoints=endpoints,
        sims=sims + pool,
        pool_sims=pool,
        groups=len(REGIONS),
        by_state=by_state,
        seconds=time.perf_counter() - started,
    )


def _refuse_filled() -> None:
    """Create the tables (not the indexes: they come after the rows); refuse a database
    that already holds records."""
    models.create_schema(indexes=False)
    filled = [m._meta.table_name for m in (models.Endpoint, models.Sim, models.EndpointGroup,
                                           models.Operator, models.AuditEvent, models.Job)
              if m.select().exists()]
    if filled:
        raise InputError(f"the database is not empty ({', '.join(filled)} hold rows); "
                         "the demo is built into a new database")


__all__ = ["BUILDING", "BUILT", "DemoSummary", "_Fleet", "build_demo", "discard", "status"]
