"""Lifecycle actions and Link SIM from the Endpoints screen: dialog, database, screen."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from simdeck.core.models import Endpoint, Sim
from simdeck.tui import keys
from simdeck.tui.screens.dialogs import CONTINUE, ConfirmScreen, SimPicker
from tests.tui.conftest import (
    POOL,
    dialog,
    endpoints_screen,
    notes,
    on_endpoint,
    search,
    settle,
    state_of,
    wait_for,
)


async def test_suspend_confirmed_changes_the_database_and_the_list(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        await pilot.press("u")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Suspend: 1 of 1 endpoints will change"
        assert app.focused.id == "yes"
        await pilot.press("enter")
        await wait_for(pilot, lambda: state_of("munich-van-0004") == "suspended")
        await wait_for(pilot, lambda: "1 applied" in notes(app))
        await settle(pilot)
        assert endpoints_screen(app).endpoint_list.cursor_row.state == "suspended"


async def test_suspend_cancelled_changes_nothing(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        await pilot.press("u")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert state_of("munich-van-0004") == "active"


async def test_suspend_of_marks_counts_the_skipped_and_the_hidden(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "munich")
        await pilot.press("space", "space")  # munich-van-0004 (Active), 0005 (Suspended)
        await search(pilot, "reefer-0015")
        await pilot.press("u")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Suspend: 1 of 2 endpoints will change"
        body = "\n".join(confirm.lines)
        assert "1 skipped — Suspended: suspend is allowed only from" in body
        assert "2 marked endpoints are hidden by the current filter" in body
        await pilot.press("n", "escape")


async def test_terminate_asks_for_the_typed_confirmation(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "reefer-0015")
        await pilot.press("t")
        confirm = await dialog(pilot, ConfirmScreen)
        assert "Terminate is irreversible: 1 endpoint will be disabled permanently, SIMs " \
            "included. Each record is kept 90 days, then deleted." in confirm.lines
        typed = confirm.query_one("#confirm-typed", Input)
        assert app.focused is typed
        typed.insert_text_at_cursor("terminate 2")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is confirm
        assert "Type exactly “terminate 1”" in str(confirm.query_one("#confirm-problem").render())
        assert state_of("reefer-0015") == "active"
        typed.value = ""
        typed.insert_text_at_cursor("terminate 1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: state_of("reefer-0015") == "terminated")
        await wait_for(pilot, lambda: "Terminate" in notes(app))


async def test_resume_refused_by_policy_shows_cores_message(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0005")
        assert "resume" not in {b.binding.action for b in app.screen.active_bindings.values()
                                if b.enabled}
        await pilot.press("R")
        await wait_for(pilot, lambda: "policy" in notes(app))
        assert "allow_resume is off" in notes(app) and "Settings screen" in notes(app)
        assert not isinstance(app.screen, ConfirmScreen)
        assert state_of("munich-van-0005") == "suspended"


async def test_a_viewer_sees_no_mutating_key(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db, user="vera")
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        screen = endpoints_screen(app)
        for name in ("suspend", "terminate", "link", "delink", "assign_group"):
            assert screen.check_action(name, ()) is False
        await pilot.press("u", "t", "l")
        await settle(pilot)
        assert app.screen is screen
        assert state_of("munich-van-0004") == "active"
        app.run_command(keys.BY_ID["suspend"])  # forced, as from a stale palette
        await wait_for(pilot, lambda: "cannot suspend" in notes(app))
        assert state_of("munich-van-0004") == "active"


async def test_link_sim_yes_links_and_says_so(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "reefer-0018")
        await pilot.press("l")
        picker = await dialog(pilot, SimPicker)
        await wait_for(pilot, lambda: not picker.busy)
        assert picker.sims.count == 3
        await pilot.press("tab")  # nothing typed; to the search box
        picker.query_one("#sim-search", Input).value = POOL[1][:18]
        await wait_for(pilot, lambda: not picker.busy and picker.sims.count == 1)
        assert picker.sims.cursor_row.iccid == POOL[1]
        await pilot.click("#attach")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == CONTINUE
        await pilot.click("#yes")
        await wait_for(pilot, lambda: f"SIM {POOL[1]} linked successfully" in notes(app))
        ep = Endpoint.get(Endpoint.name == "reefer-0018")
        assert ep.state == "active" and ep.iccid == POOL[1]
        await settle(pilot)
        assert endpoints_screen(app).endpoint_list.cursor_row.state == "active"


async def test_link_sim_no_changes_nothing(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "factory-spare-0019")
        await pilot.press("l")
        picker = await dialog(pilot, SimPicker)
        await wait_for(pilot, lambda: not picker.busy)
        await pilot.press("enter")
        await dialog(pilot, ConfirmScreen)
        await pilot.click("#no")
        await settle(pilot)
        assert state_of("factory-spare-0019") == "hold"
        assert Sim.select().where(Sim.endpoint.is_null()).count() == 3


async def test_the_sim_picker_opens_on_its_search_and_an_eid_narrows_it(
    pool_db: str, make_app: Any
) -> None:
    from textual.widgets import Input

    from tests.tui.conftest import POOL

    eid = Sim.get(Sim.iccid == POOL[1]).eid
    assert eid
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "factory-spare-0019")
        await pilot.press("l")
        picker = await dialog(pilot, SimPicker)
        search_box = picker.query_one("#sim-search", Input)
        assert picker.focused is search_box
        await wait_for(pilot, lambda: not picker.busy)
        assert picker.sims.count == 3
        await pilot.press(*eid[:24])
        await wait_for(pilot, lambda: not picker.busy and picker.sims.count == 1)
        assert picker.sims.cursor_row.iccid == POOL[1]
        await pilot.press("enter")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == CONTINUE
        assert confirm.lines == [f"SIM {POOL[1]} will be linked to factory-spare-0019."]
        await pilot.click("#yes")
        await wait_for(pilot, lambda: state_of("factory-spare-0019") != "hold")
        assert Sim.get(Sim.iccid == POOL[1]).endpoint_id == Endpoint.get(
            Endpoint.name == "factory-spare-0019").id


async def test_delink_yes_frees_the_sim(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "porto-bus-0008")
        iccid = Endpoint.get(Endpoint.name == "porto-bus-0008").iccid
        await pilot.press("x")
        confirm = await dialog(pilot, ConfirmScreen)
        # Under the seed's words, the SIM and the endpoint it leaves.
        assert confirm.lines[:2] == [CONTINUE,
                                     f"SIM {iccid} will be de-linked from porto-bus-0008."]
        await pilot.click("#yes")
        await wait_for(pilot, lambda: f"SIM {iccid} de-linked successfully" in notes(app))
        assert state_of("porto-bus-0008") == "hold"
        assert Sim.get(Sim.iccid == iccid).endpoint_id is None


async def test_assign_to_group_picks_a_group(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "seattle-van-0013")
        await pilot.press("A")
        picker = await wait_for(pilot, lambda: app.screen.query("#group-list") and app.screen)
        assert "cold-chain  (" in str(picker.query_one("#group-list").get_option_at_index(0)
                                      .prompt)
        await pilot.press("enter")  # the first group: cold-chain
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: state_of("seattle-van-0013") == "active")


def test_link_sim_picker_120x36(snap_compare: Any, pool_db: str, make_app: Any) -> None:
    async def open_picker(pilot: Any) -> None:
        await on_endpoint(pilot, "reefer-0018")
        await pilot.press("l")
        picker = await dialog(pilot, SimPicker)
        await wait_for(pilot, lambda: not picker.busy)
        await pilot.pause()

    assert snap_compare(make_app(pool_db), terminal_size=(120, 36), run_before=open_picker)

