"""From one screen to the thing it names: a SIM's endpoint, a job's audit events, an
audit event's endpoint, an endpoint's history by ICCID."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from simdeck.core import actions, auth, db
from simdeck.core.actions import Targets
from simdeck.core.models import AuditEvent, Endpoint, Sim
from simdeck.tui.screens.audit import AuditScreen
from simdeck.tui.screens.jobs import JobsScreen
from simdeck.tui.screens.sims import SimsScreen
from tests.tui import fleet
from tests.tui.conftest import (
    at_rest,
    endpoints_screen,
    notes,
    on_endpoint,
    settle,
    wait_for,
)
from tests.tui.test_audit_screen import db_ids, shown_ids


async def back_home(pilot: Any) -> Any:
    home = endpoints_screen(pilot.app)
    await wait_for(pilot, lambda: pilot.app.screen is home)
    await settle(pilot)
    return home


async def test_h_shows_the_history_by_iccid_and_enter_goes_back_to_the_endpoint(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "reefer-0016")
        ep = Endpoint.get(Endpoint.name == "reefer-0016")
        await pilot.press("h")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen)
                                and app.screen)
        await wait_for(pilot, lambda: screen.filter.endpoint_id == ep.id)
        await at_rest(pilot, screen)
        assert screen.query_one("#audit-endpoint", Input).value == ep.iccid
        assert shown_ids(screen) == db_ids(AuditEvent.endpoint_id == ep.id)
        screen.events.focus()
        await pilot.press("enter")
        home = await back_home(pilot)
        rows = home.endpoint_list.visible_rows()
        assert [r.name for r in rows] == ["reefer-0016"]
        assert home.endpoint_list.cursor_row.name == "reefer-0016"


async def test_enter_on_a_linked_sim_opens_its_endpoint_and_on_a_pool_sim_says_why(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        sims = await wait_for(pilot, lambda: isinstance(app.screen, SimsScreen) and app.screen)
        await wait_for(pilot, lambda: sims.sims.cursor_row is not None and not sims.busy)
        row = sims.sims.cursor_row
        linked = Sim.get(Sim.iccid == row.iccid)
        assert linked.endpoint_id is not None
        await pilot.press("enter")
        home = await back_home(pilot)
        assert [r.id for r in home.endpoint_list.visible_rows()] == [linked.endpoint_id]
        await pilot.press("2")
        await wait_for(pilot, lambda: app.screen is sims)
        await pilot.press("end")
        await wait_for(pilot, lambda: sims.sims.cursor_row is not None
                       and sims.sims.cursor_row.endpoint_id is None)
        pool = sims.sims.cursor_row.iccid
        await pilot.press("enter")
        await wait_for(pilot, lambda: f"SIM {pool} is Ready to Activate" in notes(app))
        assert app.screen is sims


async def test_enter_on_a_job_shows_the_audit_events_it_wrote(
    pool_db: str, make_app: Any
) -> None:
    db.open_database(pool_db)
    alice = auth.login(user=fleet.USER)
    ids = tuple(Endpoint.get(Endpoint.name == n).id for n in ("reefer-0015", "reefer-0017"))
    result = actions.run(alice, "suspend", Targets(ids=ids))
    db.database.close()
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        jobs = await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen)
        await wait_for(pilot, lambda: jobs.jobs)
        await pilot.press("enter")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen)
                                and app.screen)
        await wait_for(pilot, lambda: screen.filter.job == result.job)
        await at_rest(pilot, screen)
        assert shown_ids(screen) == db_ids(AuditEvent.job == result.job)
        assert len(shown_ids(screen)) == 2
        assert f"filtered: job {result.job}" in screen.status_text()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.filter.job is None)
        await at_rest(pilot, screen)
        assert len(shown_ids(screen)) > 2
