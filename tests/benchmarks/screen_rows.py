"""What each screen reads before it shows itself, timed at 1,000,000 endpoints and
1,000,000 audit events: ``python -m tests.benchmarks --only-screens`` (or
``python -m tests.benchmarks.screen_rows DB``).

A screen is open when its first page and its counts are read (the list draws the rows
as soon as they come, the status line the counts): the SIM inventory's first page,
its count and its totals; the group picker's groups with their endpoint counts; a
bulk preview of 700,000 and more; the Audit log's first page, its count and the names
of the endpoints on it, unfiltered, by actor, by action, for one endpoint named by
ICCID (``h``) and for one job (the Jobs screen's drill-down). Each is read on the
reader thread's kind of connection, the same calls the screens make, ``repeats`` times:
the median is reported, and the first (cold) read in the notes.

The demo has about 100,000 audit events; the database is copied and topped up to a
million with a real bulk job (assign to a group of every live endpoint: 750,000 events
and more), then copies of that job's newest events.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peewee as pw

from simdeck.core import actions, auth, db, models, queries
from simdeck.core.actions import Targets
from simdeck.core.models import AuditEvent, Endpoint, EndpointGroup, Job
from simdeck.core.queries import AuditFilter, Filter

from .core_rows import Figure

#: A screen's target, and the bulk preview's.
SCREEN_S = 0.5
PREVIEW_S = 1.0
AUDIT_EVENTS = 1_000_000


def _timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _figure(row: str, samples: list[float], target: float, what: str) -> Figure:
    median = statistics.median(samples)
    return Figure(row, f"≤ {target:g} s", median, "s",
                  detail=f"{what}; first read {samples[0]:.2f} s, worst {max(samples):.2f} s "
                         f"over {len(samples)}",
                  meets=median <= target, samples=samples)


def top_up_audit(path: str, events: int = AUDIT_EVENTS) -> None:
    """Bring the trail to ``events``: one real bulk job (assign to a group of every live
    endpoint, one event each), then, if still short, copies of its newest events."""
    db.open_database(path)
    models.migrate()
    have = AuditEvent.select().count()
    if have >= events:
        return
    actor = auth.login()
    groups = [g for (g,) in EndpointGroup.select(EndpointGroup.name).order_by(
        EndpointGroup.id).tuples()]
    live = Filter(states=("active", "idle", "detached", "pending", "pre-active"))
    actions.run(actor, "assign_group", Targets(filter=live), group=groups[-1])
    missing = events - AuditEvent.select().count()
    if missing > 0:
        fields = [AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.endpoint_id,
                  AuditEvent.iccid, AuditEvent.from_state, AuditEvent.to_state,
                  AuditEvent.detail, AuditEvent.job]
        newest = AuditEvent.select(*fields).order_by(AuditEvent.id.desc()).limit(missing)
        with db.database.atomic():
            AuditEvent.insert_from(newest, fields).execute()


def screen_rows(path: str, repeats: int = 7) -> list[Figure]:
    """The screens' reads on ``path`` (a database with a million audit events)."""
    db.open_database(path, read_only=True)
    actor = auth.login(read_only=True)
    figures: list[Figure] = []

    def sims_open() -> None:
        queries.sim_page(ready_only=False, limit=120)
        queries.sim_count(ready_only=False)
        queries.sim_counts()

    figures.append(_figure("SIM inventory: first page, count and totals",
                           _timed(sims_open, repeats), SCREEN_S,
                           f"{queries.sim_counts()['total']:,} SIMs"))

    def linked_active() -> None:
        queries.sim_page(ready_only=False, status="Active", limit=120)
        queries.sim_count(ready_only=False, status="Active")

    figures.append(_figure("SIM inventory filtered to Active", _timed(linked_active, repeats),
                           SCREEN_S, "first page and count"))
    figures.append(_figure("group picker: every group and its live endpoints",
                           _timed(queries.groups_with_counts, repeats), SCREEN_S,
                           f"{Endpoint.select().count():,} endpoints"))

    groups = queries.groups_with_counts()
    plain = next((g["name"] for g in groups if not g["ip_pool"]), groups[0]["name"])
    pooled = next((g["name"] for g in groups if g["ip_pool"]), groups[0]["name"])
    live = Filter(states=("active", "idle", "detached"))
    n_live = queries.count(live)
    preview_actor = auth.Actor(actor.name, auth.Role.ADMIN, read_only=False)

    def preview(group: str) -> Callable[[], None]:
        return lambda: actions.preview(preview_actor, "assign_group", Targets(filter=live),
                                       group=group)

    figures.append(_figure(f"assign-group preview of {n_live:,} (Active, Idle, Detached)",
                           _timed(preview(plain), repeats), PREVIEW_S,
                           f"to {plain}, which has no IP pool"))
    figures.append(_figure(f"assign-group preview of {n_live:,}, into a group with an IP pool",
                           _timed(preview(pooled), repeats), PREVIEW_S,
                           f"to {pooled}: the static IPs outside its pool counted in SQL"))

    def audit(f: AuditFilter) -> Callable[[], None]:
        def read() -> None:
            page = queries.audit_page(f, limit=120)
            queries.audit_count(f)
            queries.endpoint_names(e["endpoint_id"] for e in page if e["endpoint_id"])
        return read

    events = AuditEvent.select().count()
    figures.append(_figure("Audit log: first page, count and names",
                           _timed(audit(AuditFilter()), repeats), SCREEN_S,
                           f"{events:,} events"))
    n = pw.fn.COUNT(AuditEvent.id)
    actors = (AuditEvent.select(AuditEvent.actor, n).group_by(AuditEvent.actor)
              .order_by(n.desc()).tuples())
    ranked = list(actors)
    most, rare = ranked[0], ranked[-1]
    figures.append(_figure(f"Audit log filtered by actor ({most[0]}: {most[1]:,} events)",
                           _timed(audit(AuditFilter(actor=most[0])), repeats), SCREEN_S,
                           "the busiest actor"))
    figures.append(_figure(f"Audit log filtered by actor ({rare[0]}: {rare[1]:,} events)",
                           _timed(audit(AuditFilter(actor=rare[0])), repeats), SCREEN_S,
                           "the rarest actor"))
    actions_ranked = list(AuditEvent.select(AuditEvent.action, pw.fn.COUNT(AuditEvent.id))
                          .group_by(AuditEvent.action).order_by(pw.fn.COUNT(AuditEvent.id)).tuples())
    rare_action = actions_ranked[0]
    figures.append(_figure(f"Audit log filtered by action ({rare_action[0]}: "
                           f"{rare_action[1]:,} events)",
                           _timed(audit(AuditFilter(action=rare_action[0])), repeats),
                           SCREEN_S, "the rarest action"))

    iccid = (AuditEvent.select(AuditEvent.iccid).where(AuditEvent.iccid != "")
             .order_by(AuditEvent.id.desc()).limit(1).scalar())

    def history() -> None:
        endpoint = queries.audit_endpoint_id(str(iccid))
        audit(AuditFilter(endpoint_id=endpoint))()

    figures.append(_figure("`h`: one endpoint's history, named by ICCID",
                           _timed(history, repeats), SCREEN_S, f"ICCID {iccid}"))
    job = Job.select(Job.id).order_by(Job.total.desc()).limit(1).scalar()
    job_events = AuditEvent.select().where(AuditEvent.job == job).count()
    figures.append(_figure(f"a job's audit events (job {job}: {job_events:,})",
                           _timed(audit(AuditFilter(job=job)), repeats), SCREEN_S,
                           "the Jobs screen's drill-down"))
    db.database.close()
    return figures


def all_rows(path: str, tmp: Path) -> list[Figure]:
    """On a copy of ``path`` topped up to a million audit events."""
    work = str(tmp / "screens.db")
    shutil.copy(path, work)
    top_up_audit(work)
    db.database.close()
    return screen_rows(work)


if __name__ == "__main__":
    source = sys.argv[1]
    tmp = Path(tempfile.mkdtemp(prefix="simdeck-screens-"))
    try:
        for fig in all_rows(source, tmp) if "--copy" in sys.argv else screen_rows(source):
            print(f"{fig.row}: {fig.median:.3f} s ({'meets' if fig.meets else 'MISSES'}) "
                  f"— {fig.detail}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
