"""The speed rows of targets.md that core answers alone, each beside the naive way.

Every function takes the path of a built 1,000,000-endpoint database and returns a
Figure. Rows that change the database run last and on their own copy of the rows
they touch, so they do not disturb the read rows.
"""

from __future__ import annotations

import contextlib
import csv
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simdeck.core import actions, auth, db, models, settings
from simdeck.core.actions import Targets
from simdeck.core.errors import Busy
from simdeck.core.identifiers import make_iccid
from simdeck.core.lifecycle import State
from simdeck.core.models import AuditEvent, Endpoint, EndpointGroup
from simdeck.core.queries import Filter, counts_by_state, page


@dataclass
class Figure:
    """One row of the report: the target, the median measured, maybe the naive way."""

    row: str
    target: str
    median: float
    unit: str = "ms"
    detail: str = ""
    naive: float | None = None
    naive_label: str = ""
    meets: bool = True
    samples: list[float] = field(default_factory=list)
    #: The "naive way" is the floor (the store alone): the ratio says how far above it.
    floor: bool = False

    @property
    def ratio(self) -> str:
        if self.naive is None or not self.median:
            return ""
        if self.floor:
            return f"{self.median / self.naive:,.1f}× the floor"
        return f"{self.naive / self.median:,.0f}×"


def p95(samples: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def counts_row(path: str) -> Figure:
    """Counts per state for the current filter, over a spread of filters."""
    db.open_database(path)
    group = EndpointGroup.select(EndpointGroup.name).scalar()
    filters = [
        Filter(),
        Filter(states=("idle",)),
        Filter(group=group),
        Filter(tag="fleet-a"),
        Filter(search="8944"),
        Filter(search="ID4"),
        Filter(group=group, search="-state:active"),
    ]
    samples = [timed(lambda f=f: counts_by_state(f)) for _ in range(5) for f in filters]
    med = statistics.median(samples)
    return Figure("counts per state for the current filter", "≤ 150 ms", med,
                  detail=f"p95 {p95(samples):.0f} ms over {len(filters)} filters × 5",
                  meets=med <= 150, samples=samples)


def search_page_row(path: str) -> Figure:
    """A filter or search keystroke → the first page from the store (before painting)."""
    db.open_database(path)
    group = EndpointGroup.select(EndpointGroup.name).scalar()
    typed = ["8", "89", "894", "8944", "89445", "V", "VM", "VM-", "VM-E", "VM-EU", "VM-EU-I",
             "WVW", "WVWZ", "state:idle", f"group:{group}", "tag:fleet-b", "-state:active",
             "id4 pilot", "zzzz-not-there"]
    samples = []
    for _ in range(3):
        for text in typed:
            samples.append(timed(lambda t=text: page(Filter(search=t), "iccid", limit=60)))
    return Figure("filter/search keystroke → first page (store)", "≤ 100 ms p95",
                  statistics.median(samples), detail=f"p95 {p95(samples):.1f} ms, "
                  f"{len(typed)} keystrokes × 3", meets=p95(samples) <= 100, samples=samples)


def _naive_suspend(ids: list[int], actor: str) -> None:
    """The naive way: one ORM object read, changed and saved per row, with its audit."""
    with db.database.atomic():
        for i in ids:
            ep = Endpoint.get_by_id(i)
            if ep.state not in ("active", "idle", "detached"):
                continue
            before = ep.state
            ep.state = "suspended"
            ep.version += 1
            ep.save()
            AuditEvent.create(actor=actor, action="suspend", endpoint_id=i, iccid=ep.iccid,
                              from_state=before, to_state="suspended")


def _live_ids(n: int, states: tuple[str, ...], offset_id: int = 0) -> list[int]:
    return [i for (i,) in Endpoint.select(Endpoint.id).where(
        Endpoint.state.in_(states) & (Endpoint.id > offset_id)
    ).order_by(Endpoint.id).limit(n).tuples()]


@contextlib.contextmanager
def pg_copy(url: str) -> Iterator[str]:
    """A copy of the PostgreSQL database at ``url`` (``CREATE DATABASE … TEMPLATE``), for
    the rows that write; dropped afterwards."""
    import psycopg

    base, _, name = url.rpartition("/")
    copy = f"{name}_bulk_copy"
    db.database.close()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {copy} TEMPLATE {name}")
    try:
        yield f"{base}/{copy}"
    finally:
        db.database.close()
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)")


def _settle_copy() -> None:
    """Write back the copy the runner just made, so the first checkpoint does not pay for it."""
    os.sync()


