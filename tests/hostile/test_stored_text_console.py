"""Stored text in the console: every screen walked with Textual's pilot on a fleet whose
every text field holds the STORED_TEXT corpus. No screen crashes, no markup in the data
is obeyed, and what the operator sees shows each control sequence as an escape
(``\\e]52``) instead of sending it to the terminal."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from simdeck.core import auth, db
from simdeck.core.models import Endpoint
from simdeck.core.sanitize import printable
from simdeck.tui.app import SimdeckApp
from simdeck.tui.screens import endpoints as endpoints_module
from simdeck.tui.screens.audit import AuditScreen
from simdeck.tui.screens.dialogs import ActionsMenu, ConfirmScreen, GroupPicker
from simdeck.tui.screens.forms import EditEndpointForm
from simdeck.tui.screens.groups import GroupForm, GroupsScreen
from simdeck.tui.screens.jobs import JobsScreen
from simdeck.tui.screens.progress import ExportScreen
from simdeck.tui.screens.sims import SimsScreen
from tests.hostile import stored
from tests.hostile.corpus import STORED_TEXT
from tests.tui.conftest import NOW, at_rest, dialog, endpoints_screen, notes, settle, wait_for

CASES = {c["id"]: c for c in STORED_TEXT}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> stored.StoredFleet:
    folder = tmp_path_factory.mktemp("stored-console")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "os_user", lambda: "admin")
        return stored.build(folder / "template.db", folder)


@pytest.fixture
def fleet_db(template: stored.StoredFleet, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A copy of the hostile fleet; a console with no animation and no blinking cursor."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(endpoints_module, "DETAIL_DEBOUNCE", 0.01)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "simdeck.db"
    shutil.copyfile(template.path, path)
    yield str(path)
    if db.database.obj is not None:
        db.database.close()


def console(path: str) -> SimdeckApp:
    return SimdeckApp(path, clock=lambda: NOW, user="admin", poll_interval=0.25)


def seen(app: Any) -> str:
    """Everything on the terminal now, as the operator reads it (dialogs and
    notifications included): the screen's composed lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def assert_safe(app: Any, where: str, *shown: str) -> str:
    """The console is running, emits no control character, and shows each of ``shown``."""
    assert app.is_running, f"{where}: the console stopped"
    text = seen(app)
    stored.assert_nothing_emitted(text, where)
    for part in shown:
        assert part in text, f"{where}: {part!r} not on screen"
    return text


async def click_on(pilot: Any, text: str) -> None:
    """Click on ``text`` where the screen shows it."""
    for y, line in enumerate(seen(pilot.app).splitlines()):
        x = line.find(text)
        if x >= 0:
            await pilot.click(offset=(x + 1, y))
            await pilot.pause(0.2)
            return
    raise AssertionError(f"{text!r} is not on screen")


async def to_row(pilot: Any, screen: Any, name: str) -> None:
    """The cursor on the endpoint named ``name`` (the list is short)."""
    await pilot.press("home")
    await settle(pilot)
    for _ in STORED_TEXT:
        row = screen.endpoint_list.cursor_row
        if row is not None and row.name == name:
            return
        await pilot.press("down")
        await settle(pilot)
    raise AssertionError(f"no endpoint named {name!r}")


