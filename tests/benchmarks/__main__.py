"""Every speed row of targets.md, measured in one run: ``python -m tests.benchmarks``.

Builds a fresh 1,000,000-endpoint demo database (or reuses one with --reuse), then
measures the exports (each beside the floor: the store's own export of the same query;
with --pg URL on PostgreSQL too; --only-exports stops there), the read rows (console
and store; --only-console the console's alone), then the rows that write. Prints one
line per row — target, median measured, the naive way or the floor where targets.md
names one, and the ratio — and with --markdown writes the same table for
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import core_rows
from .core_rows import Figure


def machine() -> str:
    """The machine the figures were taken on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    return (f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


def table(figures: list[Figure]) -> list[str]:
    """The report as Markdown table lines."""
    out = ["| Row | Target | Median | | Naive way | Ratio | Notes |",
           "|---|---|---|---|---|---|---|"]
    for f in figures:
        naive = f"{f.naive:,.2f} {f.unit} — {f.naive_label}" if f.naive is not None else ""
        value = f"{f.median:,.2f} {f.unit}" if f.unit == "s" else f"{f.median:,.1f} {f.unit}"
        ok = "meets" if f.meets else "**misses**"
        out.append(f"| {f.row} | {f.target} | {value} | {ok} | {naive} | {f.ratio} | "
                   f"{f.detail} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--endpoints", type=int, default=1_000_000)
    parser.add_argument("--db", help="where to build the database (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="reuse --db if it exists")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--skip-console", action="store_true", help="store rows only")
    parser.add_argument("--only-exports", action="store_true",
                        help="only the export rows (CSV, JSON Lines, a 1M-event audit)")
    parser.add_argument("--only-search", action="store_true",
                        help="only the random search set (first page and counts)")
    parser.add_argument("--pg", metavar="URL",
                        help="also the export rows (or, with --only-search, the search set) on "
                        "this PostgreSQL database (a demo of --endpoints is built there unless "
                        "it holds one)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per export row")
    parser.add_argument("--searches", type=int, default=60, help="size of the search set")
    parser.add_argument("--seed", type=int, default=12, help="seed of the search set")
    parser.add_argument("--only-bulk", action="store_true",
                        help="only the bulk rows and another operator's wait during one; with "
                        "--pg on a copy of that PostgreSQL database alone (pg_copy)")
    parser.add_argument("--only-console", action="store_true",
                        help="only the console rows (start, cursor, paging, End, filter "
                        "keystrokes, memory), each beside Textual's DataTable")
    parser.add_argument("--only-screens", action="store_true",
                        help="only what each screen reads before it shows (screen_rows.py)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="simdeck-bench-"))
    path = args.db or str(tmp / "bench.db")
    started = time.monotonic()
    figures: list[Figure] = []

    def step(label: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {label}", file=sys.stderr, flush=True)

    if args.only_bulk and args.pg:
        from .export_rows import ensure_demo

        ensure_demo(args.pg, args.endpoints)
        with core_rows.pg_copy(args.pg) as work:
            step("another operator during a bulk job, on a copy of the PostgreSQL demo")
            figures.append(core_rows.concurrent_wait_row(work))
            step("bulk suspend / assign-group / terminate, and the ORM way")
            figures += core_rows.bulk_rows(work)
        return report(figures, args.markdown, tmp, started)
    if not (args.reuse and Path(path).exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        step(f"building the {args.endpoints:,}-endpoint demo database")
        figures.append(core_rows.demo_row(path, args.endpoints))
    if args.only_screens:
        from . import screen_rows

        step("each screen's reads, on a copy with 1,000,000 audit events")
        figures += screen_rows.all_rows(path, tmp)
        return report(figures, args.markdown, tmp, started)
    if args.only_console:
        from . import console_rows

        step("console rows (list, cursor, paging, filter, memory, DataTable)")
        figures += console_rows.all_rows(path, tmp)
        return report(figures, args.markdown, tmp, started)
    if args.only_search:
        from . import search_rows

        step("the random search set on SQLite")
        figures += search_rows.search_rows(path, n=args.searches, seed=args.seed)
        if args.pg:
            step("the random search set on PostgreSQL")
            search_rows.ensure_pg_demo(args.pg, args.endpoints)
            figures += search_rows.search_rows(args.pg, label="PostgreSQL", n=args.searches,
                                               seed=args.seed)
        return report(figures, args.markdown, tmp, started)
    from . import export_rows

    step("exports: CSV and JSON Lines of every endpoint, a 1M-event audit, and the floor")
    figures += export_rows.export_rows(path, tmp, repeats=args.repeats)
    if args.pg:
        export_rows.ensure_demo(args.pg, args.endpoints)
        step("the same exports on PostgreSQL")
        figures += export_rows.export_rows(args.pg, tmp, repeats=args.repeats,
                                           store="PostgreSQL")
    if args.only_exports:
        return report(figures, args.markdown, tmp, started)
    if not args.skip_console:
        from . import console_rows

        step("console rows (list, cursor, paging, filter, memory, DataTable)")
        figures += console_rows.all_rows(path, tmp)
    step("counts per state")
    figures.append(core_rows.counts_row(path))
    step("search keystrokes")
    figures.append(core_rows.search_page_row(path))
    step("import of 100,000 SIMs")
    figures.append(core_rows.import_row(tmp))
    step("the write lock during an import of 200,000 SIMs as endpoints")
    figures.append(core_rows.import_lock_row(tmp))
    # The writing rows work on a copy, so --reuse finds the database as built.
    work = str(tmp / "write.db")
    shutil.copy(path, work)
    if args.only_bulk:
        step("another operator during a bulk job (chunked, then one big transaction)")
        figures.append(core_rows.concurrent_wait_row(work))
        step("bulk suspend / assign-group / terminate, and the ORM way")
        figures += core_rows.bulk_rows(work)
        return report(figures, args.markdown, tmp, started)
    step("another operator during a bulk job (chunked, then one big transaction)")
    figures.append(core_rows.concurrent_wait_row(work))
    step("bulk suspend / assign-group / terminate, and the ORM way")
    figures += core_rows.bulk_rows(work)
    if not args.skip_console:
        from .console_bulk import console_bulk_row

        # On a fresh copy: the rows above suspended and terminated part of ``work``.
        shutil.copy(path, work)
        step("bulk suspend of 100,000 marked endpoints through the console")
        figures.append(console_bulk_row(work))
    step("each screen's reads, on a copy with 1,000,000 audit events")
    from . import screen_rows

    figures += screen_rows.all_rows(path, tmp)
    step("done")
    return report(figures, args.markdown, tmp, started)


def report(figures: list[Figure], markdown: str | None, tmp: Path, started: float) -> int:
    """Print the table (and write it to ``markdown``); 0 when every row meets its target."""
    lines = table(figures)
    print("\n".join(lines))
    print(f"\nMachine: {machine()}")
    print(f"Whole run: {time.monotonic() - started:.0f} s")
    if markdown:
        Path(markdown).write_text("\n".join(lines) + f"\n\nMachine: {machine()}\n")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(f.meets for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
