"""The actions menu, the footer and the palette offer only what the state and role allow."""

from __future__ import annotations

from typing import Any

from textual.widgets import OptionList

from simdeck.core import auth, db, settings
from simdeck.tui import keys
from simdeck.tui.keys import CommandsProvider
from simdeck.tui.screens.dialogs import ActionsMenu, ConfirmScreen
from simdeck.tui.widgets.detail import DetailPane
from tests.tui import fleet
from tests.tui.conftest import (
    at_rest,
    dialog,
    endpoints_screen,
    notes,
    on_endpoint,
    search,
    settle,
    state_of,
    wait_for,
)


def menu_ids(menu: ActionsMenu) -> list[str]:
    options = menu.query_one("#actions-list", OptionList)
    return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]


def footer_actions(app: Any) -> set[str]:
    """The actions whose keys the footer shows now."""
    return {
        binding.action
        for _node, binding, enabled, _tip in app.screen.active_bindings.values()
        if binding.show and enabled
    }


async def test_menu_of_an_active_endpoint_runs_the_chosen_action(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        await pilot.press("a")
        menu = await dialog(pilot, ActionsMenu)
        assert menu.title_text == "Actions on munich-van-0004 (Active)"
        ids = menu_ids(menu)
        assert ids == ["assign_group", "suspend", "delink", "terminate", "edit"]
        await pilot.press(*["down"] * ids.index("suspend"), "enter")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Suspend: 1 of 1 endpoints will change"
        await pilot.press("enter")
        await wait_for(pilot, lambda: state_of("munich-van-0004") == "suspended")


async def test_menu_of_a_hold_endpoint_offers_link_not_suspend(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "factory-spare-0019")
        await pilot.press("a")
        menu = await dialog(pilot, ActionsMenu)
        assert menu_ids(menu) == ["link", "assign_group", "terminate", "edit"]
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ActionsMenu)
        assert state_of("factory-spare-0019") == "hold"


async def test_menu_on_marks_offers_the_bulk_actions(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "reefer")
        await pilot.press("asterisk", "a")
        menu = await dialog(pilot, ActionsMenu)
        assert menu.title_text.startswith("Actions on all 6 matching marked")
        # Active, Idle, Detached, Suspended and Hold reefers: no Pre-Active one to activate,
        # and resume waits on the deployment's policy (allow_resume is off).
        await wait_for(pilot, lambda: endpoints_screen(app)._marked_states is not None)
        await pilot.press("escape")
        await pilot.press("a")
        menu = await dialog(pilot, ActionsMenu)
        assert menu_ids(menu) == ["assign_group", "suspend", "delink", "terminate"]


async def test_marks_that_no_action_allows_are_offered_none_of_it(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "reefer-0018")  # the one in Hold
        await pilot.press("asterisk")
        await wait_for(pilot, lambda: endpoints_screen(app)._marked_states == {"hold": 1})
        await settle(pilot)
        shown = footer_actions(app)
        assert not shown & {"suspend", "resume", "activate", "delink"}
        assert "assign_group" in shown and "terminate" in shown
        await pilot.press("u")  # not offered: the key does nothing, nothing changes
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert state_of("reefer-0018") == "hold"


async def test_an_empty_list_offers_no_endpoint_action(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "no-such-endpoint-anywhere")
        assert endpoints_screen(app).endpoint_list.count == 0
        shown = footer_actions(app)
        assert not shown & {"suspend", "terminate", "assign_group", "edit", "delink",
                            "actions_menu", "history"}


async def test_a_viewer_is_offered_no_action(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db, user="vera")
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        await pilot.press("a")
        menu = await dialog(pilot, ActionsMenu)
        assert menu_ids(menu) == []
        assert "Nothing can be done to it" in str(menu.query_one("#actions-none").render())
        await pilot.press("escape")
        await settle(pilot)
        shown = footer_actions(app)
        assert not shown & {"suspend", "terminate", "link", "delink", "assign_group", "edit"}


