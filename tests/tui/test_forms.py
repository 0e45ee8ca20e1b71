"""The Endpoints screen's forms: edit endpoint, new endpoint, reinstate (support).

Each test presses the keys an operator would, then checks what the screen shows and
what the database holds (fields, audit events), including when nothing may change.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from textual.widgets import Button, Checkbox, Input, Select

from simdeck.core import auth, models, records
from simdeck.core.identifiers import make_iccid, make_imei
from simdeck.core.models import AuditEvent, Endpoint, EndpointTag, Operator, Sim
from simdeck.tui import keys
from simdeck.tui.screens.dialogs import SimPicker
from simdeck.tui.screens.forms import EditEndpointForm, Form, NewEndpointForm, ReinstateForm
from tests.tui import fleet
from tests.tui.conftest import (
    POOL,
    dialog,
    endpoints_screen,
    notes,
    on_endpoint,
    search,
    settle,
    wait_for,
)

EDITED = "munich-van-0004"
IMEI = make_imei("35693803564380")


@pytest.fixture
def support_db(pool_db: str) -> str:
    """The pool fleet with a support operator, ``sam``."""
    from simdeck.core import db

    db.open_database(pool_db)
    Operator.create(username="sam", role="support", created_by=fleet.USER)
    db.database.close()
    return pool_db


def row(name: str) -> Endpoint:
    return Endpoint.get(Endpoint.name == name)


def events(action: str, endpoint_id: int | None = None) -> list[AuditEvent]:
    query = AuditEvent.select().where(AuditEvent.action == action)
    if endpoint_id is not None:
        query = query.where(AuditEvent.endpoint_id == endpoint_id)
    return list(query.order_by(AuditEvent.id))


def snapshot(name: str) -> dict[str, Any]:
    """What an edit may change, as stored."""
    ep = row(name)
    return {"name": ep.name, "tags": ep.tags, "reference": ep.reference,
            "static_ip": ep.static_ip, "imei_lock": ep.imei_lock, "version": ep.version}


def fill(form: Form, key: str, text: str) -> None:
    """Replace what the field holds, as if typed."""
    box = form.query_one(f"#{key}", Input)
    box.value = ""
    box.insert_text_at_cursor(text)


def under(form: Form, key: str) -> str:
    """The message under a field ('' when none is shown)."""
    field = form.field(key)
    return field.problem if field.has_class("-invalid") else ""


async def open_edit(pilot: Any, name: str = EDITED) -> EditEndpointForm:
    await on_endpoint(pilot, name)
    await pilot.press("e")
    form = await dialog(pilot, EditEndpointForm)
    await pilot.pause()
    return form


async def saved(pilot: Any, form: Form) -> None:
    """Press Save and wait for the form to close."""
    await pilot.click("#save")
    await wait_for(pilot, lambda: pilot.app.screen is not form)


# --- edit ---------------------------------------------------------------------------------


async def test_edit_shows_the_endpoint_as_it_is(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_edit(pilot, "berlin-taxi-0001")
        assert form.query_one("#name", Input).value == "berlin-taxi-0001"
        assert form.query_one("#tags", Input).value == "eu, fleet-a"
        assert form.query_one("#reference", Input).value == "VIN-WVW001"
        assert form.query_one("#static_ip", Input).value == "10.20.0.1"
        assert form.query_one("#imei_lock", Input).value == ""
        assert app.focused is form.query_one("#name", Input)
        assert "IP pool 10.20.0.0/16" in form.intro()


async def test_edit_saves_only_what_changed_and_the_screen_shows_it(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_edit(pilot)
        before = snapshot(EDITED)
        fill(form, "name", "munich-van-0004-x")
        fill(form, "tags", "Fleet-B, eu night")
        fill(form, "static_ip", "10.20.9.4")
        fill(form, "imei_lock", IMEI[:14])  # the check digit is added
        await saved(pilot, form)
        await wait_for(pilot, lambda: "Saved munich-van-0004-x" in notes(app))
        ep = row("munich-van-0004-x")
        assert ep.tags == "eu fleet-b night"
        assert ep.reference == before["reference"]
        assert ep.static_ip == "10.20.9.4" and ep.imei_lock == IMEI
        assert ep.version == before["version"] + 1
        assert sorted(t.tag for t in EndpointTag.select().where(EndpointTag.endpoint == ep.id)) == [
            "eu", "fleet-b", "night"]
        (event,) = events("edit", ep.id)
        assert event.actor == fleet.USER
        assert set(json.loads(event.detail)) == {"name", "tags", "static_ip", "imei_lock"}
        await settle(pilot)
        screen = endpoints_screen(app)
        # The list was filtered by the old name: the search box still says it, so search anew.
        await search(pilot, "munich-van-0004-x")
        assert screen.endpoint_list.cursor_row.name == "munich-van-0004-x"


async def test_edit_cancelled_changes_nothing(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_edit(pilot)
        before = snapshot(EDITED)
        fill(form, "name", "renamed")
        fill(form, "static_ip", "10.20.9.4")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not form)
        await settle(pilot)
        assert snapshot(EDITED) == before
        assert events("edit") == []


async def test_edit_with_nothing_changed_writes_nothing(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_edit(pilot)
        before = snapshot(EDITED)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not form)
        assert "Nothing was changed" in notes(app)
        assert snapshot(EDITED) == before
        assert events("edit") == []


@pytest.mark.parametrize(
    ("key", "typed", "message"),
    [
        ("name", "van\x07four",
         "name van\\x07four: contains a control character (U+0007) at position 4"),
        ("tags", "fleet-a, fleet/b", "tag fleet/b: contains the character '/'"),
        ("reference", "R" * 129, "reference " + "R" * 64),
        ("static_ip", "10.20.0.300", "static IP 10.20.0.300: is not an IPv4 or IPv6 address"),
        ("imei_lock", "35693803", "IMEI 35693803: has 8 digits, expected 15"),
    ],
)
async def test_edit_invalid_field_is_named_under_it_and_not_saved(
    pool_db: str, make_app: Any, key: str, typed: str, message: str
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_edit(pilot)
        before = snapshot(EDITED)
        form.query_one(f"#{key}", Input).focus()
        await pilot.pause()
        fill(form, key, typed)
        await pilot.press("tab")  # leaving the field checks it
        await pilot.pause()
        assert under(form, key).startswith(message)
        others = [f.key for f in form.form_fields if f.key != key]
        assert all(under(form, other) == "" for other in others)
        await pilot.click("#save")
        await pilot.pause()
        assert app.screen is form
        assert "1 field is not valid" in form.problem
        assert app.focused is form.query_one(f"#{key}", Input)
        assert snapshot(EDITED) == before
        assert events("edit") == []


async def test_an_error_clears_as_soon_as_it_is_fixed(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_edit(pilot)
        form.query_one("#imei_lock", Input).focus()
        await pilot.press(*"3569")
        assert under(form, "imei_lock") == ""  # quiet while first typed
        await pilot.press("tab")
        assert "IMEI 3569: has 4 digits" in under(form, "imei_lock")
        form.query_one("#imei_lock", Input).focus()
        await pilot.press(*IMEI[4:])
        assert under(form, "imei_lock") == ""
        await pilot.press("backspace")
        assert "has 14 digits" not in under(form, "imei_lock")  # 14 digits is accepted
        await pilot.press("escape")


@pytest.mark.parametrize(
    ("ip", "message"),
    [
        ("10.20.0.1", "static IP 10.20.0.1: is already used by"),
        ("192.168.4.4", "static IP 192.168.4.4: is outside the IP pool 10.20.0.0/16 of "
                        "group vantiq-connect-eu"),
    ],
)
async def test_edit_static_ip_refused_by_core_is_shown_in_the_form(
    pool_db: str, make_app: Any, ip: str, message: str
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_edit(pilot)
        before = snapshot(EDITED)
        fill(form, "static_ip", ip)
        fill(form, "name", "not-saved")
        await pilot.click("#save")
        await wait_for(pilot, lambda: under(form, "static_ip"))
        assert under(form, "static_ip").startswith(message)
        assert form.problem == "Nothing was saved."
        assert app.screen is form
        assert snapshot(EDITED) == before
        assert events("edit") == []
        await pilot.press("escape")


async def test_edit_conflict_says_so_keeps_the_other_change_and_reloads(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_edit(pilot)
        ep = row(EDITED)
        # Another operator changes the reference while the form is open.
        other = auth.Actor("bob", auth.Role.OPERATOR)
        records.edit_endpoint(other, ep.id, reference="CHANGED-BY-BOB")
        fill(form, "name", "mine")
        fill(form, "reference", "MINE")
        await pilot.click("#save")
        await wait_for(pilot, lambda: "changed by someone else" in form.problem)
        assert "nothing was saved" in form.problem
        assert "Reload" in form.problem
        reload = form.query_one("#reload", Button)
        assert reload.display and app.focused is reload
        after = row(EDITED)
        assert after.reference == "CHANGED-BY-BOB" and after.name == EDITED
        assert [e.actor for e in events("edit", ep.id)] == ["bob"]
        await pilot.press("enter")  # Reload
        fresh = await wait_for(
            pilot, lambda: isinstance(app.screen, EditEndpointForm) and app.screen is not form
            and app.screen
        )
        await pilot.pause()
        assert fresh.query_one("#reference", Input).value == "CHANGED-BY-BOB"
        fill(fresh, "name", "mine")
        await saved(pilot, fresh)
        await wait_for(pilot, lambda: "Saved mine" in notes(app))
        after = row("mine")
        assert after.reference == "CHANGED-BY-BOB"


async def test_edit_is_not_offered_on_a_terminated_endpoint(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "denver-suv-0012")
        screen = endpoints_screen(app)
        assert screen.check_action("edit", ()) is False
        await pilot.press("e")
        await settle(pilot)
        assert app.screen is screen


# --- who may ------------------------------------------------------------------------------


async def test_a_viewer_is_offered_no_form(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db, user="vera")
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "denver-suv-0012")
        screen = endpoints_screen(app)
        for action in ("edit", "new_endpoint", "reinstate"):
            assert screen.check_action(action, ()) is False
        await search(pilot, EDITED)
        assert screen.check_action("edit", ()) is False
        before = snapshot(EDITED)
        count = Endpoint.select().count()
        await pilot.press("e", "n", "I")
        await settle(pilot)
        assert app.screen is screen
        footer = " ".join(b.binding.description for b in screen.active_bindings.values()
                          if b.binding.show and b.enabled)
        assert "Edit" not in footer and "New" not in footer
        app.run_command(keys.BY_ID["edit"])  # forced, as from a stale palette
        await wait_for(pilot, lambda: "cannot edit" in notes(app))
        assert snapshot(EDITED) == before and Endpoint.select().count() == count


async def test_read_only_is_offered_no_form(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db, read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, EDITED)
        screen = endpoints_screen(app)
        for action in ("edit", "new_endpoint", "reinstate"):
            assert screen.check_action(action, ()) is False
        await pilot.press("e", "n")
        await settle(pilot)
        assert app.screen is screen
        assert not isinstance(app.screen, Form)


# --- new endpoint -------------------------------------------------------------------------


async def open_new(pilot: Any) -> NewEndpointForm:
    await settle(pilot)
    await pilot.press("n")
    form = await dialog(pilot, NewEndpointForm)
    await pilot.pause()
    return form


async def test_new_endpoint_without_a_sim_is_hold(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_new(pilot)
        assert app.focused is form.query_one("#name", Input)
        assert form.query_one("#activate", Checkbox).value is True
        fill(form, "name", "kiel-ferry-0040")
        fill(form, "tags", "Ferry, eu")
        fill(form, "reference", "IMO-9000")
        form.query_one("#group", Select).value = "cold-chain"
        await saved(pilot, form)
        await wait_for(pilot, lambda: "Created kiel-ferry-0040: the endpoint is Hold" in notes(app))
        ep = row("kiel-ferry-0040")
        assert (ep.state, ep.tags, ep.reference, ep.iccid) == ("hold", "eu ferry", "IMO-9000", "")
        assert ep.group.name == "cold-chain"
        (event,) = events("created", ep.id)
        assert event.actor == fleet.USER and event.to_state == "hold"
        await search(pilot, "kiel-ferry")
        assert endpoints_screen(app).endpoint_list.cursor_row.state == "hold"


@pytest.mark.parametrize(
    ("group", "activate", "state", "label"),
    [
        ("vantiq-connect-eu", True, "active", "Active"),
        ("vantiq-connect-eu", False, "pre-active", "Pre-Active"),
        ("", True, "pending", "Pending"),
    ],
)
async def test_new_endpoint_with_a_sim_from_the_picker(
    pool_db: str, make_app: Any, group: str, activate: bool, state: str, label: str
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_new(pilot)
        fill(form, "name", "kiel-ferry-0041")
        form.query_one("#group", Select).value = group
        if not activate:
            form.query_one("#activate", Checkbox).value = False
        await pilot.click("#choose-sim")
        picker = await dialog(pilot, SimPicker)
        await wait_for(pilot, lambda: not picker.busy)
        assert picker.sims.cursor_row.iccid == POOL[0]
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is form)
        assert form.query_one("#sim", Input).value == POOL[0]
        assert app.focused is form.query_one("#save", Button)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not form)
        await wait_for(pilot, lambda: f"Created kiel-ferry-0041 with SIM {POOL[0]}: the "
                                      f"endpoint is {label}" in notes(app))
        ep = row("kiel-ferry-0041")
        assert ep.state == state and ep.iccid == POOL[0]
        assert Sim.get(Sim.iccid == POOL[0]).endpoint_id == ep.id
        (event,) = events("created", ep.id)
        assert json.loads(event.detail)["sim"] == POOL[0]


@pytest.mark.parametrize(
    ("iccid", "message", "inline"),
    [
        (POOL[0][:-1] + str((int(POOL[0][-1]) + 1) % 10), "ICCID ", True),
        ("12345", "ICCID 12345: has 5 digits", True),
        (make_iccid(f"8949{999:014d}"), "no SIM with this ICCID is in the inventory", False),
        ("linked", "only a Ready to Activate SIM can be linked", False),
    ],
)
async def test_new_endpoint_with_a_wrong_sim_creates_nothing(
    pool_db: str, make_app: Any, iccid: str, message: str, inline: bool
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        if iccid == "linked":
            iccid = row(EDITED).iccid
        count = Endpoint.select().count()
        form = await open_new(pilot)
        fill(form, "name", "kiel-ferry-0042")
        fill(form, "sim", iccid)
        await pilot.press("enter")
        await wait_for(pilot, lambda: under(form, "sim"))
        assert message in under(form, "sim")
        assert under(form, "sim").startswith("ICCID")
        assert form.problem == ("1 field is not valid (see the message under it); nothing was "
                                "saved." if inline else "Nothing was saved.")
        assert app.screen is form
        assert Endpoint.select().count() == count
        assert not Endpoint.select().where(Endpoint.name == "kiel-ferry-0042").exists()


async def test_new_endpoint_at_80x24_scrolls_to_the_wrong_field(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_new(pilot)
        fill(form, "sim", "8912")
        await pilot.press("enter")
        await wait_for(pilot, lambda: under(form, "sim"))
        await pilot.pause()
        sim, foot = form.field("sim"), form.query_one(".form-foot")
        assert app.focused is sim.input
        # The field and its message are on screen, above the docked buttons.
        assert sim.region.height >= 2 and sim.region.bottom <= foot.region.y
        assert form.query_one("#save").region.bottom <= 23


async def test_new_endpoint_invalid_tag_is_named(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        count = Endpoint.select().count()
        form = await open_new(pilot)
        fill(form, "tags", "ok, not ok!")
        await pilot.click("#save")
        await pilot.pause()
        assert under(form, "tags") == "tag ok!: contains the character '!'"
        assert Endpoint.select().count() == count


async def test_new_endpoint_cancelled_creates_nothing(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        count = Endpoint.select().count()
        form = await open_new(pilot)
        fill(form, "name", "never")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not form)
        await settle(pilot)
        assert Endpoint.select().count() == count
        assert not Endpoint.select().where(Endpoint.name == "never").exists()


# --- reinstate ----------------------------------------------------------------------------

TERMINATED = "denver-suv-0012"


async def open_reinstate(pilot: Any) -> ReinstateForm:
    await on_endpoint(pilot, TERMINATED)
    await pilot.press("I")
    form = await dialog(pilot, ReinstateForm)
    await pilot.pause()
    return form


def terminated_days_ago(days: int) -> None:
    """Core counts the 90 days on the real clock, not the fleet's fixed one."""
    Endpoint.update(terminated_at=models.utcnow() - dt.timedelta(days=days)).where(
        Endpoint.name == TERMINATED).execute()


