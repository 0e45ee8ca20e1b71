"""Marks, the key registry (bindings, help, palette) and the layouts from 60×20 to 200×60."""

from __future__ import annotations

from typing import Any

from textual.command import CommandPalette

from simdeck.core.queries import Filter
from simdeck.tui import keys
from simdeck.tui.app import SimdeckApp
from simdeck.tui.keys import CommandsProvider
from simdeck.tui.screens.audit import AuditScreen
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.screens.endpoints import EndpointsScreen, Marks
from simdeck.tui.screens.groups import GroupsScreen
from simdeck.tui.screens.help import HelpScreen
from simdeck.tui.screens.jobs import JobsScreen
from simdeck.tui.screens.settings import SettingsScreen
from simdeck.tui.screens.sims import SimsScreen
from simdeck.tui.widgets.detail import DetailPane
from simdeck.tui.widgets.filter_bar import FilterBar
from simdeck.tui.widgets.virtual_list import VirtualList
from tests.tui.conftest import dialog, endpoints_screen, expected, screen_text, settle, the_list


def mark_lines(app: Any) -> list[str]:
    return [line for line in screen_text(app).splitlines() if line.startswith("● ")]


async def test_space_marks_and_unmarks_and_escape_clears(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        rows = expected()
        screen = endpoints_screen(app)
        await pilot.press("space", "space", "down", "space")
        await settle(pilot)
        assert screen.marked_ids() == {rows[0].id, rows[1].id, rows[3].id}
        assert the_list(app).cursor == 4
        assert len(mark_lines(app)) == 3
        assert "3 marked" in screen.status_text()
        await pilot.press("up", "space")
        await settle(pilot)
        assert screen.marked_ids() == {rows[0].id, rows[1].id}
        assert "2 marked" in screen.status_text()
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.marks and mark_lines(app) == []
        assert "marked" not in screen.status_text()


async def test_mark_all_holds_the_filter_not_the_ids(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        screen.set_filter(Filter(states=("idle",)))
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        assert screen.marks == Marks(filter=Filter(states=("idle",)))
        assert not screen.marks.ids
        assert len(mark_lines(app)) == 5
        assert "all 5 matching marked" in screen.status_text()
        # Another filter hides the marked rows; the marks stay, said in words.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert mark_lines(app) == []
        assert "marked: all matching state idle" in screen.status_text()
        # A mark-all is cleared only when confirmed.
        await pilot.press("escape")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert not screen.marks


def test_every_command_has_its_action_where_its_scope_says() -> None:
    owners = {
        keys.APP: SimdeckApp,
        keys.ENDPOINTS: EndpointsScreen,
        keys.LIST: VirtualList,
        keys.FILTERS: FilterBar,
        keys.SIMS: SimsScreen,
        keys.GROUPS: GroupsScreen,
        keys.AUDIT: AuditScreen,
        keys.JOBS: JobsScreen,
        keys.SETTINGS: SettingsScreen,
    }
    for command in keys.COMMANDS:
        owner = owners[command.scope]
        action = command.action or command.id
        method = action.split("(")[0]
        assert hasattr(owner, f"action_{method}"), command.id
        binding = command.binding()
        assert binding.action == action
        assert binding.description == (command.short or command.label)
    for scope, owner in owners.items():
        bound = {b.action for b in owner.BINDINGS if hasattr(b, "action")}
        assert {c.action or c.id for c in keys.commands(scope)} <= bound


async def test_help_lists_every_key_from_the_registry(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # Long descriptions wrap: compare the words.
        text = " ".join(str(app.screen.query_one("#help-text").render()).split())
        offered = [c for section in keys.sections(app.actor).values() for c in section]
        assert {c.id for c in keys.COMMANDS} - {c.id for c in offered} == {"reinstate"}
        for command in offered:
            assert command.label in text and command.description in text
        assert "field:value" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, EndpointsScreen)


async def test_palette_offers_the_registry_commands(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        provider = CommandsProvider(app.screen)
        found = [hit async for hit in provider.search("sort")]
        labels = [str(hit.text) for hit in found]
        assert any("Sort" in label for label in labels)
        discovered = [str(hit.text) async for hit in provider.discover()]
        assert "Clear filters" in discovered and "Keys" in discovered
        app.run_command(keys.BY_ID["sort_next"])
        await settle(pilot)
        assert endpoints_screen(app).sort == "state"
        app.run_command(keys.BY_ID["last"])
        await settle(pilot)
        assert the_list(app).cursor == 29
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        await pilot.pause()


async def test_narrow_terminal_keeps_the_list_and_toggles_the_detail_below(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        vlist = the_list(app)
        assert screen.has_class("-narrow") and not screen.detail_visible
        assert vlist.size.width >= 78 and vlist.size.height >= 12
        text = screen_text(app)
        assert "ICCID" in text and "State" in text and expected()[0].name[:10] in text
        await pilot.press("d")
        await settle(pilot)
        pane = screen.query_one(DetailPane)
        assert screen.detail_visible
        assert pane.region.y > vlist.region.y and pane.region.width >= 78
        assert pane.view is not None and pane.view.id == vlist.cursor_row.id
        await pilot.press("down")
        await settle(pilot)
        assert pane.view.id == vlist.cursor_row.id


async def test_resizing_between_sizes_never_breaks(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for width, height in ((80, 24), (60, 20), (200, 60), (120, 36)):
            await pilot.resize_terminal(width, height)
            await settle(pilot)
            vlist = the_list(app)
            assert vlist.visible_rows()
            assert "ICCID" in vlist.render_line(0).text
            await pilot.press("down", "pagedown", "home")
            await settle(pilot)
            assert vlist.cursor == 0
