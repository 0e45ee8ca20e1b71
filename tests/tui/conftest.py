"""Console fixtures: no animations, a fresh copy of a fixed fleet per test, a fixed clock,
and ``settle`` to wait until the reader thread and the screen have nothing left to do;
then the helpers every console test module shares (the list as drawn, the search box,
dialogs, notifications), so no module copies or imports another's."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from simdeck.core import db, queries
from simdeck.core.identifiers import make_iccid
from simdeck.core.models import Endpoint, Operator
from simdeck.core.queries import Filter, Row
from simdeck.tui.app import SimdeckApp
from simdeck.tui.screens import endpoints as endpoints_module
from simdeck.tui.screens.endpoints import DEFAULT_SORT, EndpointsScreen
from simdeck.tui.widgets.filter_bar import FilterBar
from simdeck.tui.widgets.virtual_list import VirtualList
from tests.tui import fleet

NOW = fleet.NOW


@pytest.fixture(autouse=True)
def _quiet_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No animations and no blinking cursor: every frame is the same on every run."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setattr(Input, "cursor_blink", False)
    # The detail waits for the cursor to rest; tests rest at once.
    monkeypatch.setattr(endpoints_module, "DETAIL_DEBOUNCE", 0.01)
    yield
    if db.database.obj is not None:
        db.database.close()


def _template(factory: pytest.TempPathFactory, name: str, extra: int) -> Path:
    path = factory.mktemp("fleet") / name
    fleet.build(path, extra=extra)
    return path


@pytest.fixture(scope="session")
def fleet_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixed fleet, built once per run through core."""
    return _template(tmp_path_factory, "fleet.db", 0)


@pytest.fixture(scope="session")
def big_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fleet and 3,000 more endpoints, for moving at depth."""
    return _template(tmp_path_factory, "big.db", 3000)


@pytest.fixture
def fleet_db(tmp_path: Path, fleet_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh copy of the fleet, named ``fleet.db`` in the working directory."""
    shutil.copy(fleet_template, tmp_path / "fleet.db")
    monkeypatch.chdir(tmp_path)
    return "fleet.db"


@pytest.fixture
def big_db(tmp_path: Path, big_template: Path) -> str:
    """A fresh copy of the big fleet."""
    shutil.copy(big_template, tmp_path / "big.db")
    return str(tmp_path / "big.db")


@pytest.fixture
def make_app() -> Callable[..., SimdeckApp]:
    """An app on a database, with the fixed clock and the fleet's admin."""

    def make(url: str, **kw: Any) -> SimdeckApp:
        kw.setdefault("clock", lambda: NOW)
        kw.setdefault("user", fleet.USER)
        # Looks for changes four times as often as the real console, so tests wait less;
        # the live-refresh test of the two-second promise uses the real interval.
        kw.setdefault("poll_interval", 0.25)
        return SimdeckApp(url, **kw)

    return make


def endpoints_screen(app: SimdeckApp) -> EndpointsScreen:
    """The Endpoints screen, even under a dialog or behind another screen."""
    for screen in app.all_screens():
        if isinstance(screen, EndpointsScreen):
            return screen
    raise AssertionError("no Endpoints screen")


def busy(app: SimdeckApp) -> str:
    """What the console is still doing ('' when nothing)."""
    if app.actor is None:
        return "logging in"
    screen = endpoints_screen(app)
    vlist = screen.query_one(VirtualList)
    if not app.reader.idle:
        return "reader busy"
    if vlist.reading or vlist.count is None or vlist._stale:
        return "list loading"
    if screen.debouncing("detail"):
        return "detail waiting"
    if screen.query_one(FilterBar).debouncing("search"):
        return "search debounce"
    return ""


async def settle(pilot: Pilot[Any], timeout: float = 15.0) -> None:
    """Wait until the reader, the list, the detail and the search box are all at rest."""
    app: Any = pilot.app
    deadline = time.monotonic() + timeout
    quiet = 0
    doing = "starting"
    while time.monotonic() < deadline:
        await pilot.pause(0.01)
        doing = busy(app)
        quiet = quiet + 1 if not doing else 0
        if quiet >= 2:
            await pilot.pause()
            return
    raise AssertionError(f"the console did not settle: {doing}")


async def wait_for(pilot: Pilot[Any], check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it is truthy (returns its value) or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await pilot.pause(0.02)
    raise AssertionError("condition not met in time")


# --- shared by the console's test modules ---------------------------------------------

def the_list(app: Any) -> VirtualList:
    return endpoints_screen(app).query_one("#endpoints", VirtualList)


def shown_ids(app: Any) -> list[int]:
    return [row.id for row in the_list(app).visible_rows()]


def expected(sort: str = DEFAULT_SORT, descending: bool = False, f: Filter | None = None,
             limit: int = 100_000) -> list[Row]:
    return queries.page(f or Filter(), sort, limit=limit, descending=descending)


def shown_matches(app: Any, rows: list[Row]) -> bool:
    """The rows on screen are the database's rows from the list's scroll position."""
    top = int(the_list(app).scroll_y)
    ids = shown_ids(app)
    return bool(ids) and ids == [r.id for r in rows[top : top + len(ids)]]


def screen_text(app: Any) -> str:
    vlist = the_list(app)
    return "\n".join(vlist.render_line(y).text for y in range(vlist.size.height))


#: Three Ready to Activate SIMs added to the fleet's pool.
POOL = tuple(make_iccid(f"8949{n:014d}") for n in (901, 902, 903))


@pytest.fixture
def pool_db(fleet_db: str) -> str:
    """The fleet with three SIMs in the pool and a viewer, ``vera``."""
    db.open_database(fleet_db)
    for n in (901, 902, 903):
        fleet._sim(n, esim=n == 902, imsis=1)
    Operator.create(username="vera", role="viewer", created_by=fleet.USER)
    db.database.close()
    return fleet_db


def state_of(name: str) -> str:
    return str(Endpoint.get(Endpoint.name == name).state)


def notes(app: Any) -> str:
    return "\n".join(f"{n.title} {n.message}" for n in app._notifications)


async def search(pilot: Any, text: str) -> None:
    """Type ``text`` into the search box at once, then back to the list."""
    await settle(pilot)
    await pilot.press("slash")
    box = pilot.app.screen.query_one("#filter-search", Input)
    box.value = ""
    box.insert_text_at_cursor(text)
    await pilot.press("escape")
    await settle(pilot)


async def on_endpoint(pilot: Any, name: str) -> None:
    """Filter the list to one endpoint, cursor on it."""
    await search(pilot, name)
    row = endpoints_screen(pilot.app).endpoint_list.cursor_row
    assert row is not None and row.name == name


async def dialog(pilot: Any, kind: type) -> Any:
    return await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind) and pilot.app.screen)


async def at_rest(pilot: Pilot[Any], screen: Any) -> None:
    """Until a screen's filter has applied and its list has read and counted."""
    await wait_for(pilot, lambda: not screen.busy and pilot.app.reader.idle, timeout=5)
    await pilot.pause()