async def test_reinstate_by_support_returns_the_state_before(
    support_db: str, make_app: Any
) -> None:
    app = make_app(support_db, user="sam")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        terminated_days_ago(2)
        ep = row(TERMINATED)
        before, iccid = ep.state_before_termination, ep.iccid
        assert before == "active"
        form = await open_reinstate(pilot)
        assert "state it had before termination (Active)" in form.intro()
        assert f"SIM {iccid} included" in form.intro()
        assert app.focused is form.query_one("#ticket", Input)
        await pilot.press(*"SUP-1234", "enter")
        await wait_for(pilot, lambda: app.screen is not form)
        await wait_for(pilot, lambda: f"Reinstated {TERMINATED}: the endpoint is Active again"
                                      in notes(app))
        ep = row(TERMINATED)
        assert ep.state == "active" and ep.iccid == iccid
        assert Sim.get(Sim.iccid == iccid).endpoint_id == ep.id
        (event,) = events("reinstate", ep.id)
        assert event.actor == "sam" and json.loads(event.detail) == {"ticket": "SUP-1234"}
        await settle(pilot)
        assert endpoints_screen(app).endpoint_list.cursor_row.state == "active"


async def test_reinstate_needs_a_ticket(support_db: str, make_app: Any) -> None:
    app = make_app(support_db, user="sam")
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_reinstate(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert under(form, "ticket") == "ticket: is required to reinstate an endpoint"
        assert app.screen is form
        assert row(TERMINATED).state == "terminated" and events("reinstate") == []


async def test_reinstate_after_90_days_is_refused_in_cores_words(
    support_db: str, make_app: Any
) -> None:
    app = make_app(support_db, user="sam")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        terminated_days_ago(100)
        form = await open_reinstate(pilot)
        fill(form, "ticket", "SUP-9")
        await pilot.click("#save")
        await wait_for(pilot, lambda: "Nothing was saved" in form.problem
                       or "nothing" in form.problem.lower())
        assert "90 days" in form.problem
        assert app.screen is form
        assert row(TERMINATED).state == "terminated" and events("reinstate") == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not form)