async def test_endpoints_list_detail_and_dialogs(fleet_db: str) -> None:
    app = console(fleet_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        if not screen.query_one("#detail").display:
            await pilot.press("d")
        assert_safe(app, "Endpoints", "batch \\e]52;", "c1 \\x9b31m red", "Truck [/] 7",
                    "[@click=app.quit]", "[bold red]ALERT", "invoice \\u202efdp.exe")
        by_text = {c["text"]: c for c in STORED_TEXT}
        for n in range(len(STORED_TEXT)):
            if n:
                await pilot.press("down")
            await settle(pilot)
            row = screen.endpoint_list.cursor_row
            assert row is not None
            case = by_text[row.name]
            await wait_for(pilot, lambda case=case: case["shown"] in seen(app))
            # The list, the detail (name, reference, tags, group, its description,
            # the history with its details): all drawn, none obeyed.
            assert_safe(app, f"Endpoints detail {case['id']}", case["shown"],
                        "Depot " + printable(case["text"])[:10])
        await click_on(pilot, "[@click=app.quit]")
        assert_safe(app, "Endpoints after a click on [@click=app.quit]")
        await to_row(pilot, screen, CASES["osc52-clipboard"]["text"])
        for key, kind in (("a", ActionsMenu), ("e", EditEndpointForm), ("A", GroupPicker)):
            await pilot.press(key)
            await dialog(pilot, kind)
            await pilot.pause()
            assert_safe(app, f"dialog {kind.__name__}", "\\e]52;c;ZXZpbA==")
            await pilot.press("escape")
            await wait_for(pilot, lambda kind=kind: not isinstance(app.screen, kind))
        await pilot.press("t")
        await dialog(pilot, ConfirmScreen)
        await pilot.pause()
        assert_safe(app, "terminate dialog", "\\e]52;c;ZXZpbA==")
        await pilot.press("escape")


async def test_an_endpoint_named_with_markup_is_saved_and_shown(fleet_db: str) -> None:
    """The edit form saves ``Truck [/] 7``; the list, the detail and the notification show
    it; nothing raises a MarkupError."""
    app = console(fleet_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        await pilot.press("end")
        await settle(pilot)
        row = screen.endpoint_list.cursor_row
        assert row is not None
        await pilot.press("e")
        form = await dialog(pilot, EditEndpointForm)
        name = form.field("name").input
        name.value = "Truck [/] 7 [@click=app.quit]x[/]"
        # The stored tags are not valid tags (shown escaped, they hold a backslash).
        form.field("tags").input.value = "fleet-a"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, EditEndpointForm))
        await settle(pilot)
        assert Endpoint.get_by_id(row.id).name == "Truck [/] 7 [@click=app.quit]x[/]"
        await wait_for(pilot, lambda: "Truck [/] 7 [@click=app.quit]x[/]" in notes(app))
        assert_safe(app, "after the save", "Truck [/] 7 [@click=app.quit]x[/]")


async def test_sims_screen(fleet_db: str) -> None:
    app = console(fleet_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, SimsScreen) and app.screen)
        await at_rest(pilot, screen)
        assert_safe(app, "SIMs", "\\e]52;c;ZXZpbA==", "Truck [/] 7")
        for _ in STORED_TEXT:
            await pilot.press("down")
            await at_rest(pilot, screen)
            assert_safe(app, "SIMs detail")


async def test_groups_screen_and_its_dialogs(fleet_db: str) -> None:
    app = console(fleet_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, GroupsScreen) and app.screen._loaded
            and app.screen)
        await pilot.pause()
        table = screen.query_one("#groups-table", DataTable)
        assert table.row_count == len(STORED_TEXT) + 1
        assert_safe(app, "Groups", "Depot Truck [/] 7 north", "[@click=app.quit]quit[/]",
                    "Depot batch \\e]52;c;ZXZpbA==\\x07.csv north", "[bold red]ALERT")
        # Markup in a description is text: a click on it runs nothing.
        await click_on(pilot, "[@click=app.quit]")
        assert_safe(app, "Groups after a click on [@click=app.quit]")
        # Its form quotes the name (deleting a group that endpoints hold is not offered,
        # so there is no delete dialog to look at).
        index = [g["name"] for g in screen.groups].index(CASES["osc52-clipboard"]["text"])
        table.move_cursor(row=index)
        await pilot.pause()
        for key, kind in (("e", GroupForm),):
            await pilot.press(key)
            await dialog(pilot, kind)
            await pilot.pause()
            assert_safe(app, f"Groups {kind.__name__}", "\\e]52;c;ZXZpbA==")
            await pilot.press("escape")
            await wait_for(pilot, lambda kind=kind: not isinstance(app.screen, kind))


async def test_audit_screen_shows_the_batch_file_name_as_text(fleet_db: str) -> None:
    app = console(fleet_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen) and app.screen)
        await at_rest(pilot, screen)
        # The newest event: the SIM batch whose file name holds OSC 52.
        assert_safe(app, "Audit", "batch \\e]52;c;ZXZpbA==\\x07.csv")
        for _ in range(2 * len(STORED_TEXT) + 2):
            await pilot.press("down")
            await at_rest(pilot, screen)
            assert_safe(app, "Audit detail")


async def test_jobs_screen_shows_the_stored_search_as_text(fleet_db: str) -> None:
    app = console(fleet_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen)
        await wait_for(pilot, lambda: screen._loaded)
        await pilot.pause()
        assert_safe(app, "Jobs", "\\e]0;owned\\x07 title", "skipped: Truck [/] 7")
        await pilot.press("X")
        await dialog(pilot, ExportScreen)
        await pilot.pause()
        assert_safe(app, "Jobs export")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen))
        written = Path("skipped-job-1.csv").read_text(encoding="utf-8")
        stored.assert_defused(stored.csv_cells(written), "the console's skipped export")