@contextlib.contextmanager
def _chunk_times(into: list[float]) -> Iterator[None]:
    """Record how long each chunk's statements take (its transaction, less the commit)."""
    apply = actions._apply_range

    def timed_apply(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return apply(*args, **kwargs)
        finally:
            into.append((time.perf_counter() - start) * 1000)

    actions._apply_range = timed_apply  # type: ignore[assignment]
    try:
        yield
    finally:
        actions._apply_range = apply  # type: ignore[assignment]


def bulk_rows(path: str, n: int = 100_000, naive_n: int = 10_000, repeats: int = 3
              ) -> list[Figure]:
    """Bulk suspend / assign-group / terminate of ``n`` endpoints, audit included.

    Each action runs ``repeats`` times on disjoint sets of ``n`` live endpoints (the three
    actions interleaved, so a noisy moment does not fall on one of them only), and the
    median is reported; the naive way is timed on ``naive_n`` more and scaled.
    """
    _settle_copy()
    db.open_database(path)
    models.migrate()
    actor = auth.login()
    groups = [g for (g,) in EndpointGroup.select(EndpointGroup.name).tuples()]
    live = ("active", "idle", "detached")
    every = _live_ids(n * repeats, live)
    sets = [every[k * n:(k + 1) * n] for k in range(repeats)]
    times: dict[str, list[float]] = {"suspend": [], "assign_group": [], "terminate": []}
    chunks: list[float] = []
    with _chunk_times(chunks):
        for ids in sets:
            targets = Targets(ids=tuple(ids))
            times["suspend"].append(timed(lambda t=targets: actions.run(actor, "suspend", t)))
            times["assign_group"].append(timed(lambda t=targets: actions.run(
                actor, "assign_group", t, group=groups[-1])))
            times["terminate"].append(timed(lambda t=targets: actions.run(actor, "terminate", t)))
    naive_ids = _live_ids(naive_n, live, offset_id=every[-1])
    naive_ms = timed(lambda: _naive_suspend(naive_ids, actor.name)) * (n / len(naive_ids))
    longest = f"longest chunk {max(chunks):.0f} ms"
    out = []
    for action, label in (("suspend", "suspend"), ("assign_group", "assign-group"),
                          ("terminate", "terminate")):
        ms = statistics.median(times[action])
        runs = ", ".join(f"{t / 1000:.2f}" for t in times[action])
        fig = Figure(f"bulk {label} of {n:,}, audit included", "≤ 2 s", ms / 1000, "s",
                     detail=f"median of {repeats} ({runs} s); {longest}",
                     meets=ms <= 2000, samples=[t / 1000 for t in times[action]])
        if action == "suspend":
            fig.naive = naive_ms / 1000
            fig.naive_label = (f"one ORM save per row (timed on {len(naive_ids):,}, "
                               f"scaled ×{n // len(naive_ids)})")
        out.append(fig)
    return out


def concurrent_wait_row(path: str, n: int = 100_000) -> Figure:
    """Another operator's single change while a bulk job runs: how long it waits.

    Two kinds of change, each during its own bulk job: a tag edit (the endpoint row and
    its tags) and a name edit, which also writes the trigram index. The row reports the
    median, p99 and worst over both; the naive way is one big transaction.
    """
    _settle_copy()
    by_kind = {kind: _wait_during_bulk(path, n, chunk=actions.CHUNK, change=kind)
               for kind in ("tags", "name")}
    whole = _wait_during_bulk(path, n, chunk=10**9, change="tags")
    waits = sorted(by_kind["tags"] + by_kind["name"])
    worst = waits[-1]
    kinds = "; ".join(
        f"{kind} edits: p99 {_p99(w):.0f} ms, worst {max(w):.0f} ms over {len(w)}"
        for kind, w in by_kind.items()
    )
    return Figure("another operator's change while a 100,000 bulk job runs",
                  "waits ≤ 0.5 s", statistics.median(waits), "ms",
                  detail=f"p99 {_p99(waits):.0f} ms, worst {worst:.0f} ms ({kinds})",
                  naive=max(whole), naive_label="one big transaction (worst wait)",
                  meets=worst <= 500, samples=waits)


def _p99(samples: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * len(ordered))) - 1)]


def _wait_during_bulk(path: str, n: int, chunk: int, change: str = "name") -> list[float]:
    db.open_database(path)
    models.migrate()
    actor = auth.login()
    states = ("active", "idle", "detached", "suspended")
    ids = _live_ids(n, ("suspended",)) or _live_ids(n, states)
    action = "resume" if Endpoint.get_by_id(ids[0]).state == "suspended" else "suspend"
    if action == "resume":
        settings.set_setting(actor, "allow_resume", "true")
    other = _live_ids(1, ("hold",))[0]
    waits: list[float] = []
    done = threading.Event()
    old_chunk = actions.CHUNK

    def bulk() -> None:
        actions.CHUNK = chunk
        try:
            actions.run(actor, action, Targets(ids=tuple(ids)))
        finally:
            actions.CHUNK = old_chunk
            done.set()
            db.database.close()

    def edits() -> None:
        from simdeck.core import records

        k = 0
        while not done.is_set():
            k += 1
            start = time.perf_counter()
            # A Busy answer means it waited the whole busy timeout: that is its wait.
            with contextlib.suppress(Busy):
                if change == "tags":
                    records.edit_endpoint(actor, other, tags=f"w{k}")
                else:
                    records.edit_endpoint(actor, other, name=f"w{k}")
            waits.append((time.perf_counter() - start) * 1000)
            time.sleep(0.02)

    t1 = threading.Thread(target=bulk)
    t1.start()
    time.sleep(0.05)
    edits()
    t1.join()
    return waits or [0.0]


