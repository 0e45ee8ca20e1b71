"""The Endpoint Groups screen (key 3): the table, the form, delete, roles, snapshots."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Button, DataTable, Input

from simdeck.core import auth, db, queries, records
from simdeck.core.models import AuditEvent, Endpoint, EndpointGroup, Operator
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.screens.groups import GroupForm, GroupsScreen
from tests.tui import fleet
from tests.tui.conftest import dialog, endpoints_screen, notes, settle, wait_for


@pytest.fixture
def groups_db(fleet_db: str) -> str:
    """The fleet, an empty group ``spare-pool``, an operator ``oscar`` and a viewer ``vera``."""
    db.open_database(fleet_db)
    records.create_group(auth.login(user=fleet.USER), "spare-pool", description="Nothing here yet",
                         apn="spare.vantiq")
    Operator.create(username="oscar", role="operator", created_by=fleet.USER)
    Operator.create(username="vera", role="viewer", created_by=fleet.USER)
    db.database.close()
    return fleet_db


def text(cell: Any) -> str:
    """A table cell's text."""
    return str(getattr(cell, "plain", cell)).strip()


def shown(screen: GroupsScreen) -> list[list[str]]:
    """The table as the operator reads it, row by row."""
    table = screen.query_one("#groups-table", DataTable)
    return [[text(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def names_in_db() -> list[str]:
    return [g.name for g in EndpointGroup.select().order_by(EndpointGroup.name)]


async def to_groups(pilot: Any) -> GroupsScreen:
    """Key 3, once the Endpoints screen is at rest; the groups read."""
    await settle(pilot)
    await pilot.press("3")
    screen = await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, GroupsScreen) and pilot.app.screen._loaded
        and pilot.app.screen,
    )
    await pilot.pause()
    return screen  # type: ignore[no-any-return]


async def on_group(pilot: Any, screen: GroupsScreen, name: str) -> None:
    """The cursor on group ``name``."""
    index = [g["name"] for g in screen.groups].index(name)
    screen.query_one("#groups-table", DataTable).move_cursor(row=index)
    await pilot.pause()
    assert screen.current_group()["name"] == name  # type: ignore[index]


async def fill(pilot: Any, form: GroupForm, **values: str) -> None:
    """Type ``values`` into the form's fields (each replaced)."""
    for key, value in values.items():
        box = form.query_one(f"#gf-{key}", Input)
        box.value = ""
        box.insert_text_at_cursor(value)
    await pilot.pause()


async def reloaded(pilot: Any, screen: GroupsScreen, check: Any) -> None:
    await wait_for(pilot, lambda: screen._loaded and check())
    await pilot.pause()


# --- what it shows -------------------------------------------------------------------


async def test_key_3_shows_every_group_with_its_endpoint_count(
    groups_db: str, make_app: Any
) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        rows = shown(screen)
        expected = []
        for g in EndpointGroup.select().order_by(EndpointGroup.name):
            live = Endpoint.select().where(
                (Endpoint.group == g.id) & (Endpoint.state != "terminated")
            ).count()
            expected.append([g.name, g.description, g.apn or "—", g.ip_pool or "none",
                             str(live)])
        assert rows == expected
        assert [r[0] for r in rows] == ["cold-chain", "spare-pool", "vantiq-connect-eu",
                                        "vantiq-connect-us"]
        summary = str(screen.query_one("#groups-summary").render())
        assert "4 Endpoint Groups" in summary
        assert "22 live endpoints in groups" in summary


# --- create --------------------------------------------------------------------------


async def test_create_group_writes_it_and_shows_it(groups_db: str, make_app: Any) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        await pilot.press("n")
        form = await dialog(pilot, GroupForm)
        assert app.focused.id == "gf-name"
        await fill(pilot, form, name="agri-sensors", description="Soil probes",
                   apn="agri.vantiq", ip_pool="10.50.0.0/24")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "agri-sensors" in names_in_db())
        group = EndpointGroup.get(EndpointGroup.name == "agri-sensors")
        assert (group.description, group.apn, group.ip_pool) == (
            "Soil probes", "agri.vantiq", "10.50.0.0/24")
        await reloaded(pilot, screen, lambda: any(r[0] == "agri-sensors" for r in shown(screen)))
        assert ["agri-sensors", "Soil probes", "agri.vantiq", "10.50.0.0/24", "0"] in shown(screen)
        assert screen.current_group()["name"] == "agri-sensors"  # type: ignore[index]
        assert "Endpoint Group agri-sensors created" in notes(app)
        assert AuditEvent.select().where(AuditEvent.action == "group_created").order_by(
            AuditEvent.id.desc()).first().actor == fleet.USER


