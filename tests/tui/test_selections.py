"""Selections are precious: ``*`` adds, ``space`` leaves a row out of a mark-all, Esc asks
before clearing many (Ctrl+z brings them back), a dialog's Esc never clears the marks,
and ``q`` asks while marks are held."""

from __future__ import annotations

from typing import Any

import pytest

from simdeck.core import db
from simdeck.core.actions import Result
from simdeck.core.models import Endpoint
from simdeck.core.queries import Filter
from simdeck.tui.marks import Marks
from simdeck.tui.screens import endpoints as endpoints_module
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.screens.progress import ProgressScreen
from tests.tui.conftest import dialog, endpoints_screen, expected, settle, the_list, wait_for


def marked_lines(app: Any) -> int:
    vlist = the_list(app)
    return sum(1 for y in range(vlist.size.height) if vlist.render_line(y).text.startswith("● "))


async def test_star_adds_to_the_marks_made_one_by_one(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        first = expected()[0]
        await pilot.press("space")
        screen.set_filter(Filter(states=("idle",)))
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        assert screen.marks == Marks(frozenset({first.id}), Filter(states=("idle",)))
        assert "all 5 matching marked, and 1 more" in screen.status_text()


async def test_space_in_a_mark_all_leaves_the_row_out_and_the_job_skips_it(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        screen.set_filter(Filter(states=("idle",)))
        await settle(pilot)
        idle = [r.id for r in expected(f=Filter(states=("idle",)))]
        assert len(idle) == 5
        await pilot.press("asterisk", "down", "space", "space")
        await settle(pilot)
        assert screen.marks.exclude == {idle[1], idle[2]}
        assert "all 5 matching but 2 marked" in screen.status_text()
        assert marked_lines(app) == 3
        # Marked again: no longer left out.
        await pilot.press("up", "space")
        await settle(pilot)
        assert screen.marks.exclude == {idle[1]}
        assert "all 5 matching but 1 marked" in screen.status_text()
        await pilot.press("u")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Suspend: 4 of 4 endpoints will change"
        assert confirm.query_one("#yes").has_focus
        await pilot.press("enter")
        progress = await dialog(pilot, ProgressScreen)
        await wait_for(pilot, lambda: progress.result is not None, timeout=10)
        await pilot.press("escape")
        await settle(pilot)
    db.open_database(fleet_db)
    states = {e.id: e.state for e in Endpoint.select().where(Endpoint.id.in_(idle))}
    assert states[idle[1]] == "idle"
    assert [i for i in idle if states[i] == "suspended"] == [idle[0], *idle[2:]]


async def test_esc_asks_before_clearing_more_than_five_and_ctrl_z_undoes(
    fleet_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # However slow the machine, the Esc repeated right after a dialog is "right after".
    monkeypatch.setattr(endpoints_module, "ESC_AFTER_DIALOG", 30.0)
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        await pilot.press(*["space"] * 6)
        await settle(pilot)
        six = screen.marked_ids()
        assert len(six) == 6
        screen._dialog_closed_at = 0.0
        await pilot.press("escape")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Clear the marks?"
        # Esc closes the question, and only the question: the marks stay, even when
        # Esc is pressed again at once.
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert app.screen is screen and screen.marked_ids() == six
        screen._dialog_closed_at = 0.0  # long after
        await pilot.press("escape")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert not screen.marks and "marked" not in screen.status_text()
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert screen.marked_ids() == six
        assert "6 marked" in screen.status_text()
        # Five or fewer go at once (and come back with Ctrl+z too).
        await pilot.press("up", "space")
        screen._dialog_closed_at = 0.0
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and not screen.marks
        await pilot.press("ctrl+z")
        assert len(screen.marked_ids()) == 5


async def test_star_under_another_filter_asks_before_replacing_a_mark_all(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        screen.set_filter(Filter(states=("idle",)))
        await settle(pilot)
        await pilot.press("asterisk")
        screen.set_filter(Filter(states=("suspended",)))
        await settle(pilot)
        await pilot.press("asterisk")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Replace the marks?"
        await pilot.press("escape")
        await settle(pilot)
        assert screen.marks == Marks(filter=Filter(states=("idle",)))
        await pilot.press("asterisk")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.marks == Marks(filter=Filter(states=("suspended",)))


async def test_q_with_marks_asks_and_no_keeps_the_console(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        await pilot.press("space", "q")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Quit simdeck?"
        assert "1 marked" in "\n".join(confirm.lines)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running and app.screen is screen and len(screen.marked_ids()) == 1
        await pilot.press("q")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")  # No has the focus
        await settle(pilot)
        assert app.is_running and len(screen.marked_ids()) == 1
        await pilot.press("q")
        await dialog(pilot, ConfirmScreen)
        await pilot.click("#yes")
        await wait_for(pilot, lambda: app._exit)


async def test_q_without_marks_quits_at_once(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ConfirmScreen)
        assert app._exit


async def test_q_with_a_running_job_or_an_unread_result_asks(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        progress = ProgressScreen("suspend", 700_000)
        app.push_screen(progress)
        await dialog(pilot, ProgressScreen)
        # Under a dialog the list's q is not bound; the dialog's own quit calls the app's.
        await app.action_quit()
        confirm = await dialog(pilot, ConfirmScreen)
        assert "A bulk job is running" in "\n".join(confirm.lines)
        await pilot.press("enter")  # No
        await wait_for(pilot, lambda: app.screen is progress)
        progress.result = Result("suspend", applied=3, total=3)
        await app.action_quit()
        confirm = await dialog(pilot, ConfirmScreen)
        assert "The result of a bulk job is on screen" in "\n".join(confirm.lines)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is progress)
        assert app.is_running
