"""The SIM inventory (key 2): every SIM and its status, search, Status filter, CSV import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import peewee as pw
import pytest
from textual.widgets import Checkbox, Input, Select

from simdeck.core import db
from simdeck.core.identifiers import make_eid, make_iccid
from simdeck.core.lifecycle import READY_TO_ACTIVATE, State
from simdeck.core.models import AuditEvent, Endpoint, EndpointGroup, Imsi, Operator, Sim
from simdeck.tui.screens.endpoints import EndpointsScreen
from simdeck.tui.screens.sims import ImportDialog, SimsScreen
from tests.tui import fleet
from tests.tui.conftest import at_rest, notes, settle, wait_for

#: Three Ready to Activate SIMs added to the fleet's pool (as the link-SIM tests have).
POOL = (901, 902, 903)


@pytest.fixture
def inventory_db(fleet_db: str) -> str:
    """The fleet with three SIMs in the pool and a viewer, ``vera``."""
    db.open_database(fleet_db)
    for n in POOL:
        fleet._sim(n, esim=n == 902, imsis=2 if n == 903 else 1)
    Operator.create(username="vera", role="viewer", created_by=fleet.USER)
    db.database.close()
    return fleet_db


# --- helpers -------------------------------------------------------------------------


async def to_sims(pilot: Any) -> SimsScreen:
    """Key 2, once the Endpoints screen is at rest; the first page read."""
    await settle(pilot)
    await pilot.press("2")
    screen = await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, SimsScreen) and pilot.app.screen
    )
    await at_rest(pilot, screen)
    return screen  # type: ignore[no-any-return]


def db_sims() -> list[tuple[str, str]]:
    """Every SIM as (ICCID, status), by ICCID, straight from the tables."""
    rows = (
        Sim.select(Sim.iccid, Endpoint.state)
        .join(Endpoint, pw.JOIN.LEFT_OUTER, on=(Sim.endpoint == Endpoint.id))
        .order_by(Sim.iccid)
        .tuples()
    )
    return [(iccid, State(state).label if state else READY_TO_ACTIVATE)
            for iccid, state in rows]


def db_imsis() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for iccid, imsi in (Imsi.select(Sim.iccid, Imsi.imsi).join(Sim)
                        .order_by(Imsi.position).tuples()):
        out.setdefault(iccid, []).append(imsi)
    return out


def shown(screen: SimsScreen) -> list[tuple[str, str]]:
    return [(r.iccid, r.status) for r in screen.sims.visible_rows()]


def screen_lines(screen: SimsScreen) -> list[str]:
    """The list's lines as drawn (header first)."""
    vlist = screen.sims
    return [vlist.render_line(y).text for y in range(vlist.size.height)]


async def search_for(pilot: Any, screen: SimsScreen, text: str) -> None:
    await pilot.press("slash")
    box = screen.query_one("#sims-search", Input)
    assert pilot.app.focused is box
    box.value = ""
    box.insert_text_at_cursor(text)
    await pilot.press("enter")
    await at_rest(pilot, screen)


async def choose_status(pilot: Any, screen: SimsScreen, status: str | None) -> None:
    choice = screen.query_one("#sims-status", Select)
    if status is None:
        choice.clear()
    else:
        choice.value = status
    await pilot.pause()
    await at_rest(pilot, screen)


