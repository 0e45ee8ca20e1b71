"""A bulk suspend of 100,000 marked endpoints through the console, timed headless.

The same flow an operator runs: the Endpoints screen with 100,000 endpoints marked,
``u``, the preview's confirmation, Yes, the progress dialog, the result. Timed from the
key that confirms to the result on screen (the preview before it is reported beside).
It changes the database: give it the copy the writing rows use.

``python -m tests.benchmarks.console_bulk DB`` runs it alone.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from .core_rows import Figure

#: How many endpoints are marked and suspended.
N = 100_000


def _live_ids(path: str, n: int) -> list[int]:
    from simdeck.core import db
    from simdeck.core.models import Endpoint

    db.open_database(path)
    try:
        return [i for (i,) in Endpoint.select(Endpoint.id)
                .where(Endpoint.state.in_(("active", "idle", "detached")))
                .order_by(Endpoint.id).limit(n).tuples()]
    finally:
        db.database.close()


async def _until(pilot: Any, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.002)
    raise TimeoutError("the console did not get there in time")


async def _run(path: str, ids: list[int]) -> dict[str, Any]:
    from textual.widgets import ProgressBar

    from simdeck.tui.app import SimdeckApp
    from simdeck.tui.marks import Marks
    from simdeck.tui.screens.dialogs import ConfirmScreen
    from simdeck.tui.screens.endpoints import EndpointsScreen
    from simdeck.tui.screens.progress import ProgressScreen

    app = SimdeckApp(path, poll_interval=3600)
    seen: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _until(pilot, lambda: isinstance(app.screen, EndpointsScreen)
                              and app.screen.endpoint_list.count is not None and app.screen,
                              60)
        screen.marks = Marks(ids=frozenset(ids))
        await pilot.pause()
        t0 = time.perf_counter()
        await pilot.press("u")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 120)
        preview = time.perf_counter() - t0
        t1 = time.perf_counter()
        await pilot.press("enter")
        progress = await _until(
            pilot, lambda: isinstance(app.screen, ProgressScreen) and app.screen, 60
        )
        while not progress.finished:
            bar = progress.query_one(ProgressBar)
            if not seen or bar.progress != seen[-1]:
                seen.append(bar.progress)
            await asyncio.sleep(0.005)
        await pilot.pause()
        shown = time.perf_counter() - t1
        result = progress.result
    return {"preview": preview, "run": shown, "bar_values": len(set(seen)),
            "applied": result.applied if result else 0}


def console_bulk_row(path: str) -> Figure:
    """Bulk suspend of 100,000 marked endpoints in the console: confirm → result shown."""
    ids = _live_ids(path, N)
    out = asyncio.run(_run(path, ids))
    seconds = out["run"]
    return Figure(
        f"console: bulk suspend of {len(ids):,} marked, confirm → result shown", "≤ 2 s",
        seconds, "s",
        detail=f"preview {out['preview']:.2f} s before it; {out['applied']:,} applied; "
               f"the bar drawn at {out['bar_values']} values",
        meets=seconds <= 2 and out["applied"] == len(ids),
    )


if __name__ == "__main__":
    figure = console_bulk_row(sys.argv[1])
    print(f"{figure.row}: {figure.median:.2f} {figure.unit} ({figure.detail})")
