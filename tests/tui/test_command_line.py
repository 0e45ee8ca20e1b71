"""The ``:`` command line, ``o`` + a column letter, ``y`` + i/e/m, and the search box's
keys (``/``, history on ↑/↓, Ctrl+r, ↓ on a closed dropdown)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import Input, Select

from simdeck.core import db, queries
from simdeck.core.models import SavedView
from simdeck.core.queries import Filter
from simdeck.tui.screens.command_line import CommandLine, completions
from simdeck.tui.screens.sims import SimsScreen
from tests.tui import fleet
from tests.tui.conftest import (
    dialog,
    endpoints_screen,
    expected,
    notes,
    search,
    settle,
    the_list,
    wait_for,
)


async def command(pilot: Any, text: str) -> None:
    await pilot.press("colon")
    line = await dialog(pilot, CommandLine)
    line.line.value = text
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, CommandLine))
    await pilot.pause(0.1)


def test_completion_lists_commands_columns_and_views() -> None:
    assert completions("s", []) == ["sims", "settings", "sort", "save"]
    assert completions("sort la", []) == ["sort last_activity"]
    assert completions("sort name d", []) == ["sort name desc"]
    assert completions("view ea", ["east", "eu-idle", "Early"]) == ["view east", "view Early"]
    assert completions("zz", []) == []


async def test_colon_sims_opens_the_sim_inventory(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        line = await dialog(pilot, CommandLine)
        await pilot.press("s", "i", "tab")
        assert line.line.value == "sims"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SimsScreen))
        await command(pilot, "endpoints")
        assert app.screen is endpoints_screen(app)


async def test_unknown_command_and_missing_screen_say_so(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await command(pilot, "frobnicate")
        assert ":frobnicate: no such command" in notes(app)
        if "settings" not in app.MODES:
            await command(pilot, "settings")
            assert ":settings: no such screen" in notes(app)
        await command(pilot, "sort colour")
        assert ":sort colour: not a column" in notes(app)
        assert app.screen is endpoints_screen(app)


async def test_colon_sort_and_o_letter_sort_the_list(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        await command(pilot, "sort last_activity desc")
        await settle(pilot)
        assert (screen.sort, screen.descending) == ("last_activity", True)
        assert "Last activity ▼" in screen.status_text()
        await pilot.press("o", "i")
        await settle(pilot)
        assert (screen.sort, screen.descending) == ("iccid", False)
        assert "ICCID ▲" in screen.status_text()
        await pilot.press("o", "i", "g", "g")
        await settle(pilot)
        assert (screen.sort, screen.descending) == ("iccid", True)
        assert [r.id for r in the_list(app).visible_rows()[:5]] == [
            r.id for r in expected("iccid", True)[:5]]


async def test_colon_export_writes_the_current_view(
    fleet_db: str, make_app: Any, tmp_path: Path
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        endpoints_screen(app).set_filter(Filter(states=("idle",)))
        await settle(pilot)
        await command(pilot, f"export {tmp_path}/idle.csv")
        await wait_for(pilot, lambda: "Wrote 5 endpoints" in notes(app), timeout=5)
        await command(pilot, "export /nonexistent/dir/x.csv")
        await wait_for(pilot, lambda: "cannot write /nonexistent/dir/x.csv" in notes(app))
    rows = list(csv.DictReader((tmp_path / "idle.csv").open()))
    assert [r["state"] for r in rows] == ["idle"] * 5


async def test_save_and_view_keep_filter_and_sort_in_the_database(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        screen.set_filter(Filter(states=("suspended",)))
        await settle(pilot)
        await command(pilot, "sort name desc")
        await command(pilot, "save my suspended")
        await wait_for(pilot, lambda: "Saved the view my suspended" in notes(app))
        await pilot.press("ctrl+r")
        await command(pilot, "sort iccid")
        await settle(pilot)
        assert screen.filter == Filter()
        await pilot.press("colon")
        line = await dialog(pilot, CommandLine)
        line.line.value = "view my"
        await pilot.press("tab")
        assert line.line.value == "view my suspended"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.filter == Filter(states=("suspended",))
        assert (screen.sort, screen.descending) == ("name", True)
        assert str(screen.query_one("#filter-status", Select).value) == "suspended"
        assert [r.id for r in the_list(app).visible_rows()] == [
            r.id for r in expected("name", True, Filter(states=("suspended",)))]
        await command(pilot, "view nope")
        assert "view nope: no saved view has this name; yours are: my suspended" in notes(app)
    db.open_database(fleet_db)
    (saved,) = SavedView.select()
    assert (saved.owner, saved.name, saved.sort, saved.descending) == (
        fleet.USER, "my suspended", "name", True)


async def test_colon_q_quits(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await command(pilot, "q")
        await wait_for(pilot, lambda: app._exit)


@pytest.mark.parametrize(("keys", "kind"), [("yi", "iccid"), ("ye", "eid"), ("ym", "imsi")])
async def test_y_copies_the_identifier_under_the_cursor(
    fleet_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch, keys: str, kind: str
) -> None:
    monkeypatch.delenv("SIMDECK_CLIPBOARD", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("TERM_PROGRAM", raising=False)
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "berlin-taxi-0003")  # an eSIM: ICCID, EID and IMSI
        row = the_list(app).cursor_row
        assert row is not None and row.name == "berlin-taxi-0003"
        view = queries.views([row.id])[0]
        want = {"iccid": view.iccid, "eid": view.eid, "imsi": view.imsis[0]}[kind]
        await pilot.press(*keys)
        await wait_for(pilot, lambda: app.clipboard == want)
        assert f"{want} of {row.name} copied to the clipboard" in notes(app)


async def test_copy_off_shows_the_value_instead(
    fleet_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM_PROGRAM", "Apple_Terminal")
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "berlin-taxi-0003")
        row = the_list(app).cursor_row
        await pilot.press("y", "i")
        await wait_for(pilot, lambda: "Copy is off" in notes(app))
        assert f"ICCID of {row.name}: {row.iccid}" in notes(app)
        assert app.clipboard == ""


async def test_search_box_slash_history_and_leaving(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        box = screen.query_one("#filter-search", Input)
        await pilot.press("slash", "slash")
        assert app.focused is box and box.value == ""
        await pilot.press(*"ip:10.0", "slash")
        assert box.value == "ip:10.0/"
        box.value = "munich"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("slash")
        box.value = "reefer"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("slash")
        box.value = ""
        await pilot.press("up")
        assert box.value == "reefer"
        await pilot.press("up")
        assert box.value == "munich"
        await pilot.press("down")
        assert box.value == "reefer"
        await pilot.press("down")
        assert box.value == "" and app.focused is box
        await pilot.press("down")
        assert app.focused is the_list(app)
        # Ctrl+r from the box clears every filter and gives the list the focus.
        await pilot.press("slash")
        box.value = "munich"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert box.value == "" and app.focused is the_list(app)
        assert screen.filter == Filter()


async def test_down_on_a_closed_dropdown_moves_to_the_list(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        status = endpoints_screen(app).query_one("#filter-status", Select)
        status.focus()
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        assert not status.expanded
        assert app.focused is the_list(app)
        status.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert status.expanded


async def test_colon_command_typed_in_one_burst(fleet_db: str, make_app: Any) -> None:
    """As a terminal delivers ``:sims⏎`` pasted or typed fast: every key queued at once."""
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for key, character in [("colon", ":"), *((c, c) for c in "sims"), ("enter", None)]:
            app.post_message(events.Key(key, character))
        await wait_for(pilot, lambda: isinstance(app.screen, SimsScreen))
        # The list kept its sort: none of the keys reached it.
        await command(pilot, "endpoints")
        assert endpoints_screen(app).sort == "name"


async def test_gg_typed_in_one_burst(big_db: str, make_app: Any) -> None:
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        assert the_list(app).cursor > 3000
        for _ in range(2):
            app.post_message(events.Key("g", "g"))
        await wait_for(pilot, lambda: the_list(app).cursor == 0)


async def test_a_search_typed_in_one_burst_is_searched(fleet_db: str, make_app: Any) -> None:
    """``/st`` queued at once (typed fast, or over a slow link): every letter reaches the
    search box, none runs as a key of the list (``s`` sorts, ``t`` terminates)."""
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for key, character in [("slash", "/"), ("s", "s"), ("t", "t")]:
            app.post_message(events.Key(key, character))
        box = app.screen.query_one("#filter-search", Input)
        await wait_for(pilot, lambda: box.value == "st")
        assert app.focused is box
        assert endpoints_screen(app).sort == "name"
        assert app.screen is endpoints_screen(app)  # no dialog opened


async def test_a_filter_typed_in_one_burst_on_the_sims_and_audit_screens(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for screen_key, box_id in (("2", "#sims-search"), ("4", "#audit-endpoint")):
            await pilot.press("escape", screen_key)  # out of the box, to the screen
            await pilot.pause(0.3)
            for key, character in [("slash", "/"), ("8", "8"), ("9", "9")]:
                app.post_message(events.Key(key, character))
            box = app.screen.query_one(box_id, Input)
            await wait_for(pilot, lambda box=box: box.value == "89")
            assert app.focused is box
