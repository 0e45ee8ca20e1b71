"""What the bottom line, the focus and the states look like: the footer shows whole keys
at every width and a dialog's own keys under a dialog; the focused widget is marked by a
colour of its own; the states differ at 16 colours, and by a mark without colour."""

from __future__ import annotations

from typing import Any

from rich.color import ColorSystem
from rich.segment import Segment
from textual.widgets import Button

from simdeck.tui import keys
from simdeck.tui.app import terminal_colours
from simdeck.tui.screens.dialogs import ActionsMenu, ConfirmScreen
from simdeck.tui.screens.help import HelpScreen
from simdeck.tui.widgets.footer import KeyFooter
from tests.tui.conftest import (
    dialog,
    endpoints_screen,
    on_endpoint,
    search,
    settle,
    the_list,
    wait_for,
)


def bottom_line(app: Any) -> str:
    """The terminal's last line, as drawn now (of the dialog, when one is open)."""
    strips = app.screen._compositor.render_strips()
    return str(strips[-1].text)


def every_item(app: Any) -> set[str]:
    """Every ``key Label`` any footer of the console could show."""
    items = {f"{app.get_key_display(c.binding())} {c.binding().description}"
             for c in keys.COMMANDS}
    return items | {"esc Cancel", "tab Complete", "q Quit", "^p palette"}


async def test_under_a_dialog_the_footer_shows_the_dialogs_keys(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        assert "a Actions" in bottom_line(app) and "s Sort" in bottom_line(app)
        await pilot.press("a")
        await dialog(pilot, ActionsMenu)
        await pilot.pause()
        assert bottom_line(app).strip() == "esc Cancel"
        await pilot.press("escape")
        await wait_for(pilot, lambda: "s Sort" in bottom_line(app))
        await pilot.press("t")  # terminate asks, with its own keys
        await dialog(pilot, ConfirmScreen)
        await pilot.pause()
        assert bottom_line(app).strip() == "esc Cancel"
        assert "Sort" not in bottom_line(app) and "Actions" not in bottom_line(app)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await dialog(pilot, HelpScreen)
        await pilot.pause()
        assert bottom_line(app).strip() == "esc Close"
        await pilot.press("escape")
        await pilot.press("colon")
        await wait_for(pilot, lambda: "Complete" in bottom_line(app))
        assert bottom_line(app).split() == ["tab", "Complete", "esc", "Cancel"]


async def test_the_footer_shows_whole_keys_at_every_width(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        known = every_item(app)
        for width in (160, 140, 139, 120, 100, 81, 80, 72, 60, 47, 40):
            await pilot.resize_terminal(width, 24)
            await settle(pilot)
            line = bottom_line(app)
            assert len(line) == width, width
            shown = [part.strip() for part in line.split("  ") if part.strip()]
            # Each piece is one whole item: no label cut mid-word, no stale characters.
            assert shown and all(part in known for part in shown), (width, line)
            # The console's own keys stay while any room is left for them.
            assert "? Keys" in shown and "q Quit" in shown, (width, line)
            assert ("^p palette" in shown) == (width >= 140), (width, line)
        # Back to wide and narrow again: nothing of an earlier line is left behind.
        await pilot.resize_terminal(140, 24)
        await settle(pilot)
        assert bottom_line(app).rstrip().endswith("^p palette")
        await pilot.resize_terminal(120, 24)
        await settle(pilot)
        assert "palette" not in bottom_line(app)


async def test_at_80_and_60_columns_items_are_dropped_whole(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    for width, height in ((80, 24), (60, 20)):
        async with app.run_test(size=(width, height)) as pilot:
            await settle(pilot)
            footer = endpoints_screen(app).query_one(KeyFooter)
            line = bottom_line(app)
            offered = [f"{app.get_key_display(b)} {b.description}" for b, _, _ in footer.items()]
            shown = [part.strip() for part in line.split("  ") if part.strip()]
            assert len(shown) < len(offered)  # not all fit: some are left out whole
            assert set(shown) <= set(offered), line
            assert shown[0] == "a Actions"
        app = make_app(app.db_url)


def _segments(strip: Any) -> list[Segment]:
    return [s for s in strip if s.text.strip()]


def _style_of(app: Any, text: str, *, cursor: bool = True) -> Any:
    """The style of the first cell drawn with ``text`` in the endpoint list (not on the
    cursor's line unless ``cursor``)."""
    vlist = the_list(app)
    cursor_y = vlist.cursor - int(vlist.scroll_y) + 1
    for y in range(vlist.size.height):
        if y == cursor_y and not cursor:
            continue
        for segment in _segments(vlist.render_line(y)):
            if text in segment.text:
                return segment.style
    raise AssertionError(f"{text!r} is not on screen")


def _ansi(colour: Any) -> int:
    return int(colour.downgrade(ColorSystem.STANDARD).number)


async def test_states_differ_at_16_colours_and_by_their_mark(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db, colours=16)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        text = "\n".join(the_list(app).render_line(y).text
                         for y in range(the_list(app).size.height))
        assert "● Active" in text and "‖ Suspended" in text
        active = _style_of(app, "● Active", cursor=False)
        suspended = _style_of(app, "‖ Suspended", cursor=False)
        # At 16 colours each is its own ANSI colour (they were both bold white).
        assert _ansi(active.color) != _ansi(suspended.color)
        assert {_ansi(active.color), _ansi(suspended.color)}.isdisjoint({7, 15})


async def test_the_focused_widget_is_marked_also_at_16_colours(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "munich-van")
        vlist = the_list(app)
        name = vlist.cursor_row.name
        assert name
        focused = _style_of(app, name).bgcolor
        plain_row = vlist.visible_rows()[1].name
        plain = _style_of(app, plain_row).bgcolor
        await pilot.press("slash")
        await pilot.pause()
        await pilot.pause()
        blurred = _style_of(app, name).bgcolor
        # The list's cursor: one colour with the focus, another without, neither the rows'.
        assert len({_ansi(focused), _ansi(blurred), _ansi(plain)}) == 3
        box = endpoints_screen(app).query_one("#filter-search")
        status = endpoints_screen(app).query_one("#filter-status")
        box_bg = box.rich_style.bgcolor
        assert box.has_focus
        assert _ansi(box_bg) != _ansi(status.rich_style.bgcolor)
        assert _ansi(box_bg) != _ansi(endpoints_screen(app).query_one("#filters")
                                      .rich_style.bgcolor)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        assert vlist.has_focus and _style_of(app, name).bgcolor == focused
        # A dialog's focused button: drawn reversed, the other not.
        await on_endpoint(pilot, "munich-van-0004")
        await pilot.press("u")
        confirm = await dialog(pilot, ConfirmScreen)
        await pilot.pause()
        no, yes = confirm.query_one("#no", Button), confirm.query_one("#yes", Button)
        assert yes.has_focus
        assert yes.rich_style.reverse and not no.rich_style.reverse
        await pilot.press("tab")
        await pilot.pause()
        assert no.rich_style.reverse and not yes.rich_style.reverse


def test_the_console_finds_a_16_colour_terminal(monkeypatch: Any) -> None:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert terminal_colours() == 16
    monkeypatch.setenv("TERM", "xterm-256color")
    assert terminal_colours() == 256
    monkeypatch.setenv("COLORTERM", "truecolor")
    assert terminal_colours() == 2**24