def write_csv(name: str, start: int, n: int, *, bad: dict[int, str] | None = None,
              header: str = "iccid,imsi,eid", extra: str = "") -> list[str]:
    """A CSV of ``n`` SIMs (row 2 is the first SIM) in the working directory; their ICCIDs."""
    iccids, lines = [], [header]
    for i in range(start, start + n):
        iccid = make_iccid(f"894477{i:013d}")
        iccids.append(iccid)
        eid = make_eid(f"89047700{i:022d}") if i % 2 else ""
        lines.append(f"{iccid},00177{i:010d},{eid}{extra and ',' + extra + str(i)}")
    for row, text in (bad or {}).items():
        lines[row - 1] = text
    Path(name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return iccids


async def open_import(pilot: Any, screen: SimsScreen) -> ImportDialog:
    await pilot.press("i")
    return await wait_for(  # type: ignore[no-any-return]
        pilot, lambda: isinstance(pilot.app.screen, ImportDialog) and pilot.app.screen
    )


async def run_import(pilot: Any, dialog: ImportDialog, path: str) -> None:
    """Type ``path`` into the dialog and press Enter; wait for the import to finish."""
    box = dialog.query_one("#import-path", Input)
    assert pilot.app.focused is box
    box.value = ""
    box.insert_text_at_cursor(path)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not dialog.running and (
        not dialog.is_attached
        or dialog.report not in ("", "Importing…", "Checking the file…")), timeout=8)
    await pilot.pause()


async def tick(pilot: Any, dialog: ImportDialog, box: str) -> None:
    """Check a checkbox from the keyboard."""
    dialog.query_one(f"#{box}", Checkbox).focus()
    await pilot.pause()
    await pilot.press("space")
    assert dialog.query_one(f"#{box}", Checkbox).value


# --- what it shows -------------------------------------------------------------------


async def test_key_2_shows_every_sim_with_its_status_and_1_goes_back(
    inventory_db: str, make_app: Any
) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        expected = db_sims()
        statuses = {status for _, status in expected}
        # The pool and the linked SIMs, Terminated and Pending among them.
        assert {READY_TO_ACTIVATE, "Active", "Pending", "Suspended", "Terminated"} <= statuses
        rows = shown(screen)
        assert rows == expected[: len(rows)]
        assert len(rows) >= 20
        assert screen.sims.count == len(expected) == Sim.select().count()
        # The last rows are the pool's (8949…901+ sort after the fleet's 8949…001-030).
        await pilot.press("end")
        await at_rest(pilot, screen)
        assert shown(screen)[-3:] == expected[-3:]
        assert [s for _, s in expected[-3:]] == [READY_TO_ACTIVATE] * 3
        # Drawn: the ICCID, the first IMSI and "+1" for the SIM with two, its status.
        last = make_iccid(f"8949{903:014d}")
        imsis = db_imsis()[last]
        assert len(imsis) == 2
        line = next(text for text in screen_lines(screen) if text.startswith(last))
        assert f"{imsis[0]} +1" in line and READY_TO_ACTIVATE in line
        # The counts at the top.
        ready = Sim.select().where(Sim.endpoint.is_null()).count()
        counts = str(screen.query_one("#sims-counts").render())
        assert ready == 3
        assert f"{ready} in the pool" in counts
        assert f"{len(expected) - ready} linked" in counts
        assert f"{len(expected)} SIMs in all" in counts
        assert f"SIM {len(expected)} of {len(expected)}" in screen.status_text()
        # The detail line: every IMSI, the EID (none: a plastic SIM), the pool.
        detail = str(screen.query_one("#sims-detail").render())
        assert ", ".join(imsis) in detail and "none (a plastic SIM)" in detail
        assert "in the pool, linked to no endpoint" in detail
        await pilot.press("home")
        await at_rest(pilot, screen)
        first = screen.sims.cursor_row
        owner = Endpoint.get(Endpoint.iccid == first.iccid)
        detail = str(screen.query_one("#sims-detail").render())
        assert f"Linked to {owner.name} (endpoint {owner.id}), {State(owner.state).label}" in (
            detail
        )
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, EndpointsScreen))