async def test_read_only_is_offered_no_action(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db, read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        assert not footer_actions(app) & {c.id for c in keys.COMMANDS if c.role.value != "viewer"}
        await pilot.press("u", "t")
        await settle(pilot)
        assert isinstance(app.screen, type(endpoints_screen(app)))
        assert state_of("munich-van-0004") == "active"


async def test_the_footer_follows_the_cursor_rows_state(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(160, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        active = footer_actions(app)
        assert {"actions_menu", "suspend", "terminate", "delink"} <= active
        assert not active & {"link", "activate", "resume"}
        await on_endpoint(pilot, "factory-spare-0019")
        await wait_for(pilot, lambda: "link" in footer_actions(app))
        hold = footer_actions(app)
        assert "suspend" not in hold and "delink" not in hold
        # A key the state forbids does nothing.
        await pilot.press("u")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert state_of("factory-spare-0019") == "hold"


async def test_the_detail_pane_lists_the_actions_with_their_keys(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0005")
        pane = endpoints_screen(app).query_one(DetailPane)
        text = await wait_for(pilot, lambda: pane.view and str(
            pane.query_one("#detail-body").render()))
        assert "Actions  (a: menu)" in text
        # Suspended, and this deployment does not allow resume: not offered.
        assert "R Resume" not in text and "x De-link" in text and "u Suspend" not in text
        assert "resume" not in footer_actions(app)
        # An admin turns the policy on elsewhere: the pane and the footer follow.
        db.open_database(pool_db)
        settings.set_setting(auth.login(user=fleet.USER), "allow_resume", "true")
        db.database.close()
        await wait_for(pilot, lambda: "R Resume" in str(pane.query_one("#detail-body").render()),
                       timeout=6)
        assert "resume" in footer_actions(app)


async def test_the_palette_offers_what_the_row_allows_and_refuses_a_stale_choice(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "factory-spare-0019")
        provider = CommandsProvider(app.screen)
        labels = [str(hit.text) for hit in [h async for h in provider.discover()]]
        assert "Link SIM" in labels and "Suspend" not in labels
        # Chosen from a palette opened before the row changed: refused with the reason.
        app.run_command(keys.BY_ID["suspend"])
        await wait_for(pilot, lambda: "suspend is allowed only from" in notes(app))
        assert state_of("factory-spare-0019") == "hold"


async def test_screens_one_key_away_and_back(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for key, mode, title in keys.SCREENS[1:]:
            await pilot.press(key)
            await wait_for(pilot, lambda mode=mode: app.current_mode == mode)
            await pilot.pause()
            top = str(app.screen.query_one("#topbar").render())
            assert f" {key} {title} " in top
            await pilot.press("1")
            await wait_for(pilot, lambda: app.current_mode == "endpoints")
            await settle(pilot)
            assert app.screen is endpoints_screen(app)


async def test_purge_is_offered_to_an_admin_whatever_the_row(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        assert endpoints_screen(app).check_action("purge", ()) is True
    viewer = make_app(pool_db, user="vera")
    async with viewer.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert endpoints_screen(viewer).check_action("purge", ()) is False


async def test_h_opens_the_audit_log_of_the_cursor_endpoint(
    pool_db: str, make_app: Any
) -> None:
    from simdeck.core.models import AuditEvent, Endpoint
    from simdeck.tui.screens.audit import AuditScreen
    from tests.tui.test_audit_screen import db_ids, shown_ids

    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "reefer-0016")
        await pilot.press("h")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen)
                                and app.screen)
        await at_rest(pilot, screen)
        ep = Endpoint.get(Endpoint.name == "reefer-0016")
        assert shown_ids(screen) == db_ids(AuditEvent.endpoint_id == ep.id)
        assert len(shown_ids(screen)) >= 2


async def test_the_footer_follows_a_change_of_the_rows_state_in_place(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(160, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        assert "suspend" in footer_actions(app)
        await pilot.press("u")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: state_of("munich-van-0004") == "suspended")
        await wait_for(pilot, lambda: "suspend" not in footer_actions(app))
        assert "resume" not in footer_actions(app)  # allow_resume is off
        assert "terminate" in footer_actions(app)


async def test_a_keymap_shows_its_keys_in_the_menu_and_the_help(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    app.set_keymap({"endpoints.suspend": "ctrl+o"})
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        await pilot.press("a")
        menu = await dialog(pilot, ActionsMenu)
        options = menu.query_one("#actions-list", OptionList)
        prompts = {str(options.get_option_at_index(i).id):
                   str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)}
        assert "^o" in prompts["suspend"]
        assert "^o" not in prompts["delink"]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+o")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Suspend: 1 of 1 endpoints will change"
        await pilot.press("escape")
