"""The endpoint list: what is on screen is what the database holds, in every order, at depth."""

from __future__ import annotations

from typing import Any

from textual import events

from simdeck.tui.screens.endpoints import DEFAULT_SORT
from simdeck.tui.widgets.endpoint_rows import SORTS
from tests.tui.conftest import (
    endpoints_screen,
    expected,
    screen_text,
    settle,
    shown_ids,
    shown_matches,
    the_list,
    wait_for,
)


async def test_first_page_is_the_database_in_name_order(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        rows = expected()
        height = the_list(app).size.height - 1
        assert shown_ids(app) == [r.id for r in rows[:height]]
        text = screen_text(app)
        assert rows[5].iccid in text and rows[5].name[:10] in text
        assert "Hold" in text and "Active" in text
        assert the_list(app).count == len(rows)
        assert "Row 1 of 30" in endpoints_screen(app).status_text()


async def test_every_column_sorts_and_reverses(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        cursor_id = the_list(app).cursor_row.id
        start = SORTS.index(DEFAULT_SORT) + 1
        for sort in SORTS[start:] + SORTS[:start]:
            await pilot.press("s")
            await settle(pilot)
            assert screen.sort == sort
            assert shown_matches(app, expected(sort))
            await pilot.press("r")
            await settle(pilot)
            assert screen.descending
            assert shown_matches(app, expected(sort, descending=True))
            await pilot.press("r")
            await settle(pilot)
            assert not screen.descending
            assert the_list(app).cursor_row.id == cursor_id


async def test_clicking_a_header_sorts_then_reverses(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        vlist = the_list(app)
        x = next(
            i for i in range(vlist.size.width) if (c := vlist.column_at(i)) and c.key == "state"
        )
        await pilot.click(vlist, offset=(x + 1, 0))
        await settle(pilot)
        assert endpoints_screen(app).sort == "state"
        assert shown_matches(app, expected("state"))
        assert "State ▲" in vlist.render_line(0).text
        await pilot.click(vlist, offset=(x + 1, 0))
        await settle(pilot)
        assert endpoints_screen(app).descending
        assert shown_matches(app, expected("state", True))
        assert "State ▼" in vlist.render_line(0).text


async def test_resorting_keeps_the_cursor_on_its_endpoint(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down")
        await settle(pilot)
        vlist = the_list(app)
        chosen = vlist.cursor_row.id
        await pilot.press("s")
        await settle(pilot)
        assert vlist.cursor_row.id == chosen
        ids = [r.id for r in expected("state")]
        assert vlist.cursor == ids.index(chosen)


async def test_cursor_end_up_home_and_page_down_at_depth(big_db: str, make_app: Any) -> None:
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        rows = expected()
        vlist = the_list(app)
        assert vlist.count == len(rows) == 3030
        await pilot.press("end")
        await settle(pilot)
        assert vlist.cursor == len(rows) - 1
        assert vlist.cursor_row == rows[-1]
        assert shown_ids(app)[-1] == rows[-1].id
        await pilot.press("up")
        await settle(pilot)
        assert vlist.cursor_row == rows[-2]
        await pilot.press("home")
        await settle(pilot)
        assert vlist.cursor == 0 and vlist.cursor_row == rows[0]
        page = vlist.size.height - 2
        for n in range(1, 21):
            await pilot.press("pagedown")
            if n % 5 == 0:
                await settle(pilot)
                assert vlist.cursor == n * page
                assert vlist.cursor_row == rows[n * page]
                top = int(vlist.scroll_y)
                assert shown_ids(app) == [r.id for r in rows[top : top + page + 1]]
        for _ in range(3):
            await pilot.press("pageup")
        await settle(pilot)
        assert vlist.cursor_row == rows[17 * page]
        # The window never holds more than a few pages, whatever the depth.
        assert len(vlist._rows) <= 720


async def test_scrollbar_jump_and_wheel_land_on_the_right_rows(big_db: str, make_app: Any) -> None:
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        rows = expected()
        vlist = the_list(app)
        vlist.scroll_to(y=1700, animate=False)
        await settle(pilot)
        assert shown_ids(app)[0] == rows[1700].id
        assert shown_ids(app) == [r.id for r in rows[1700 : 1700 + len(shown_ids(app))]]
        before = int(vlist.scroll_y)
        for _ in range(5):
            vlist.post_message(events.MouseScrollDown(vlist, 5, 5, 0, 1, 0, False, False, False))
        await settle(pilot)
        top = int(vlist.scroll_y)
        assert top > before
        assert shown_ids(app)[0] == rows[top].id


async def test_clicking_a_row_moves_the_cursor(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        vlist = the_list(app)
        await pilot.click(vlist, offset=(10, 4))
        await settle(pilot)
        assert vlist.cursor == 3
        assert vlist.cursor_row == expected()[3]


async def test_empty_filter_says_so(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"zzzzqq")
        await settle(pilot)
        await wait_for(pilot, lambda: the_list(app).count == 0)
        assert "No endpoint matches the filter" in screen_text(app)
        assert "No endpoints" in endpoints_screen(app).status_text()


async def test_a_burst_of_keys_while_pages_are_read_loses_none(
    big_db: str, make_app: Any
) -> None:
    app = make_app(big_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        vlist = the_list(app)
        page = vlist.size.height - 2
        for _ in range(12):
            app.post_message(events.Key("pagedown", None))
        await pilot.pause()
        # Reading a page never takes the focus (nor the keys) away from the list.
        assert app.focused is vlist
        await settle(pilot)
        assert vlist.cursor == 12 * page
        assert vlist.cursor_row == expected()[12 * page]