async def test_create_invalid_says_why_under_each_field_and_writes_nothing(
    groups_db: str, make_app: Any
) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await to_groups(pilot)
        before = names_in_db()
        await pilot.press("n")
        form = await dialog(pilot, GroupForm)
        await fill(pilot, form, name="Bad Name", ip_pool="10.0.0.1/8")
        await pilot.click("#save")
        assert "group name Bad Name" in form.problem("name")
        assert "lower case" in form.problem("name")
        assert "IP pool 10.0.0.1/8: has host bits set" in form.problem("ip_pool")
        assert form.problem("apn") == ""
        assert app.screen is form
        assert app.focused.id == "gf-name"
        # A name already taken, in core's words; the pool now right clears its message.
        await fill(pilot, form, name="cold-chain", ip_pool="10.0.0.0/8")
        assert form.problem("ip_pool") == ""
        await pilot.press("enter")
        assert form.problem("name") == "group name cold-chain: is already taken"
        await fill(pilot, form, name="", ip_pool="")
        await pilot.click("#save")
        assert "group name: is empty" in form.problem("name") or "group name" in form.problem(
            "name")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, GroupsScreen))
        assert names_in_db() == before


async def test_create_cancelled_writes_nothing(groups_db: str, make_app: Any) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        before = names_in_db()
        await pilot.press("n")
        form = await dialog(pilot, GroupForm)
        await fill(pilot, form, name="never-made")
        await pilot.click("#cancel")
        await wait_for(pilot, lambda: app.screen is screen)
        assert names_in_db() == before
        assert "never-made" not in [r[0] for r in shown(screen)]


# --- edit ----------------------------------------------------------------------------


async def test_edit_group_changes_the_database_and_the_row(groups_db: str, make_app: Any) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        await on_group(pilot, screen, "cold-chain")
        await pilot.press("e")
        form = await dialog(pilot, GroupForm)
        assert form.value("name") == "cold-chain"
        assert form.value("ip_pool") == "10.40.0.0/20"
        await fill(pilot, form, apn="cold2.vantiq", description="Reefers and freezers")
        await pilot.press("enter")
        await wait_for(pilot, lambda: EndpointGroup.get(EndpointGroup.name == "cold-chain").apn
                       == "cold2.vantiq")
        assert EndpointGroup.get(EndpointGroup.name == "cold-chain").description == \
            "Reefers and freezers"
        await reloaded(pilot, screen, lambda: shown(screen)[0][2] == "cold2.vantiq")
        assert shown(screen)[0] == ["cold-chain", "Reefers and freezers", "cold2.vantiq",
                                    "10.40.0.0/20", "6"]
        last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
        assert last.action == "group_edited"


async def test_edit_rename_keeps_the_cursor_on_the_group(groups_db: str, make_app: Any) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        await on_group(pilot, screen, "spare-pool")
        await pilot.press("e")
        form = await dialog(pilot, GroupForm)
        await fill(pilot, form, name="zz-spare")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "zz-spare" in names_in_db())
        assert "spare-pool" not in names_in_db()
        await reloaded(pilot, screen, lambda: shown(screen)[-1][0] == "zz-spare")
        assert screen.current_group()["name"] == "zz-spare"  # type: ignore[index]


async def test_edit_pool_refused_by_core_comes_back_under_the_field(
    groups_db: str, make_app: Any
) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        await on_group(pilot, screen, "vantiq-connect-eu")
        await pilot.press("e")
        form = await dialog(pilot, GroupForm)
        # Valid as a network, but the group's endpoints have static IPs outside it.
        await fill(pilot, form, ip_pool="10.99.0.0/16")
        await pilot.press("enter")
        again = await wait_for(
            pilot, lambda: isinstance(app.screen, GroupForm) and app.screen is not form
            and app.screen,
        )
        await pilot.pause()
        assert "IP pool 10.99.0.0/16: leaves" in again.problem("ip_pool")
        assert "static IPs of the group outside" in again.problem("ip_pool")
        assert again.value("ip_pool") == "10.99.0.0/16"
        assert EndpointGroup.get(EndpointGroup.name == "vantiq-connect-eu").ip_pool == \
            "10.20.0.0/16"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert EndpointGroup.get(EndpointGroup.name == "vantiq-connect-eu").ip_pool == \
            "10.20.0.0/16"


async def test_edit_with_nothing_changed_writes_nothing(groups_db: str, make_app: Any) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        events = AuditEvent.select().count()
        await on_group(pilot, screen, "cold-chain")
        await pilot.press("e")
        await dialog(pilot, GroupForm)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Nothing changed in cold-chain" in notes(app))
        assert AuditEvent.select().count() == events


# --- delete --------------------------------------------------------------------------


