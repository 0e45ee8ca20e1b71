"""The Audit log screen (key 4): newest first, the filters, bad input, live refresh, snapshots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from textual.widgets import Input, Select

from simdeck.core import auth, queries, records
from simdeck.core.identifiers import make_iccid
from simdeck.core.models import AuditEvent, Endpoint
from simdeck.tui.screens.audit import AuditScreen, AuditSource
from tests.tui import fleet
from tests.tui.conftest import at_rest, settle, wait_for

NOW_DT = dt.datetime.fromtimestamp(fleet.NOW, dt.UTC).replace(tzinfo=None)


async def to_audit(pilot: Any) -> AuditScreen:
    """Key 4, once the Endpoints screen is at rest; the first page read."""
    await settle(pilot)
    await pilot.press("4")
    screen = await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, AuditScreen) and pilot.app.screen
    )
    await at_rest(pilot, screen)
    return screen  # type: ignore[no-any-return]


def shown_ids(screen: AuditScreen) -> list[int]:
    return [row.id for row in screen.events.visible_rows()]


def db_ids(query: Any = None, limit: int = 100) -> list[int]:
    q = AuditEvent.select(AuditEvent.id)
    if query is not None:
        q = q.where(query)
    return [i for (i,) in q.order_by(AuditEvent.id.desc()).limit(limit).tuples()]


async def type_into(pilot: Any, screen: AuditScreen, box: str, text: str) -> None:
    """Replace what filter box ``box`` holds with ``text`` and press Enter."""
    field = screen.query_one(f"#audit-{box}", Input)
    field.focus()
    field.value = ""
    field.insert_text_at_cursor(text)
    await pilot.press("enter")
    await at_rest(pilot, screen)


# --- what it shows -------------------------------------------------------------------


async def test_key_4_shows_the_trail_newest_first(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        ids = shown_ids(screen)
        assert ids == db_ids(limit=len(ids))
        assert len(ids) > 10
        assert screen.events.count == AuditEvent.select().count()
        newest = AuditEvent.get_by_id(ids[0])
        row = screen.events.cursor_row
        assert (row.actor, row.action, row.iccid) == (newest.actor, newest.action, newest.iccid)
        assert f"Event 1 of {AuditEvent.select().count()}" in screen.status_text()
        # The detail pane shows every field of the event under the cursor.
        detail = str(screen.query_one("#audit-detail-text").render())
        assert f"Event {newest.id}" in detail
        assert newest.actor in detail and newest.action in detail


async def test_the_list_pages_to_the_oldest_event(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 24)) as pilot:
        screen = await to_audit(pilot)
        await pilot.press("end")
        await at_rest(pilot, screen)
        assert screen.events.cursor_row.id == db_ids(limit=10_000)[-1]
        await pilot.press("home")
        await at_rest(pilot, screen)
        assert screen.events.cursor_row.id == db_ids(limit=1)[0]


async def test_detail_toggles(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        assert screen.query_one("#audit-detail").display
        await pilot.press("d")
        assert not screen.query_one("#audit-detail").display
        await pilot.press("d", "down")
        await pilot.pause()
        assert f"Event {shown_ids(screen)[1]}" in str(
            screen.query_one("#audit-detail-text").render())


# --- filters -------------------------------------------------------------------------


async def test_actor_filter(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        await type_into(pilot, screen, "actor", "network")
        expected = db_ids(AuditEvent.actor == "network")
        assert 0 < len(expected) < AuditEvent.select().count()
        assert screen.events.count == len(expected)
        assert shown_ids(screen) == expected[: len(shown_ids(screen))]
        assert {r.actor for r in screen.events.visible_rows()} == {"network"}
        assert "filtered: actor network" in screen.status_text()


async def test_action_filter_is_a_choice_of_actions(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        select = screen.query_one("#audit-action", Select)
        assert "suspend" in [value for _, value in select._options]
        select.value = "suspend"
        await pilot.pause()
        await at_rest(pilot, screen)
        expected = db_ids(AuditEvent.action == "suspend")
        assert expected
        assert shown_ids(screen) == expected
        assert screen.events.count == len(expected)


async def test_endpoint_filter_by_iccid_and_by_id(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        ep = Endpoint.get(Endpoint.name == "munich-van-0005")
        expected = db_ids(AuditEvent.endpoint_id == ep.id)
        assert len(expected) >= 2
        await type_into(pilot, screen, "endpoint", ep.iccid)
        assert shown_ids(screen) == expected
        assert {r.name for r in screen.events.visible_rows()} == {"munich-van-0005"}
        await type_into(pilot, screen, "endpoint", str(ep.id))
        assert shown_ids(screen) == expected


async def test_since_and_until_filters_relative_and_iso(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        # Relative to the console's clock (the fixed NOW of the fleet).
        await type_into(pilot, screen, "since", "6h")
        since = NOW_DT - dt.timedelta(hours=6)
        expected = db_ids(AuditEvent.at >= since)
        assert 0 < len(expected) < AuditEvent.select().count()
        assert screen.events.count == len(expected)
        assert shown_ids(screen) == expected[: len(shown_ids(screen))]
        until = "2025-11-20T22:50:00Z"
        await type_into(pilot, screen, "until", until)
        before = dt.datetime(2025, 11, 20, 22, 50)
        both = db_ids((AuditEvent.at >= since) & (AuditEvent.at < before))
        assert 0 < len(both) < len(expected)
        assert shown_ids(screen) == both
        assert "since 6h, until 2025-11-20T22:50:00Z" in screen.status_text()
        # Clearing every filter shows everything again.
        screen.events.focus()
        await pilot.press("ctrl+r")
        await at_rest(pilot, screen)
        assert screen.events.count == AuditEvent.select().count()


async def test_bad_since_names_the_field_and_keeps_the_list(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        await type_into(pilot, screen, "actor", "alice")
        before = shown_ids(screen)
        await type_into(pilot, screen, "since", "yesterday")
        assert "Cannot filter: since yesterday: is not a time" in screen.message
        # The same list (the message may take a row of the screen from it).
        now_shown = shown_ids(screen)
        assert now_shown == before[: len(now_shown)] and len(now_shown) >= len(before) - 2
        assert screen.events.count == AuditEvent.select().where(
            AuditEvent.actor == "alice").count()
        assert screen.filter == queries.AuditFilter(actor="alice")
        # Put right, the message goes and the filter applies.
        await type_into(pilot, screen, "since", "1d")
        assert "Cannot filter" not in screen.message
        assert screen.filter.since == NOW_DT - dt.timedelta(days=1)


async def test_bad_endpoint_names_the_field_and_keeps_the_list(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        before = shown_ids(screen)
        await type_into(pilot, screen, "endpoint", "89x-not-an-iccid")
        assert screen.message.startswith("Cannot filter: endpoint ")
        assert "contains the character 'x'" in screen.message
        assert shown_ids(screen) == before[: len(shown_ids(screen))]
        assert screen.events.count == AuditEvent.select().count()
        assert screen.filter == queries.AuditFilter()
        unknown = make_iccid("894900000000009999")
        await type_into(pilot, screen, "endpoint", unknown)
        assert screen.message == (f"Cannot filter: endpoint ICCID {unknown}: no SIM with this "
                                  "ICCID is in the inventory")
        assert shown_ids(screen) == before[: len(shown_ids(screen))]
        assert screen.events.count == AuditEvent.select().count()


async def test_show_endpoint_filters_to_one_endpoint(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        ep = Endpoint.get(Endpoint.name == "reefer-0016")
        screen.show_endpoint(str(ep.id))
        await at_rest(pilot, screen)
        assert shown_ids(screen) == db_ids(AuditEvent.endpoint_id == ep.id)
        assert screen.query_one("#audit-endpoint", Input).value == str(ep.id)


# --- live ----------------------------------------------------------------------------


async def test_a_change_made_through_core_shows_at_the_top(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_audit(pilot)
        count = screen.events.count
        # Another operator's change (here through core, in this thread).
        records.create_group(auth.login(user=fleet.USER), "late-arrival")
        newest = db_ids(limit=1)[0]
        await wait_for(pilot, lambda: shown_ids(screen)[:1] == [newest], timeout=5)
        await at_rest(pilot, screen)
        assert screen.events.count == count + 1
        row = screen.events.cursor_row
        assert (row.action, row.actor) == ("group_created", fleet.USER)
        assert "group late-arrival" in [
            c if isinstance(c, str) else c[0]
            for c in [screen.events.render_row(row, 0.0)[3]]
        ]


# --- the source ----------------------------------------------------------------------


def test_the_source_pages_by_key_both_ways(fleet_db: str) -> None:
    from simdeck.core import db

    db.open_database(fleet_db)
    try:
        source = AuditSource(queries.AuditFilter(actor="network"))
        everything = db_ids(AuditEvent.actor == "network", limit=1000)
        first = source.first(5)
        assert [r.id for r in first] == everything[:5]
        after = source.after(source.key(first[-1]), 5)
        assert [r.id for r in after] == everything[5:10]
        before = source.before(source.key(after[0]), 3)
        assert [r.id for r in before] == everything[2:5]
        assert [r.id for r in source.last(4)] == everything[-4:]
        assert source.count() == len(everything)
        assert source.position(source.key(after[0])) == 5
        assert source.key_at(7, len(everything)) == (everything[7],)
        assert source.key_at(len(everything) - 2, len(everything)) == (everything[-2],)
        assert source.fetch(everything[3]).id == everything[3]  # type: ignore[union-attr]
        alice_event = db_ids(AuditEvent.actor == "alice", limit=1)[0]
        assert source.fetch(alice_event) is None
    finally:
        db.database.close()


# --- snapshots -----------------------------------------------------------------------


async def _audit(pilot: Any) -> None:
    screen = await to_audit(pilot)
    await pilot.press("down", "down")
    await at_rest(pilot, screen)


async def _audit_filtered(pilot: Any) -> None:
    screen = await to_audit(pilot)
    await type_into(pilot, screen, "actor", "alice")
    await type_into(pilot, screen, "since", "7h")
    screen.events.focus()
    await at_rest(pilot, screen)


async def _audit_bad_since(pilot: Any) -> None:
    screen = await to_audit(pilot)
    await type_into(pilot, screen, "since", "last tuesday")
    screen.events.focus()
    await at_rest(pilot, screen)


def test_audit_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36), run_before=_audit)


def test_audit_80x24(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(80, 24), run_before=_audit)


def test_audit_filtered_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36), run_before=_audit_filtered)


def test_audit_bad_since_80x24(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(80, 24), run_before=_audit_bad_since)
