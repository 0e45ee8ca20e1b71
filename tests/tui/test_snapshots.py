"""The screens as they look, at fixed sizes, on the fixed fleet with a fixed clock.

Regenerate after a deliberate change with ``pytest tests/tui --snapshot-update`` and
look at the SVGs before committing them.
"""

from __future__ import annotations

from typing import Any

from tests.tui.conftest import settle


async def _on_an_active_endpoint(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press(*(["down"] * 5))
    await settle(pilot)


async def _marked_and_filtered(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("slash", *"tag:eu", "escape")
    await settle(pilot)
    await pilot.press("space", "space", "down", "space")
    await settle(pilot)


async def _with_detail(pilot: Any) -> None:
    await _on_an_active_endpoint(pilot)
    await pilot.press("d")
    await settle(pilot)


async def _bad_search(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("slash")
    pilot.app.screen.query_one("#filter-search").insert_text_at_cursor("state:bogus")
    await settle(pilot)


async def _help(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


def test_endpoints_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36),
                        run_before=_on_an_active_endpoint)


def test_endpoints_marked_and_filtered_120x36(
    snap_compare: Any, fleet_db: str, make_app: Any
) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36),
                        run_before=_marked_and_filtered)


def test_endpoints_80x24(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(80, 24),
                        run_before=_on_an_active_endpoint)


def test_endpoints_with_detail_80x24(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(80, 24), run_before=_with_detail)


def test_bad_search_token_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36), run_before=_bad_search)


def test_help_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36), run_before=_help)


async def _on(pilot: Any, name: str) -> None:
    await settle(pilot)
    await pilot.press("slash")
    pilot.app.screen.query_one("#filter-search").insert_text_at_cursor(name)
    await pilot.press("escape")
    await settle(pilot)


def _dialog_after(name: str, *keys: str) -> Any:
    async def run_before(pilot: Any) -> None:
        await _on(pilot, name)
        await pilot.press(*keys)
        await settle(pilot)
        await pilot.pause(0.1)

    return run_before


def test_actions_menu_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36),
                        run_before=_dialog_after("munich-van-0004", "a"))


def test_actions_menu_80x24(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(80, 24),
                        run_before=_dialog_after("munich-van-0005", "a"))


def test_terminate_typed_confirmation_120x36(
    snap_compare: Any, fleet_db: str, make_app: Any
) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36),
                        run_before=_dialog_after("reefer-0015", "t"))


def test_delink_confirmation_80x24(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(80, 24),
                        run_before=_dialog_after("reefer-0015", "x"))


def test_assign_group_picker_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36),
                        run_before=_dialog_after("seattle-van-0013", "A"))


async def _command_line(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("colon", "s")
    await pilot.pause(0.2)


def test_command_line_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36), run_before=_command_line)


async def _mark_all_but_two(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("asterisk", "down", "space", "space")
    await settle(pilot)


def test_mark_all_but_two_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36),
                        run_before=_mark_all_but_two)
