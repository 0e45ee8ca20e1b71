"""The console rows of targets.md, measured by driving the real app headless.

Each side runs in its own process (``python -m tests.benchmarks.console_rows``) so the
resident memory is the console's alone: simdeck on the 1,000,000-endpoint database,
then Textual's DataTable loaded with 100,000 rows of the same database, the naive way.
A step is timed from the key press to the last line the list draws for it, after the
rows it must show have arrived from the reader thread.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .core_rows import Figure, p95

ROOT = Path(__file__).resolve().parents[2]


def _rss_mb() -> float:
    """This process's peak resident memory. Linux's ``ru_maxrss`` of a process started by
    another carries the starting process's peak over ``exec`` (the benchmark's, which built
    the demo database: about 490 MB), so the peak of this process's own memory, ``VmHWM``,
    is read where there is one."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _settled(pilot: Any, lst: Any, timeout: float = 10.0) -> None:
    """Until the list shows the rows for where it stands (no read pending, none stale)."""
    deadline = time.monotonic() + timeout
    await pilot.pause()
    while time.monotonic() < deadline:
        if not lst.reading and not lst.stale:
            await pilot.pause()
            return
        await asyncio.sleep(0.001)
    raise TimeoutError("the list did not settle")


async def _simdeck(path: str) -> dict[str, Any]:
    from simdeck.tui.app import SimdeckApp

    out: dict[str, Any] = {}
    starts = []
    for _ in range(3):
        t0 = time.perf_counter()
        app = SimdeckApp(path, poll_interval=3600)
        async with app.run_test(size=(120, 36)) as pilot:
            lst = app.screen.query_one("#endpoints")
            await _settled(pilot, lst)
            starts.append((time.perf_counter() - t0) * 1000)
    out["start"] = starts
    app = SimdeckApp(path, poll_interval=3600)
    async with app.run_test(size=(120, 36)) as pilot:
        lst = app.screen.query_one("#endpoints")
        await _settled(pilot, lst)
        lst.focus()
        # Repaint time: from the key to the last line the list draws for it (Pilot's own
        # wait for idle, which outlasts the detail pane's debounce timer, is not counted).
        drawn = [0.0]
        render_line = lst.render_line

        def timed_render_line(y: int) -> Any:
            strip = render_line(y)
            drawn[0] = time.perf_counter()
            return strip

        lst.render_line = timed_render_line

        async def press(key: str) -> float:
            t0 = time.perf_counter()
            await pilot.press(key)
            await _settled(pilot, lst)
            return (max(drawn[0], t0) - t0) * 1000

        out["cursor"] = [await press("down") for _ in range(300)]
        out["pagedown"] = [await press("pagedown") for _ in range(60)]
        out["end"] = []
        for _ in range(5):
            await press("home")
            out["end"].append(await press("end"))
        await press("home")
        out["keystroke"] = []
        for text in ("8944", "VM-EU", "state:idle", "tag:fleet-b", "WVWZ"):
            await pilot.press("slash")
            for ch in text:
                out["keystroke"].append(await press(ch))
            await pilot.press("ctrl+r")
            await _settled(pilot, lst)
            lst.focus()
        out["rss"] = _rss_mb()
    return out


async def _datatable(path: str, n: int = 100_000) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from simdeck.core import db, queries

    db.open_database(path, read_only=True)
    rows = [(r.iccid, r.name, r.state, r.group, r.tags) for r in
            queries.page(queries.Filter(), "id", limit=n)]
    base = _rss_mb()

    class Naive(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    app = Naive()
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("ICCID", "Name", "State", "Group", "Tags")
        table.add_rows(rows)
        await pilot.pause()
        out["start"] = [(time.perf_counter() - t0) * 1000]
        t0 = time.perf_counter()
        table.clear()
        table.add_rows([r for r in rows if "EU" in r[1]])
        await pilot.pause()
        out["keystroke"] = [(time.perf_counter() - t0) * 1000]
        out["rss_added"] = _rss_mb() - base
    return out


def _run(side: str, path: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.console_rows", side, path],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def all_rows(path: str, tmp: Path) -> list[Figure]:
    """Start, cursor, paging, keystroke and memory rows, each beside the DataTable's."""
    s = _run("simdeck", path)
    d = _run("datatable", path)
    cur = s["cursor"]
    key = s["keystroke"]
    return [
        Figure("start → first page of the list painted", "≤ 1.5 s",
               statistics.median(s["start"]) / 1000, "s", detail="median of 3 starts",
               naive=d["start"][0] / 1000, naive_label="DataTable loaded with 100k rows",
               meets=statistics.median(s["start"]) <= 1500),
        Figure("cursor key → repaint", "median ≤ 16 ms, p99 ≤ 50 ms", statistics.median(cur),
               detail=f"p99 {sorted(cur)[int(len(cur) * 0.99) - 1]:.1f} ms over {len(cur)} keys",
               meets=statistics.median(cur) <= 16
               and sorted(cur)[int(len(cur) * 0.99) - 1] <= 50),
        Figure("Page Down → repaint", "≤ 20 ms", statistics.median(s["pagedown"]),
               detail=f"p95 {p95(s['pagedown']):.1f} ms over {len(s['pagedown'])}",
               meets=statistics.median(s["pagedown"]) <= 20),
        Figure("End → repaint", "≤ 20 ms", statistics.median(s["end"]),
               detail=f"max {max(s['end']):.1f} ms over {len(s['end'])}",
               meets=statistics.median(s["end"]) <= 20),
        Figure("filter/search keystroke → first page painted", "≤ 100 ms p95",
               statistics.median(key), detail=f"p95 {p95(key):.0f} ms over {len(key)} keys",
               naive=d["keystroke"][0], naive_label="DataTable refilter of 100k rows",
               meets=p95(key) <= 100, samples=key),
        Figure("resident memory, 1M endpoints, browsing", "≤ 150 MB", s["rss"], "MB",
               detail="peak RSS of the console process",
               naive=d["rss_added"], naive_label="DataTable 100k rows: memory added",
               meets=s["rss"] <= 150),
    ]


if __name__ == "__main__":
    side, db_path = sys.argv[1], sys.argv[2]
    result = asyncio.run(_simdeck(db_path) if side == "simdeck" else _datatable(db_path))
    print(json.dumps(result))
