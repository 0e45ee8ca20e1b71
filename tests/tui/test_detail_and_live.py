"""The detail pane follows the cursor; another operator's change shows up by itself."""

from __future__ import annotations

import time
from typing import Any

from simdeck.core import actions, auth, queries, records
from simdeck.core.actions import Targets
from simdeck.core.queries import Filter
from simdeck.tui.screens.help import HelpScreen
from simdeck.tui.widgets.detail import DetailPane
from simdeck.tui.widgets.footer import KeyFooter
from tests.tui import fleet
from tests.tui.conftest import (
    endpoints_screen,
    expected,
    on_endpoint,
    screen_text,
    settle,
    shown_ids,
    the_list,
    wait_for,
)


def detail_text(app: Any) -> str:
    return str(endpoints_screen(app).query_one("#detail-body").render())


async def test_detail_follows_the_cursor_with_every_field(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        rows = expected()
        for steps in (0, 9, 3):
            for _ in range(steps):
                await pilot.press("down")
            await settle(pilot)
            row = the_list(app).cursor_row
            view = queries.views([row.id], history=10)[0]
            pane = endpoints_screen(app).query_one(DetailPane)
            assert pane.view is not None and pane.view.id == row.id
            text = detail_text(app)
            assert view.name[:20] in text
            assert str(view.id) in text
            if view.iccid:
                assert view.iccid in text
                assert view.imsis[0] in text
                assert view.sim_status in text
            if view.eid:
                assert view.eid[:20] in text
            if view.group_config:
                assert view.group_config["apn"] in text
            assert "History" in text
            assert view.history[0]["action"] in text
        assert rows[12].id == the_list(app).cursor_row.id


async def test_detail_key_hides_and_shows_the_pane(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        pane = screen.query_one(DetailPane)
        assert pane.display and screen.detail_visible
        wide = the_list(app).size.width
        await pilot.press("d")
        await settle(pilot)
        assert not screen.detail_visible and pane.region.width == 0
        assert the_list(app).size.width > wide
        await pilot.press("down", "d")
        await settle(pilot)
        assert screen.detail_visible
        assert pane.view is not None and pane.view.id == the_list(app).cursor_row.id


def _actor() -> auth.Actor:
    return auth.login(user=fleet.USER)


async def test_another_operators_change_shows_up_and_the_cursor_stays(
    big_db: str, make_app: Any
) -> None:
    app = make_app(big_db, poll_interval=1.0)  # the console's own interval
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        endpoints_screen(app)._sort_by("iccid", False)
        await settle(pilot)
        await pilot.press("pagedown", "pagedown", "pagedown", "down")
        await settle(pilot)
        vlist = the_list(app)
        before = vlist.cursor_row
        top, line = int(vlist.scroll_y), vlist.cursor - int(vlist.scroll_y)
        assert top > 0
        actor = _actor()
        # Another operator renames the endpoint under the cursor, and adds one that sorts
        # before it (no SIM yet: its empty ICCID sorts first).
        records.edit_endpoint(actor, before.id, name="renamed-by-bob")
        records.create_endpoint(actor, name="new-one")
        await wait_for(pilot, lambda: "renamed-by" in screen_text(app), timeout=2.5)
        await settle(pilot)
        assert vlist.cursor_row.id == before.id
        assert vlist.cursor_row.name == "renamed-by-bob"
        # Same endpoint, same line of the screen; everything above moved down by one.
        assert vlist.cursor - int(vlist.scroll_y) == line
        assert int(vlist.scroll_y) == top + 1
        rows = expected("iccid")
        assert vlist.count == len(rows) == 3031
        assert shown_ids(app) == [r.id for r in rows[top + 1 :][: len(shown_ids(app))]]
        assert "renamed-by-bob" in detail_text(app)
        assert "│ 3,031 endpoints" in str(endpoints_screen(app).query_one("#counts").render())


async def test_a_state_change_moves_the_row_and_the_cursor_follows(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s")  # sorted by state
        await settle(pilot)
        assert endpoints_screen(app).sort == "state"
        vlist = the_list(app)
        target = next(r for r in expected("state") if r.state == "active")
        vlist.move_cursor([r.id for r in expected("state")].index(target.id))
        await settle(pilot)
        actions.run(_actor(), "suspend", Targets.one(target.id))
        await wait_for(pilot, lambda: vlist.cursor_row.state == "suspended", timeout=2.5)
        await settle(pilot)
        assert vlist.cursor_row.id == target.id
        assert vlist.cursor == [r.id for r in expected("state")].index(target.id)


async def test_refresh_waits_while_a_dialog_is_open(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = the_list(app).cursor_row
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        records.edit_endpoint(_actor(), first.id, name="changed-in-dialog")
        # The dialog stops the looking for changes, and a change noticed just before it
        # opened (posted as the reader posts it) waits for it to close.
        assert app.reader.paused
        app.post_message(app.DataChanged())
        await pilot.pause()
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "changed-in-d" not in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "changed-in-d" in screen_text(app), timeout=2.5)
        assert the_list(app).cursor_row.id == first.id


async def test_a_filtered_out_row_leaves_the_cursor_on_its_line(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        screen.set_filter(Filter(states=("active",)))
        await settle(pilot)
        vlist = the_list(app)
        vlist.move_cursor(2)
        await settle(pilot)
        gone = vlist.cursor_row
        actions.run(_actor(), "suspend", Targets.one(gone.id))
        await wait_for(pilot, lambda: vlist.count == 7, timeout=2.5)
        await settle(pilot)
        assert vlist.cursor == 2
        assert vlist.cursor_row == expected(f=Filter(states=("active",)))[2]
        assert gone.id not in shown_ids(app)


async def test_a_live_change_arrives_as_one_picture(
    fleet_db: str, make_app: Any, monkeypatch: Any
) -> None:
    # Counting takes a while (as at a million endpoints): the row must wait for it.
    exact, estimate = queries.counts_by_state, queries.counts_by_state_estimate

    def slow_exact(f: Filter) -> Any:
        time.sleep(0.3)
        return exact(f)

    def slow_estimate(f: Filter) -> Any:
        time.sleep(0.3)
        return estimate(f)

    monkeypatch.setattr(queries, "counts_by_state", slow_exact)
    monkeypatch.setattr(queries, "counts_by_state_estimate", slow_estimate)
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        screen = endpoints_screen(app)
        vlist = the_list(app)

        def picture() -> tuple[str, str, str, str]:
            row = vlist.cursor_row
            return (row.state if row else "", str(screen.query_one("#counts").render()),
                    detail_text(app), str(screen.query_one(KeyFooter).text()))

        state, counts, detail, footer = picture()
        assert state == "active" and "Active 1" in counts and "u Suspend" in footer
        assert "● Active" in detail
        actions.run(_actor(), "suspend", Targets.one(vlist.cursor_row.id))
        seen_old = seen_new = 0
        for _ in range(400):
            await pilot.pause(0.01)
            state, counts, detail, footer = picture()
            if state == "active":
                # The old picture, whole: nothing of the change drawn yet.
                assert "Active 1" in counts and "Suspended 1" not in counts
                assert "u Suspend" in footer
                seen_old += 1
            else:
                # The new picture, whole: row, counts, detail and offered keys together.
                assert state == "suspended"
                assert "Suspended 1" in counts and "Active 1" not in counts
                assert "‖ Suspended" in detail and "● Active" not in detail
                assert "u Suspend" not in footer and "u Suspend" not in detail, (footer, detail)
                seen_new += 1
                if seen_new > 20:
                    break
        assert seen_old and seen_new > 20