async def test_delete_empty_group_asks_with_no_focused_then_deletes(
    groups_db: str, make_app: Any
) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        await on_group(pilot, screen, "spare-pool")
        await pilot.press("delete")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Delete Endpoint Group spare-pool?"
        assert app.focused.id == "no"
        # Enter on the focused No: nothing happens.
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.pause(0.1)
        assert "spare-pool" in names_in_db()
        await pilot.press("delete")
        await dialog(pilot, ConfirmScreen)
        await pilot.click("#yes")
        await wait_for(pilot, lambda: "spare-pool" not in names_in_db())
        await reloaded(pilot, screen, lambda: "spare-pool" not in [r[0] for r in shown(screen)])
        assert "Endpoint Group spare-pool deleted" in notes(app)


async def test_delete_group_with_endpoints_is_refused_in_cores_words(
    groups_db: str, make_app: Any
) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        await on_group(pilot, screen, "cold-chain")
        # Not offered: no Delete in the footer, and no question with a Yes that must fail.
        assert "delete_group" not in {
            b.binding.action for b in app.active_bindings.values() if b.enabled}
        await pilot.press("delete")
        await wait_for(pilot, lambda: "still has" in notes(app))
        assert not isinstance(app.screen, ConfirmScreen)
        used = Endpoint.select().join(EndpointGroup).where(
            EndpointGroup.name == "cold-chain").count()
        assert f"Endpoint Group cold-chain still has {used} endpoints (terminated ones " \
            "included): assign them to another group first" in notes(app)
        assert "cold-chain" in names_in_db()
        await pilot.pause(0.1)
        assert shown(screen)[0][0] == "cold-chain"


# --- roles ---------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "read_only"), [("oscar", False), ("vera", False),
                                                  (fleet.USER, True)])
async def test_only_admins_are_offered_the_group_changes(
    groups_db: str, make_app: Any, user: str, read_only: bool
) -> None:
    app = make_app(groups_db, user=user, read_only=read_only)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        await on_group(pilot, screen, "spare-pool")
        for action in ("new_group", "edit_group", "delete_group"):
            assert screen.check_action(action, ()) is False
        assert screen.check_action("show_group_endpoints", ()) is True
        footer = {b.binding.action for b in app.active_bindings.values() if b.enabled}
        assert not footer & {"new_group", "edit_group", "delete_group"}
        await pilot.press("n", "e", "delete")
        await pilot.pause(0.1)
        assert app.screen is screen
        assert "spare-pool" in names_in_db()
        assert "admins create, edit and delete groups" in str(
            screen.query_one("#groups-hint").render())


async def test_admin_is_offered_the_group_changes(groups_db: str, make_app: Any) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        shown_keys = {b.binding.action for b in app.active_bindings.values() if b.enabled}
        assert {"new_group", "edit_group", "show_group_endpoints"} <= shown_keys
        # Delete only on a group no endpoint holds.
        assert screen.check_action("delete_group", ()) is bool(
            not screen.current_group()["all_endpoints"])


# --- to the endpoints ----------------------------------------------------------------


async def test_show_endpoints_opens_the_endpoints_screen_filtered_to_the_group(
    groups_db: str, make_app: Any
) -> None:
    app = make_app(groups_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_groups(pilot)
        await on_group(pilot, screen, "cold-chain")
        await pilot.press("f")
        home = endpoints_screen(app)
        await wait_for(pilot, lambda: app.screen is home)
        await settle(pilot)
        assert home.filter == queries.Filter(group="cold-chain")
        assert home.query_one("#filter-group").value == "cold-chain"
        rows = home.endpoint_list.visible_rows()
        expected = Endpoint.select().join(EndpointGroup).where(
            EndpointGroup.name == "cold-chain").count()
        assert home.endpoint_list.count == expected == len(rows)
        assert {r.group for r in rows} == {"cold-chain"}


# --- snapshots -----------------------------------------------------------------------


async def _groups(pilot: Any) -> None:
    screen = await to_groups(pilot)
    await on_group(pilot, screen, "cold-chain")


async def _form_with_problem(pilot: Any) -> None:
    screen = await to_groups(pilot)
    await on_group(pilot, screen, "cold-chain")
    await pilot.press("e")
    form = await dialog(pilot, GroupForm)
    await fill(pilot, form, name="Cold Chain")
    await pilot.click("#save")
    await pilot.pause()
    form.query_one("#gf-name", Input).cursor_position = 0
    form.query_one("#cancel", Button).focus()
    await pilot.pause()


def test_groups_120x36(snap_compare: Any, groups_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(groups_db), terminal_size=(120, 36), run_before=_groups)


def test_groups_80x24(snap_compare: Any, groups_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(groups_db), terminal_size=(80, 24), run_before=_groups)


def test_group_form_120x36(snap_compare: Any, groups_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(groups_db), terminal_size=(120, 36),
                        run_before=_form_with_problem)


def test_group_form_80x24(snap_compare: Any, groups_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(groups_db), terminal_size=(80, 24),
                        run_before=_form_with_problem)
