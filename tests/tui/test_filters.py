"""Every filter control: what the list shows is what core.queries finds for that filter."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Label, Select

from simdeck.core import queries
from simdeck.core.lifecycle import State
from simdeck.core.queries import Filter
from simdeck.tui.screens.endpoints import DEFAULT_SORT
from simdeck.tui.widgets.filter_bar import FilterBar
from simdeck.tui.widgets.status import StateCounts
from tests.tui.conftest import endpoints_screen, settle, shown_ids, the_list, wait_for


def ids_for(f: Filter) -> list[int]:
    return [r.id for r in queries.page(f, DEFAULT_SORT, limit=1000)]


def counts_text(app: Any) -> str:
    return str(endpoints_screen(app).query_one(StateCounts).render())


async def choose(pilot: Any, select_id: str, typed: str) -> None:
    """Open a Select with the keyboard, type to find the option, take it."""
    select = endpoints_screen(pilot.app).query_one(select_id, Select)
    select.focus()
    await pilot.press("enter")
    await pilot.press(*typed)
    await pilot.press("enter")
    await settle(pilot)


async def search(pilot: Any, text: str, *, typed: bool = True) -> None:
    """Into the search box with ``/``; type ``text`` key by key (or paste it)."""
    await pilot.press("slash")
    box = endpoints_screen(pilot.app).query_one("#filter-search", Input)
    box.value = ""
    if typed:
        await pilot.press(*text)
    else:
        box.insert_text_at_cursor(text)
    await settle(pilot)


async def test_status_select_filters_by_state(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose(pilot, "#filter-status", "idle")
        screen = endpoints_screen(app)
        assert screen.filter == Filter(states=("idle",))
        assert shown_ids(app) == ids_for(Filter(states=("idle",)))
        assert {r.state for r in the_list(app).visible_rows()} == {"idle"}
        assert "Idle 5" in counts_text(app) and "Active 0" in counts_text(app)


async def test_group_and_tag_selects_offer_what_the_database_has(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose(pilot, "#filter-group", "cold")
        want = Filter(group="cold-chain")
        assert endpoints_screen(app).filter == want
        assert shown_ids(app) == ids_for(want)
        await choose(pilot, "#filter-tag", "trial")
        want = Filter(group="cold-chain", tag="trial")
        assert endpoints_screen(app).filter == want
        assert shown_ids(app) == ids_for(want) == []
        await pilot.press("ctrl+r")
        await settle(pilot)
        await choose(pilot, "#filter-tag", "trial")
        assert shown_ids(app) == ids_for(Filter(tag="trial"))
        assert len(shown_ids(app)) == 4


SEARCHES = (
    "berlin",
    "state:idle",
    "group:cold-chain",
    "tag:fleet-a",
    "-state:active",
    "-tag:eu reefer",
    "8949000000000000",
    "imsi:2620100000004",
    "group:none",
)


async def test_search_box_words_tokens_and_negation(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for n, text in enumerate(SEARCHES):
            await search(pilot, text, typed=n < 1)
            want = ids_for(Filter(search=text))
            assert want, f"the fleet has matches for {text!r}"
            assert endpoints_screen(app).filter == Filter(search=text)
            assert shown_ids(app) == want[: len(shown_ids(app))], text
            assert the_list(app).count == len(want), text
            total = sum(queries.counts_by_state(Filter(search=text)).values())
            assert f"│ {total} endpoint" in counts_text(app), text


async def test_clear_key_clears_every_filter(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await choose(pilot, "#filter-status", "active")
        await search(pilot, "taxi", typed=False)
        assert endpoints_screen(app).filter == Filter(states=("active",), search="taxi")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert endpoints_screen(app).filter == Filter()
        assert endpoints_screen(app).query_one("#filter-search", Input).value == ""
        assert endpoints_screen(app).query_one("#filter-status", Select).value is Select.NULL
        assert the_list(app).count == 30


async def test_an_invalid_token_is_explained_under_the_search_box(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await search(pilot, "state:bogus", typed=False)
        message = endpoints_screen(app).query_one("#search-message", Label)
        assert "bogus" in str(message.render()) and "is not a state" in str(message.render())
        assert message.has_class("-error")
        # The list keeps showing the last valid filter: nothing crashed, nothing vanished.
        assert endpoints_screen(app).filter.search != "state:bogus"
        assert the_list(app).count == 30
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press(*"idle")
        await settle(pilot)
        assert not message.has_class("-error")
        assert shown_ids(app) == ids_for(Filter(search="state:idle"))


async def test_an_unknown_field_is_a_warning_and_still_searches(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await search(pilot, "colour:red")
        message = endpoints_screen(app).query_one("#search-message", Label)
        assert message.has_class("-warning") and "colour:" in str(message.render())
        await wait_for(pilot, lambda: the_list(app).count == 0)


async def test_clicking_a_state_count_filters_by_it(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        screen.action_filter_state(State.SUSPENDED.value)
        await settle(pilot)
        assert screen.filter.states == ("suspended",)
        assert shown_ids(app) == ids_for(Filter(states=("suspended",)))
        assert screen.query_one("#filter-status", Select).value == "suspended"
        screen.action_filter_state(State.SUSPENDED.value)
        await settle(pilot)
        assert screen.filter == Filter()


async def test_typing_fast_reads_only_what_is_needed(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        bar = endpoints_screen(app).query_one(FilterBar)
        await pilot.press("slash")
        box = endpoints_screen(app).query_one("#filter-search", Input)
        box.insert_text_at_cursor("ber")
        box.insert_text_at_cursor("lin")
        await settle(pilot)
        assert bar.filter == Filter(search="berlin")
        assert shown_ids(app) == ids_for(Filter(search="berlin"))