async def test_search_by_iccid_imsi_or_eid_prefix(inventory_db: str, make_app: Any) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        everything = db_sims()
        imsis = db_imsis()
        eids = dict(Sim.select(Sim.iccid, Sim.eid).tuples())
        for text in ("89490000000000000", "262010000002", eids[make_iccid(f"8949{902:014d}")]):
            await search_for(pilot, screen, text)
            expected = [
                (iccid, status) for iccid, status in everything
                if iccid.startswith(text) or (eids[iccid] or "").startswith(text)
                or any(i.startswith(text) for i in imsis.get(iccid, []))
            ]
            assert 0 < len(expected) < len(everything), text
            assert shown(screen) == expected, text
            assert screen.sims.count == len(expected)
            assert f"search {text}" in screen.status_text()
        # A search that matches nothing says so; letters match nothing, without an error.
        await search_for(pilot, screen, "abc")
        assert shown(screen) == [] and screen.sims.count == 0
        assert "No SIM matches" in "\n".join(screen_lines(screen))
        await pilot.press("ctrl+r")
        await at_rest(pilot, screen)
        assert screen.sims.count == len(everything)
        assert screen.query_one("#sims-search", Input).value == ""


async def test_status_filter(inventory_db: str, make_app: Any) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        everything = db_sims()
        for status in (READY_TO_ACTIVATE, "Active", "Pending", "Terminated"):
            await choose_status(pilot, screen, status)
            expected = [row for row in everything if row[1] == status]
            assert expected, status
            assert shown(screen) == expected, status
            assert screen.sims.count == len(expected)
            assert f"status {status}" in screen.status_text()
        # Status and search together.
        await choose_status(pilot, screen, "Active")
        await search_for(pilot, screen, "89490000000000000")
        expected = [r for r in everything
                    if r[1] == "Active" and r[0].startswith("89490000000000000")]
        assert 0 < len(expected) < len([r for r in everything if r[1] == "Active"])
        assert shown(screen) == expected
        await choose_status(pilot, screen, None)
        await search_for(pilot, screen, "")
        assert screen.sims.count == len(everything)


async def test_status_filter_from_the_keyboard(inventory_db: str, make_app: Any) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        await pilot.press("f")
        choice = screen.query_one("#sims-status", Select)
        await wait_for(pilot, lambda: choice.expanded)
        await pilot.pause()
        overlay = app.focused
        for _ in range(3):  # from "Status: all" to the first status, Ready to Activate
            if overlay.highlighted == 1:
                break
            await pilot.press("down")
        await pilot.press("enter")
        await at_rest(pilot, screen)
        assert choice.value == READY_TO_ACTIVATE
        assert [s for _, s in shown(screen)] == [READY_TO_ACTIVATE] * 3


# --- import --------------------------------------------------------------------------


async def test_import_a_good_csv(inventory_db: str, make_app: Any) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        before = Sim.select().count()
        iccids = write_csv("good.csv", 0, 4)
        dialog = await open_import(pilot, screen)
        await run_import(pilot, dialog, "good.csv")
        await wait_for(pilot, lambda: app.screen is screen)
        assert Sim.select().count() == before + 4
        assert {s.iccid for s in Sim.select().where(Sim.iccid.in_(iccids))} == set(iccids)
        assert Sim.select().where(Sim.iccid.in_(iccids) & Sim.endpoint.is_null()).count() == 4
        assert "Import SIMs Imported 4 SIMs from good.csv." in notes(app)
        await wait_for(pilot, lambda: screen.sims.count == before + 4)
        await at_rest(pilot, screen)
        assert f"{before + 4} SIMs in all" in str(screen.query_one("#sims-counts").render())
        await search_for(pilot, screen, "894477")
        assert shown(screen) == [(i, READY_TO_ACTIVATE) for i in sorted(iccids)]


