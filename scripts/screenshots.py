"""Render the console's screenshots for the README into ``screenshots/*.svg``.

The demo fleet (core.demo, fixed seed and time) in a scratch database, the console
with a fixed clock and a fixed operator, driven by Textual's pilot, saved with
``save_screenshot``. Run from the repository root:

    python scripts/screenshots.py            # every screenshot
    python scripts/screenshots.py endpoints  # only those whose name contains a word

Look at them with any browser (or ``cairosvg``); librsvg drops the leading spaces of
Textual's text runs, so ``rsvg-convert`` shows columns a little off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from textual.widgets import Input  # noqa: E402

from simdeck.core import db  # noqa: E402
from simdeck.core.demo import build_demo  # noqa: E402
from simdeck.tui.app import SimdeckApp  # noqa: E402
from simdeck.tui.widgets.virtual_list import VirtualList  # noqa: E402

OUT = ROOT / "screenshots"
NOW = dt.datetime(2025, 11, 21, 9, 30, tzinfo=dt.UTC)
OPERATOR = "alice"
ENDPOINTS = 2000

Step = Callable[[Any], Awaitable[None]]


async def settle(pilot: Any, timeout: float = 10.0) -> None:
    """Until the reader thread and the list have nothing left to do."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 3:
        await pilot.pause(0.02)
        try:
            vlist = app.screen.query_one("#endpoints", VirtualList)
        except Exception:
            quiet = 0
            continue
        screen = vlist.screen
        busy = (
            not app.reader.idle
            or vlist.reading
            or vlist.count is None
            or vlist.stale
            or getattr(screen, "_detail_timer", None) is not None
        )
        quiet = 0 if busy else quiet + 1
    await pilot.pause()


async def browse(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("down", "down", "down", "down", "down", "down", "down")
    await settle(pilot)


async def search(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("slash")
    pilot.app.screen.query_one("#filter-search", Input).insert_text_at_cursor(
        "state:active tag:model:id4 -group:vantiq-connect-us"
    )
    await settle(pilot)
    await pilot.press("escape", "down", "down", "space", "space", "space")
    await settle(pilot)


async def detail_below(pilot: Any) -> None:
    await browse(pilot)
    await pilot.press("d")
    await settle(pilot)


async def keys(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause(0.2)


async def recent_first(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("s", "s", "s", "s")  # name → state → group → tags → last activity
    await pilot.press("r")
    await settle(pilot)
    await pilot.press("home", "down", "down", "down")
    await settle(pilot)


async def actions_menu(pilot: Any) -> None:
    await browse(pilot)
    await pilot.press("a")
    await pilot.pause(0.3)


async def bulk_result(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("slash")
    pilot.app.screen.query_one("#filter-search", Input).insert_text_at_cursor("tag:model:id4")
    await settle(pilot)
    await pilot.press("escape", "asterisk", "u")
    await pilot.pause(1.0)
    await pilot.press("enter")  # Yes
    await pilot.pause(3.0)


def other_screen(key: str) -> Step:
    async def step(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause(1.5)
        await pilot.press("down", "down")
        await pilot.pause(0.5)

    return step


#: In this order, on one database: the bulk suspend comes last, as its job and its
#: endpoints' activity carry the real time, which the fixed clock would show "in future".
SHOTS: list[tuple[str, tuple[int, int], Step]] = [
    ("actions-menu-120x36", (120, 36), actions_menu),
    ("sims-120x36", (120, 36), other_screen("2")),
    ("groups-120x36", (120, 36), other_screen("3")),
    ("audit-120x36", (120, 36), other_screen("4")),
    ("jobs-120x36", (120, 36), other_screen("5")),
    ("endpoints-120x36", (120, 36), browse),
    ("endpoints-search-and-marks-120x36", (120, 36), search),
    ("endpoints-80x24", (80, 24), browse),
    ("endpoints-detail-80x24", (80, 24), detail_below),
    ("keys-120x36", (120, 36), keys),
    ("endpoints-recent-first-200x60", (200, 60), recent_first),
    ("bulk-suspend-result-120x36", (120, 36), bulk_result),
]


def make_database(directory: Path) -> str:
    """The demo fleet in ``directory``/simdeck.db (a path shown short in the top bar)."""
    os.chdir(directory)
    db.open_database("simdeck.db")
    summary = build_demo(ENDPOINTS, seed=7, now=NOW, operator=OPERATOR)
    print("\n".join(summary.lines()))
    db.database.close()
    return "simdeck.db"


async def shoot(url: str, name: str, size: tuple[int, int], step: Step) -> Path:
    app = SimdeckApp(url, clock=lambda: NOW, user=OPERATOR)
    async with app.run_test(size=size) as pilot:
        await step(pilot)
        path = app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    return Path(path)


def main(argv: list[str]) -> int:
    wanted = [s for s in SHOTS if not argv or any(word in s[0] for word in argv)]
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        url = make_database(Path(scratch))
        for name, size, step in wanted:
            print("wrote", asyncio.run(shoot(url, name, size, step)).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
