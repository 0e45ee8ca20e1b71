"""The export rows of targets.md, each beside the store's own speed (the floor).

Each export runs as the command an operator types (``simdeck export all.csv``,
``simdeck audit --limit 0 --format csv > audit.csv``) in a process of its own, timed
from start to exit, its peak resident memory read from the kernel. In the same run, the
floor reads the same columns of the same query with nothing between the driver and the
file: the plain ``sqlite3`` module's cursor into ``csv.writer`` (SQLite), or ``COPY
(query) TO STDOUT`` (PostgreSQL). Medians of ``repeats`` runs, the floor and the export
taking turns so a busy machine slows both alike.

``python -m tests.benchmarks.export_rows DB [--pg URL]`` runs them alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from simdeck.core import db
from simdeck.core import export as core_export
from simdeck.core.queries import AuditFilter, Filter

from .core_rows import Figure

#: How many audit events the audit row exports; the demo has about a tenth of that.
AUDIT_EVENTS = 1_000_000
#: The most memory any export may hold (targets.md).
MEMORY_MB = 100

_SQLITE_FLOOR = r"""
import csv, sqlite3, sys, json
conn = sqlite3.connect(sys.argv[1])
cursor = conn.execute(sys.argv[2], json.loads(sys.argv[3]))
with open(sys.argv[4], "w", newline="", encoding="utf-8") as fh:
    writer = csv.writer(fh, lineterminator="\n")
    while rows := cursor.fetchmany(2000):
        writer.writerows(rows)