async def test_a_csv_with_bad_rows_shows_them_by_row_and_imports_nothing(
    inventory_db: str, make_app: Any
) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        before = Sim.select().count()
        taken = make_iccid(f"8949{901:014d}")  # already in the pool
        write_csv("bad.csv", 0, 5, bad={3: "123,001779999999999,",
                                        5: f"{taken},001778888888888,"})
        dialog = await open_import(pilot, screen)
        await run_import(pilot, dialog, "bad.csv")
        assert app.screen is dialog  # it stays open, the errors in it
        report = dialog.report
        assert report.startswith("Nothing was imported from bad.csv: 2 of 5 rows have errors")
        assert "--partial" not in report
        assert "row 3: ICCID 123: has 3 digits" in report
        assert f"row 5: ICCID {taken}: is already in the inventory" in report
        assert Sim.select().count() == before
        assert not AuditEvent.select().where(AuditEvent.action == "sims_imported").exists()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert Sim.select().count() == before


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("missing.csv", None, "missing.csv: cannot read the file"),
        ("a-folder", "dir", "a-folder: cannot read the file"),
        ("latin1.csv", "latin1", "latin1.csv: is not UTF-8 (byte 0xe9 at line 2)"),
        ("empty.csv", "empty", "empty.csv: is empty"),
        ("notes.csv", "columns", "notes.csv: unknown column 'colour'"),
    ],
)
async def test_a_file_that_cannot_be_imported_is_named_and_nothing_changes(
    inventory_db: str, make_app: Any, name: str, make: str | None, expected: str
) -> None:
    if make == "dir":
        Path(name).mkdir()
    elif make == "latin1":
        Path(name).write_bytes("iccid,imsi,eid\n89440,001,caf\xe9\n".encode("latin-1"))
    elif make == "empty":
        Path(name).write_text("")
    elif make == "columns":
        Path(name).write_text("iccid,imsi,colour\n1,2,3\n")
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        before = Sim.select().count()
        dialog = await open_import(pilot, screen)
        await run_import(pilot, dialog, name)
        assert app.screen is dialog
        assert dialog.report.startswith(expected), dialog.report
        assert dialog.report.endswith("Nothing was imported.")
        assert dialog.query_one("#import-report").has_class("-error")
        assert Sim.select().count() == before


async def test_an_empty_path_is_refused_in_the_dialog(inventory_db: str, make_app: Any) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        dialog = await open_import(pilot, screen)
        await pilot.press("enter")
        await pilot.pause()
        assert dialog.report == "File: type the path of the CSV file to import."
        assert app.screen is dialog


async def test_a_dry_run_writes_nothing(inventory_db: str, make_app: Any) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        before = Sim.select().count()
        write_csv("good.csv", 0, 3)
        dialog = await open_import(pilot, screen)
        await tick(pilot, dialog, "import-dry-run")
        dialog.query_one("#import-path", Input).focus()
        await pilot.pause()
        await run_import(pilot, dialog, "good.csv")
        assert app.screen is dialog
        assert dialog.report == ("Dry run of good.csv: 3 rows, 3 valid, 0 with errors; would "
                                 "import 3 SIMs. Nothing was written.")
        assert Sim.select().count() == before


async def test_import_as_endpoints_in_a_group(inventory_db: str, make_app: Any) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        endpoints = Endpoint.select().count()
        iccids = write_csv("vans.csv", 10, 3, header="iccid,imsi,eid,name", extra="van-")
        dialog = await open_import(pilot, screen)
        group = dialog.query_one("#import-group", Select)
        assert group.disabled  # pool SIMs have no group
        await tick(pilot, dialog, "import-endpoints")
        assert not group.disabled
        group.value = "cold-chain"
        dialog.query_one("#import-path", Input).focus()
        await pilot.pause()
        await run_import(pilot, dialog, "vans.csv")
        await wait_for(pilot, lambda: app.screen is screen)
        assert Endpoint.select().count() == endpoints + 3
        made = list(Endpoint.select().where(Endpoint.iccid.in_(iccids)).order_by(Endpoint.iccid))
        assert [e.name for e in made] == ["van-10", "van-11", "van-12"]
        cold = EndpointGroup.get(EndpointGroup.name == "cold-chain")
        assert {e.group_id for e in made} == {cold.id}
        state = State(made[0].state)
        assert {e.state for e in made} == {state.value}
        assert f"created 3 endpoints ({state.label})" in notes(app)
        await search_for(pilot, screen, "894477")
        assert shown(screen) == [(i, state.label) for i in sorted(iccids)]
        assert [r.endpoint_name for r in screen.sims.visible_rows()] == [
            "van-10", "van-11", "van-12"]