async def test_reinstate_cancelled_changes_nothing(support_db: str, make_app: Any) -> None:
    app = make_app(support_db, user="sam")
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_reinstate(pilot)
        fill(form, "ticket", "SUP-1")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not form)
        assert row(TERMINATED).state == "terminated" and events("reinstate") == []


async def test_reinstate_refused_to_a_non_support_operator(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)  # alice, an admin
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, TERMINATED)
        screen = endpoints_screen(app)
        assert screen.check_action("reinstate", ()) is False
        await pilot.press("I")
        await settle(pilot)
        assert app.screen is screen
        screen.action_reinstate()  # forced past the key: core's words
        await wait_for(pilot, lambda: "cannot reinstate endpoints: alice has the admin role"
                                      in notes(app))
        assert not isinstance(app.screen, Form)
        assert row(TERMINATED).state == "terminated" and events("reinstate") == []


async def test_reinstate_is_offered_only_on_terminated(support_db: str, make_app: Any) -> None:
    app = make_app(support_db, user="sam")
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, EDITED)
        screen = endpoints_screen(app)
        assert screen.check_action("reinstate", ()) is False
        await search(pilot, TERMINATED)
        assert screen.check_action("reinstate", ()) is True


# --- how they look ------------------------------------------------------------------------


def _edit(name: str = EDITED, *, bad: bool = False) -> Any:
    async def run_before(pilot: Any) -> None:
        form = await open_edit(pilot, name)
        if bad:
            form.query_one("#static_ip", Input).focus()
            fill(form, "static_ip", "10.20.0.300")
            await pilot.press("tab")
            await pilot.click("#save")
        await pilot.pause()

    return run_before


