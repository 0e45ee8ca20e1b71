"""The keys a vim or k9s user already has: j/k, gg/G, Ctrl+d/u/f/b, Home/End on every
list, and no navigation key of theirs that changes data."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, OptionList

from simdeck.core import actions, auth, db
from simdeck.core.actions import Targets
from simdeck.core.models import AuditEvent, Endpoint, Job
from simdeck.tui import keys
from simdeck.tui.keys import CommandsProvider
from simdeck.tui.screens.dialogs import GroupPicker
from simdeck.tui.screens.groups import GroupsScreen
from simdeck.tui.screens.help import HelpScreen
from simdeck.tui.screens.jobs import JobsScreen
from tests.tui import fleet
from tests.tui.conftest import dialog, endpoints_screen, expected, settle, the_list, wait_for


async def test_j_k_G_gg_move_as_in_vim(big_db: str, make_app: Any) -> None:
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        vlist = the_list(app)
        total = vlist.count
        assert total is not None and total > 3000
        await pilot.press("j", "j", "j", "k")
        assert vlist.cursor == 2
        await pilot.press("G")
        await settle(pilot)
        assert vlist.cursor == total - 1
        assert vlist.cursor_row is not None
        assert vlist.cursor_row.id == expected()[-1].id
        await pilot.press("g", "g")
        await settle(pilot)
        assert vlist.cursor == 0 and int(vlist.scroll_y) == 0
        assert "Row 1 of" in endpoints_screen(app).status_text()


async def test_ctrl_d_u_f_b_move_by_half_and_whole_screens(big_db: str, make_app: Any) -> None:
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        vlist = the_list(app)
        page = vlist._page_height()
        await pilot.press("ctrl+d")
        assert vlist.cursor == page // 2
        await pilot.press("ctrl+u")
        assert vlist.cursor == 0
        await pilot.press("ctrl+f")
        assert vlist.cursor == page - 1
        await pilot.press("ctrl+f")
        assert vlist.cursor == 2 * (page - 1)
        await pilot.press("ctrl+b")
        assert vlist.cursor == page - 1
        await settle(pilot)
        assert f"Row {page}" in endpoints_screen(app).status_text()


async def test_g_then_another_key_is_swallowed_not_run(fleet_db: str, make_app: Any) -> None:
    """``g`` then ``t`` (terminate) or Esc (clear the marks) does nothing at all."""
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        await pilot.press("space")
        await pilot.press("g", "escape", "g", "t", "g", "A")
        await settle(pilot)
        assert app.screen is screen
        assert len(screen.marked_ids()) == 1
        assert the_list(app).cursor == 1


async def test_no_vim_or_k9s_move_changes_data(fleet_db: str, make_app: Any) -> None:
    db.open_database(fleet_db)
    before = [tuple(r) for r in Endpoint.select().order_by(Endpoint.id).tuples()]
    events = AuditEvent.select().count()
    db.database.close()
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        moves = ["j", "k", "g", "g", "G", "ctrl+d", "ctrl+u", "ctrl+f", "ctrl+b", "w", "b",
                 "0", "dollar_sign", "H", "M", "L", "N", "ctrl+e", "ctrl+y", "home", "end"]
        for key in moves:
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is endpoints_screen(app), key
    db.open_database(fleet_db)
    assert [tuple(r) for r in Endpoint.select().order_by(Endpoint.id).tuples()] == before
    assert AuditEvent.select().count() == events


async def test_assign_to_group_is_on_A_not_g(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, GroupPicker)
        await pilot.press("j", "A")
        picker = await dialog(pilot, GroupPicker)
        options = picker.query_one(OptionList)
        await wait_for(pilot, lambda: options.option_count > 2)
        await pilot.press("G")
        assert options.highlighted == options.option_count - 1
        await pilot.press("g", "g")
        assert options.highlighted == 0
        await pilot.press("j")
        assert options.highlighted == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, GroupPicker))


async def test_home_end_G_gg_on_the_jobs_and_groups_tables(fleet_db: str, make_app: Any) -> None:
    db.open_database(fleet_db)
    alice = auth.login(user=fleet.USER)
    ids = [e.id for e in Endpoint.select().limit(6)]
    for n in range(3):
        actions.run(alice, "suspend", Targets(ids=(ids[2 * n], ids[2 * n + 1])))
    assert Job.select().count() == 3
    db.database.close()
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for key, kind in (("5", JobsScreen), ("3", GroupsScreen)):
            await pilot.press(key)
            screen = await wait_for(pilot, lambda k=kind: isinstance(app.screen, k) and app.screen)
            table = screen.query_one(DataTable)
            await wait_for(pilot, lambda t=table: t.row_count >= 3)
            assert table.cursor_row == 0
            await pilot.press("end")
            assert table.cursor_row == table.row_count - 1
            await pilot.press("home")
            assert table.cursor_row == 0
            await pilot.press("G")
            assert table.cursor_row == table.row_count - 1
            await pilot.press("g", "g")
            assert table.cursor_row == 0
            await pilot.press("j", "j", "k")
            assert table.cursor_row == 1


async def test_help_and_palette_show_each_key_in_one_spelling(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = {c.id: app.key_display(c) for c in keys.COMMANDS}
        assert shown["first"] == "home gg"
        assert shown["last"] == "end G"
        assert shown["page_down"] == "pgdn ^f"
        assert shown["half_page_down"] == "^d"
        assert shown["copy"] == "yi ye ym"
        assert shown["sort_column"] == "o + letter"
        assert shown["assign_group"] == "A"
        assert shown["command_line"] == ":"
        assert shown["clear_filters"] == "^r"
        await pilot.press("question_mark")
        help_screen = await dialog(pilot, HelpScreen)
        text = str(help_screen.query_one("#help-text").render())
        for line in ("home gg", "end G", "yi ye ym", ":          Command line"):
            assert line in text, line
        await pilot.press("escape")
        await settle(pilot)
        provider = CommandsProvider(app.screen)
        hits = {str(hit.text): hit.help async for hit in provider.search("assign")}
        assert hits["Assign to group"].startswith("A  ·  ")