def import_row(tmp: Path, n: int = 100_000) -> Figure:
    """Import n SIMs from a CSV file, validated, into a database of its own."""
    from simdeck.core.importer import import_sims

    csv_path = tmp / "sims.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["iccid", "imsi", "eid"])
        for i in range(n):
            w.writerow([make_iccid(f"89882{i:013d}"), f"90170{i:010d}", ""])
    samples = []
    for k in range(3):
        db.open_database(str(tmp / f"import{k}.db"))
        models.create_schema()
        actor = auth.login()
        samples.append(timed(lambda a=actor: import_sims(a, csv_path)) / 1000)
        db.database.close()
    med = statistics.median(samples)
    return Figure(f"import {n:,} SIMs from CSV, validated", "≤ 5 s", med, "s",
                  detail="median of 3", meets=med <= 5, samples=samples)


def _sims_csv(path: Path, n: int, as_endpoints: bool = False) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["iccid", "imsi", "eid", *(["name", "tags"] if as_endpoints else [])])
        for i in range(n):
            extra = [f"car {i}", f"fleet-{i % 7}"] if as_endpoints else []
            w.writerow([make_iccid(f"89883{i:013d}"), f"90171{i:010d}", "", *extra])
    return path


def _import_with_an_edit(tmp: Path, csv_path: Path, name: str) -> tuple[float, list[float]]:
    """Import ``csv_path`` as endpoints into a database of its own while another connection
    edits an endpoint every 20 ms: (the longest write transaction of the import, in ms,
    from the moment it holds the lock to its commit; each edit's wait, in ms)."""
    from simdeck.core import importer, records

    db.open_database(str(tmp / name))
    models.create_schema()
    actor = auth.login()
    other = records.create_endpoint(actor, name="another operator's")
    other_id = other.id
    held: list[float] = []
    real = importer.retrying

    def measured(fn: Callable[[], Any]) -> Any:
        began: list[float] = []

        def inside() -> Any:
            began.append(time.perf_counter())  # BEGIN IMMEDIATE has the lock
            return fn()

        out = real(inside)
        held.append((time.perf_counter() - began[-1]) * 1000)
        return out

    waits: list[float] = []
    done = threading.Event()

    def edits() -> None:
        k = 0
        while not done.is_set():
            k += 1
            start = time.perf_counter()
            with contextlib.suppress(Busy):
                records.edit_endpoint(actor, other_id, name=f"edit {k}")
            waits.append((time.perf_counter() - start) * 1000)
            time.sleep(0.02)
        db.database.close()

    importer.retrying = measured  # type: ignore[assignment]
    editor = threading.Thread(target=edits)
    editor.start()
    try:
        report = importer.import_sims(actor, csv_path, as_endpoints=True)
    finally:
        importer.retrying = real
        done.set()
        editor.join()
        db.database.close()
    assert report.imported == report.endpoints > 0, report.lines()
    return max(held), waits or [0.0]


def import_lock_row(tmp: Path, n: int = 200_000) -> Figure:
    """An import of n SIMs as endpoints: the longest write transaction, and how long another
    connection's endpoint edit waits meanwhile; the naive way is the import as one
    transaction (the import before it was chunked)."""
    from simdeck.core import importer

    csv_path = _sims_csv(tmp / "endpoints.csv", n, as_endpoints=True)
    longest, waits = _import_with_an_edit(tmp, csv_path, "import-lock.db")
    chunk = importer.IMPORT_CHUNK
    importer.IMPORT_CHUNK = 10**9
    try:
        whole, whole_waits = _import_with_an_edit(tmp, csv_path, "import-lock-whole.db")
    finally:
        importer.IMPORT_CHUNK = chunk
    return Figure(
        f"import {n:,} SIMs as endpoints: longest write transaction", "≤ 0.5 s",
        longest / 1000, "s",
        detail=(f"another connection's edit meanwhile: median {statistics.median(waits):.0f}"
                f" ms, worst {max(waits):.0f} ms over {len(waits)} edits; as one transaction"
                f" its worst wait was {max(whole_waits) / 1000:.1f} s"),
        naive=whole / 1000, naive_label="one transaction", meets=longest <= 500,
        samples=waits,
    )


def demo_row(path: str, n: int) -> Figure:
    """Build the demo database of n endpoints (one run: it is the database the rest use)."""
    from simdeck.core.demo import build_demo

    db.open_database(path)
    seconds = timed(lambda: build_demo(n)) / 1000
    db.database.close()
    return Figure(f"create the {n:,}-endpoint demo database", "≤ 30 s", seconds, "s",
                  detail="one run", meets=seconds <= 30)


__all__ = ["Figure", "State"]