async def test_import_as_endpoints_without_a_group_makes_pending_endpoints(
    inventory_db: str, make_app: Any
) -> None:
    app = make_app(inventory_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        iccids = write_csv("more.csv", 20, 2)
        dialog = await open_import(pilot, screen)
        await tick(pilot, dialog, "import-endpoints")
        dialog.query_one("#import-path", Input).focus()
        await pilot.pause()
        await run_import(pilot, dialog, "more.csv")
        await wait_for(pilot, lambda: app.screen is screen)
        made = Endpoint.select().where(Endpoint.iccid.in_(iccids))
        assert sorted((e.state, e.group_id) for e in made) == [("pending", None)] * 2


@pytest.mark.parametrize("how", ["viewer", "read-only"])
async def test_a_viewer_cannot_import(inventory_db: str, make_app: Any, how: str) -> None:
    write_csv("good.csv", 0, 2)
    app = (make_app(inventory_db, user="vera") if how == "viewer"
           else make_app(inventory_db, read_only=True))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await to_sims(pilot)
        before = Sim.select().count()
        assert screen.check_action("import_sims", ()) is False
        footer = " ".join(active.binding.description for active in app.active_bindings.values()
                          if active.binding.show)
        assert "Import" not in footer and "Search" in footer
        await pilot.press("i")
        await pilot.pause()
        assert app.screen is screen
        # Forced (the palette would not offer it): refused in core's words.
        screen.action_import_sims()
        await pilot.pause()
        assert "import SIMs" in notes(app)
        assert app.screen is screen
        assert Sim.select().count() == before


# --- snapshots -----------------------------------------------------------------------


async def _inventory(pilot: Any) -> None:
    screen = await to_sims(pilot)
    await pilot.press("down", "down", "down")
    await at_rest(pilot, screen)


async def _import_dialog(pilot: Any) -> None:
    screen = await to_sims(pilot)
    dialog = await open_import(pilot, screen)
    dialog.query_one("#import-path", Input).insert_text_at_cursor("batch-12.csv")
    await pilot.pause()


async def _import_errors(pilot: Any) -> None:
    taken = make_iccid(f"8949{901:014d}")
    write_csv("bad.csv", 0, 6, bad={3: "123,001779999999999,",
                                    5: f"{taken},001778888888888,",
                                    6: "89447700000000000059,abc,"})
    screen = await to_sims(pilot)
    dialog = await open_import(pilot, screen)
    await run_import(pilot, dialog, "bad.csv")


def test_inventory_120x36(snap_compare: Any, inventory_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(inventory_db), terminal_size=(120, 36), run_before=_inventory)


def test_inventory_80x24(snap_compare: Any, inventory_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(inventory_db), terminal_size=(80, 24), run_before=_inventory)


def test_import_dialog_120x36(snap_compare: Any, inventory_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(inventory_db), terminal_size=(120, 36),
                        run_before=_import_dialog)


def test_import_dialog_80x24(snap_compare: Any, inventory_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(inventory_db), terminal_size=(80, 24),
                        run_before=_import_dialog)


def test_import_dialog_with_row_errors_120x36(
    snap_compare: Any, inventory_db: str, make_app: Any
) -> None:
    assert snap_compare(make_app(inventory_db), terminal_size=(120, 36),
                        run_before=_import_errors)


def test_import_dialog_with_row_errors_80x24(
    snap_compare: Any, inventory_db: str, make_app: Any
) -> None:
    assert snap_compare(make_app(inventory_db), terminal_size=(80, 24),
                        run_before=_import_errors)