"""

_PG_FLOOR = r"""
import sys, psycopg
with psycopg.connect(sys.argv[1]) as conn, open(sys.argv[3], "wb") as fh:
    with conn.cursor().copy("COPY (" + sys.argv[2] + ") TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            fh.write(block)
"""


# Runs a command and reports its wall time and peak memory. The command is started from
# this small process, not from the benchmark's: Linux carries a process's peak resident
# memory across exec, so a child forked from a large parent would report the parent's.
_TIMER = r"""
import os, subprocess, sys, time
out = open(sys.argv[1], "wb") if sys.argv[1] != "-" else subprocess.DEVNULL
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
if code:
    sys.stderr.write(proc.stderr.read().decode())
    sys.exit(code)
print(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
"""


#: (wall seconds, peak resident memory in MB, CPU seconds: user and system)
Timed = tuple[float, float, float]


def run_timed(args: list[str], stdout: Path | None = None) -> Timed:
    """Run a command to its end: its wall time, peak resident memory and CPU time.

    The CPU time is what a machine with a core to spare for it would take at least; on
    a shared machine the wall time is longer by the time others had the cores."""
    done = subprocess.run([sys.executable, "-c", _TIMER, str(stdout or "-"), *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])}… failed ({done.returncode}): {done.stderr}")
    seconds, peak, cpu = done.stdout.split()
    return float(seconds), float(peak), float(cpu)


def simdeck(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "simdeck.tui.cli", "--db", url, *args]


def _sql(url: str, build: Callable[[], object]) -> tuple[str, list[object]]:
    """The SQL and parameters of a core query, rendered for the store at ``url``."""
    db.open_database(url, read_only=True)
    try:
        sql, params = build().sql()  # type: ignore[attr-defined]
        return sql, list(params)
    finally:
        db.database.close()


def floor_command(url: str, sql: str, params: list[object], target: Path) -> list[str]:
    """The plain export of the same query: the driver's cursor or COPY, straight to a file."""
    import json

    if db.is_postgres(url):
        import psycopg

        with psycopg.connect(url) as conn:
            literal = psycopg.ClientCursor(conn).mogrify(sql, params)
        return [sys.executable, "-c", _PG_FLOOR, url, literal, str(target)]
    return [sys.executable, "-c", _SQLITE_FLOOR, url, sql, json.dumps(params), str(target)]


def measure(label: str, target_s: float, ours: Callable[[], Timed],
            floor: Callable[[], Timed] | None, repeats: int, *,
            floor_label: str, max_ratio: float | None = 3.0) -> Figure:
    """Median of ``repeats`` runs of ``ours`` (and of the floor, taking turns)."""
    times, peaks, cpus, floors, floor_cpus = [], [], [], [], []
    for _ in range(repeats):
        if floor is not None:
            floor_seconds, _, floor_cpu = floor()
            floors.append(floor_seconds)
            floor_cpus.append(floor_cpu)
        seconds, peak, cpu = ours()
        times.append(seconds)
        peaks.append(peak)
        cpus.append(cpu)
    med = statistics.median(times)
    base = statistics.median(floors) if floors else None
    ratio = med / base if base else None
    meets = med <= target_s and max(peaks) <= MEMORY_MB
    if ratio is not None and max_ratio is not None:
        meets = meets and ratio <= max_ratio
    runs = ", ".join(f"{t:.1f}" for t in times)
    return Figure(
        label, f"≤ {target_s:g} s" + (f", ≤ {max_ratio:g}× the floor" if max_ratio else "")
        + f", ≤ {MEMORY_MB} MB", med, "s",
        detail=f"runs {runs} s; peak RSS {max(peaks):.0f} MB"
        + (f"; {ratio:.1f}× the floor" if ratio else "")
        + f"; CPU {statistics.median(cpus):.2f} s"
        + (f" (floor {statistics.median(floor_cpus):.2f} s)" if floor_cpus else ""),
        naive=base, naive_label=floor_label, meets=meets, samples=times, floor=True,
    )


def add_audit_events(url: str, wanted: int) -> int:
    """Make the audit trail ``wanted`` events long, in bulk, by repeating the demo's own
    events with later ids; returns the id of the last event before them."""
    db.open_database(url)
    try:
        last = int(db.database.execute_sql("SELECT COALESCE(MAX(id), 0) FROM audit_event")
                   .fetchone()[0])
        have = int(db.database.execute_sql("SELECT COUNT(*) FROM audit_event").fetchone()[0])
        missing = wanted - have
        cols = "at, actor, action, endpoint_id, iccid, from_state, to_state, detail, job_id"
        while missing > 0:
            take = min(missing, have)
            with db.database.atomic():
                db.database.execute_sql(
                    f"INSERT INTO audit_event ({cols}) SELECT {cols} FROM audit_event "
                    f"WHERE id <= {last} ORDER BY id LIMIT {take}")
            missing -= take
        if db.is_sqlite():  # as a store that has been running a while: the WAL moved in
            db.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return last
    finally:
        db.database.close()


def remove_audit_events(url: str, after: int) -> None:
    db.open_database(url)
    try:
        with db.database.atomic():
            db.database.execute_sql(f"DELETE FROM audit_event WHERE id > {after}")
    finally:
        db.database.close()


def export_rows(url: str, tmp: Path, *, repeats: int = 3, store: str = "SQLite") -> list[Figure]:
    """CSV and JSONL exports of every endpoint and the CSV of a 1M-event audit trail."""
    out = tmp / "exports"
    out.mkdir(exist_ok=True)
    figures = []
    sql, params = _sql(url, lambda: core_export.endpoint_query(Filter()))
    floor_csv = out / "floor.csv"
    floor_label = ("`COPY (same query) TO STDOUT`" if db.is_postgres(url)
                   else "plain `sqlite3` cursor → `csv.writer`, same query")

    def floor() -> Timed:
        return run_timed(floor_command(url, sql, params, floor_csv))

    n = _count(url)
    figures.append(measure(
        f"{store}: export {n:,} endpoints, CSV with IMSIs and EID", 10,
        lambda: run_timed(simdeck(url, "export", str(out / "all.csv"))), floor, repeats,
        floor_label=floor_label))
    figures.append(measure(
        f"{store}: export {n:,} endpoints, JSON Lines", 15,
        lambda: run_timed(simdeck(url, "export", str(out / "all.jsonl"))), floor, repeats,
        floor_label=floor_label + " (CSV)", max_ratio=None))

    work = url
    if not db.is_postgres(url):
        work = str(tmp / "audit.db")
        shutil.copy(url, work)
    last = add_audit_events(work, AUDIT_EVENTS)
    try:
        audit_sql, audit_params = _sql(work, lambda: core_export.audit(AuditFilter()).query)

        def audit_floor() -> Timed:
            return run_timed(floor_command(work, audit_sql, audit_params, out / "floor-a.csv"))

        figures.append(measure(
            f"{store}: `audit --limit 0 --format csv` of {AUDIT_EVENTS:,} events", 10,
            lambda: run_timed(simdeck(work, "audit", "--limit", "0", "--format", "csv"),
                              stdout=out / "audit.csv"),
            audit_floor, repeats, floor_label=floor_label))
    finally:
        if db.is_postgres(url):
            remove_audit_events(url, last)
        else:
            Path(work).unlink(missing_ok=True)
    for f in out.iterdir():
        f.unlink()
    return figures


def ensure_demo(url: str, endpoints: int) -> None:
    """Build the demo at ``url`` (PostgreSQL) unless it already holds endpoints."""
    try:
        if _count(url) > 0:
            return
    except Exception:  # no schema yet: the demo creates it
        db.database.close()
    subprocess.run(simdeck(url, "demo", "--endpoints", str(endpoints), "--no-tui"),
                   check=True, stdout=subprocess.DEVNULL)


def _count(url: str) -> int:
    db.open_database(url, read_only=True)
    try:
        return int(db.database.execute_sql("SELECT COUNT(*) FROM endpoint").fetchone()[0])
    finally:
        db.database.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.export_rows",
                                     description=__doc__)
    parser.add_argument("db", help="a built demo database (SQLite path)")
    parser.add_argument("--pg", metavar="URL",
                        help="also a PostgreSQL database (the demo is built there if empty)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"simdeck-export-bench-{os.getpid()}"
    tmp.mkdir()
    try:
        figures = export_rows(args.db, tmp, repeats=args.repeats)
        if args.pg:
            ensure_demo(args.pg, _count(args.db))
            figures += export_rows(args.pg, tmp, repeats=args.repeats, store="PostgreSQL")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from .__main__ import table

    print("\n".join(table(figures)))
    return 0 if all(f.meets for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