def test_edit_dialog_120x36(snap_compare: Any, pool_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(pool_db), terminal_size=(120, 36),
                        run_before=_edit("berlin-taxi-0001"))


def test_edit_dialog_with_an_error_120x36(snap_compare: Any, pool_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(pool_db), terminal_size=(120, 36), run_before=_edit(bad=True))


def test_edit_dialog_80x24(snap_compare: Any, pool_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(pool_db), terminal_size=(80, 24),
                        run_before=_edit("berlin-taxi-0001"))


def test_new_endpoint_dialog_120x36(snap_compare: Any, pool_db: str, make_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        form = await open_new(pilot)
        fill(form, "name", "kiel-ferry-0040")
        await pilot.pause()

    assert snap_compare(make_app(pool_db), terminal_size=(120, 36), run_before=run_before)


def test_new_endpoint_dialog_80x24(snap_compare: Any, pool_db: str, make_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await open_new(pilot)

    assert snap_compare(make_app(pool_db), terminal_size=(80, 24), run_before=run_before)


def test_reinstate_dialog_120x36(snap_compare: Any, support_db: str, make_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await open_reinstate(pilot)

    assert snap_compare(make_app(support_db, user="sam"), terminal_size=(120, 36),
                        run_before=run_before)


async def test_n_then_enter_creates_nothing(pool_db: str, make_app: Any) -> None:
    """A stray Enter on the empty form: nothing created, the form says why and stays."""
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        count = Endpoint.select().count()
        form = await open_new(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Give a name, a reference or a SIM" in form.problem)
        assert app.screen is form
        assert app.focused is form.query_one("#name", Input)
        # A group alone does not identify an endpoint either.
        form.query_one("#group", Select).value = "cold-chain"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen is form
        assert Endpoint.select().count() == count
        # A reference alone does.
        fill(form, "reference", "PO-77")
        await saved(pilot, form)
        await wait_for(pilot, lambda: Endpoint.select().count() == count + 1)
        assert Endpoint.get(Endpoint.reference == "PO-77").state == "hold"
