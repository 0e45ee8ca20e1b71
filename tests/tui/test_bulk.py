"""Bulk jobs from the Endpoints screen: confirm → progress → result, cancel, export, purge.

Each test drives the console with keys and checks both the screen and the database.
The 100,000-endpoint run builds its database once per session, set-based.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input, ProgressBar

from simdeck.core import actions, auth, db, models, records
from simdeck.core.identifiers import make_iccid
from simdeck.core.models import AuditEvent, Endpoint, EndpointGroup, Job, Operator
from simdeck.tui import keys
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.screens.jobs import JobsScreen
from simdeck.tui.screens.progress import ExportScreen, ProgressScreen
from simdeck.tui.widgets.footer import KeyFooter
from tests.tui import fleet
from tests.tui.conftest import (
    NOW,
    dialog,
    endpoints_screen,
    notes,
    on_endpoint,
    search,
    settle,
    state_of,
    wait_for,
)

#: The endpoints of the big run.
BIG = 100_000


def text_of(screen: Any) -> str:
    """Every Static of a dialog, as the operator reads it."""
    return "\n".join(str(w.render()) for w in screen.query("Static") if w.display)


async def finished(pilot: Any, timeout: float = 10.0) -> ProgressScreen:
    """The progress dialog, once its job has ended and the result is on screen."""
    screen: ProgressScreen = await dialog(pilot, ProgressScreen)
    await wait_for(pilot, lambda: screen.finished, timeout=timeout)
    await pilot.pause()
    return screen


async def suspend_munich_pair(pilot: Any) -> ProgressScreen:
    """Mark munich-van-0004 (Active) and 0005 (Suspended), suspend, confirm: the result."""
    await search(pilot, "munich")
    await pilot.press("space", "space")
    await pilot.press("u")
    confirm = await dialog(pilot, ConfirmScreen)
    assert confirm.title_text == "Suspend: 1 of 2 endpoints will change"
    await pilot.press("enter")
    return await finished(pilot)


def iccid_of(name: str) -> str:
    return str(Endpoint.get(Endpoint.name == name).iccid)


# --- confirm → progress → result ---------------------------------------------------------


async def test_bulk_suspend_shows_the_progress_then_the_result(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        result = await suspend_munich_pair(pilot)
        shown = text_of(result)
        assert "Suspend · job 1 · done" in shown
        assert "2 of 2 endpoints processed." in shown
        assert "Applied          1" in shown
        assert "Skipped          1" in shown
        assert "1 — Suspended: suspend is allowed only from Active, Idle, Detached" in shown
        assert "Failed           0" in shown
        bar = result.query_one(ProgressBar)
        assert (bar.progress, bar.total) == (2, 2)
        assert result.query_one("#export", Button).display
        assert app.focused is result.query_one("#close", Button)
        # Once the job has ended, Esc closes its result, and the footer says so.
        assert result.query_one(KeyFooter).text().split() == ["esc", "Close", "q", "Quit"]
        assert state_of("munich-van-0004") == "suspended"
        assert state_of("munich-van-0005") == "suspended"
        job = Job.get_by_id(1)
        assert (job.status, job.applied, job.skipped) == ("done", 1, 1)
        await pilot.press("enter")
        await settle(pilot)
        screen = endpoints_screen(app)
        assert app.screen is screen
        # Something was applied: the marks are gone, the list shows the new state.
        assert not screen.marks
        assert screen.endpoint_list.cursor_row.state == "suspended"


async def test_no_at_the_confirmation_runs_nothing(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "munich")
        await pilot.press("space", "space", "u")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is endpoints_screen(app)
        assert state_of("munich-van-0004") == "active"
        assert Job.select().count() == 0
        # The marks stay, for another try.
        assert len(endpoints_screen(app).marked_ids()) == 2


async def test_one_endpoint_still_ends_with_a_notification(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0004")
        await pilot.press("x")
        await dialog(pilot, ConfirmScreen)
        iccid = iccid_of("munich-van-0004")
        assert app.focused.id == "no"  # de-link cuts the device off: No first
        await pilot.press("shift+tab", "enter")
        await wait_for(pilot, lambda: f"SIM {iccid} de-linked successfully" in notes(app))
        assert not isinstance(app.screen, ProgressScreen)
        assert state_of("munich-van-0004") == "hold"
        assert Job.select().count() == 0


async def test_cancel_stops_after_the_chunk_and_the_jobs_screen_resumes_it(
    big_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.open_database(big_db)
    active = Endpoint.select().where(Endpoint.state == "active").count()
    suspended = Endpoint.select().where(Endpoint.state == "suspended").count()
    db.database.close()
    monkeypatch.setattr(actions, "CHUNK", 500)
    # The job's thread waits after its first chunk until the test has pressed Escape,
    # so the cancel lands between two chunks every time.
    gate = threading.Event()
    report = ProgressScreen.report

    def held(self: ProgressScreen, done: int, total: int) -> None:
        report(self, done, total)
        if done:
            gate.wait(10)

    monkeypatch.setattr(ProgressScreen, "report", held)
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "state:active")
        await pilot.press("asterisk", "u")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == f"Suspend: {active:,} of {active:,} endpoints will change"
        await pilot.press("enter")
        progress = await dialog(pilot, ProgressScreen)
        bar = progress.query_one(ProgressBar)
        await wait_for(pilot, lambda: bar.progress == 500)
        assert f"Suspending 500 of {active:,} endpoints…" in text_of(progress)
        await pilot.press("escape")
        assert "Cancelling… the job stops after its current chunk" in text_of(progress)
        gate.set()
        await wait_for(pilot, lambda: progress.finished)
        shown = text_of(progress)
        assert "Suspend · job 1 · cancelled" in shown
        assert (f"Cancelled after 500 of {active:,}: job 1 can be resumed from the Jobs "
                "screen (key 5).") in shown
        assert Endpoint.select().where(Endpoint.state == "suspended").count() == suspended + 500
        assert Job.get_by_id(1).status == "cancelled"
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("5")
        jobs = await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen)
        await wait_for(pilot, lambda: jobs.jobs)
        assert "Cancelled" in jobs.detail_text()
        assert "R resumes it from its last committed chunk." in jobs.detail_text()
        await pilot.press("R")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Resume job 1: Suspend"
        assert f"{active - 500:,} endpoints of {active:,} still to process" in confirm.lines[0]
        await pilot.press("enter")
        resumed = await finished(pilot)
        assert "Suspend · job 1 · done" in text_of(resumed)
        assert f"Applied      {active:,}" in text_of(resumed)
        assert Endpoint.select().where(Endpoint.state == "active").count() == 0
        assert Endpoint.select().where(Endpoint.state == "suspended").count() == (
            suspended + active
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Done" in jobs.detail_text())


# --- the skipped ICCIDs to CSV -------------------------------------------------------------


async def test_export_from_the_result_writes_the_csv(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        result = await suspend_munich_pair(pilot)
        path = result.query_one("#export-path", Input)
        assert path.value == "skipped-job-1.csv"
        await pilot.click("#export")
        await wait_for(pilot, lambda: "Wrote 1 ICCID to skipped-job-1.csv" in text_of(result))
        assert "Wrote 1 ICCID to skipped-job-1.csv" in notes(app)
        lines = Path("skipped-job-1.csv").read_text().splitlines()
        assert lines == [
            "iccid,reason",
            f'{iccid_of("munich-van-0005")},"Suspended: suspend is allowed only from '
            'Active, Idle, Detached"',
        ]
        # Written whole and renamed in place: no temporary file is left beside it.
        assert list(Path(".").glob(".skipped-job-1.csv.*")) == []


async def test_export_to_a_path_the_operator_typed(
    pool_db: str, make_app: Any, tmp_path: Path
) -> None:
    app = make_app(pool_db)
    target = tmp_path / "out" / "ineligible.csv"
    target.parent.mkdir()
    async with app.run_test(size=(120, 36)) as pilot:
        result = await suspend_munich_pair(pilot)
        path = result.query_one("#export-path", Input)
        path.value = str(target)
        path.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists())
        assert target.read_text().splitlines()[0] == "iccid,reason"
        assert len(target.read_text().splitlines()) == 2
        assert not Path("skipped-job-1.csv").exists()


async def test_a_bad_export_path_says_why_and_writes_nothing(
    pool_db: str, make_app: Any, tmp_path: Path
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        result = await suspend_munich_pair(pilot)
        path = result.query_one("#export-path", Input)
        bad = tmp_path / "no-such-folder" / "x.csv"
        path.value = str(bad)
        await pilot.click("#export")
        await wait_for(pilot, lambda: "cannot write" in text_of(result))
        assert (f"File: cannot write {bad}: the folder {bad.parent} does not exist. "
                "Nothing was written.") in text_of(result)
        path.value = "  "
        path.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "enter the path" in text_of(result))
        assert "File: enter the path of the CSV file to write." in text_of(result)
        assert not bad.parent.exists()
        assert list(tmp_path.glob("*.csv")) == []
        assert app.screen is result  # still there, to try another path


async def test_export_skipped_key_on_the_endpoints_screen(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await wait_for(pilot, lambda: "No bulk job has run in this console yet" in notes(app))
        assert app.screen is endpoints_screen(app)
        await suspend_munich_pair(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("X")
        export = await dialog(pilot, ExportScreen)
        assert "Suspend: 1 endpoint skipped." in text_of(export)
        export.query_one("#export-path", Input).value = "last.csv"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is endpoints_screen(app))
        assert "Wrote 1 ICCID to last.csv" in notes(app)
        assert len(Path("last.csv").read_text().splitlines()) == 2


async def test_export_skipped_when_the_last_job_skipped_nothing(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "reefer-0015")
        await pilot.press("space")
        await search(pilot, "reefer-0027")
        await pilot.press("space", "u")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        result = await finished(pilot)
        assert not result.query("#export")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("X")
        await wait_for(pilot, lambda: "skipped no endpoint: nothing to export" in notes(app))
        assert state_of("reefer-0015") == state_of("reefer-0027") == "suspended"


# --- purge -------------------------------------------------------------------------------


def _terminated_long_ago(url: str, name: str) -> None:
    """Move one termination 91 days before the console's fixed clock."""
    db.open_database(url)
    long_ago = dt.datetime.fromtimestamp(NOW, dt.UTC).replace(tzinfo=None) - dt.timedelta(
        days=91
    )
    Endpoint.update(terminated_at=long_ago).where(Endpoint.name == name).execute()
    db.database.close()


async def test_purge_deletes_what_was_terminated_90_days_ago(
    pool_db: str, make_app: Any
) -> None:
    _terminated_long_ago(pool_db, "denver-suv-0012")
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        # Purge acts on what is due, not on the row: the cursor is on one kept.
        await on_endpoint(pilot, "boston-suv-0026")
        await pilot.press("P")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Purge: 1 of 1 endpoints will change"
        assert confirm.typed == "purge 1"
        assert confirm.dangerous
        body = "\n".join(confirm.lines)
        assert "Purge deletes 1 endpoint terminated 90 days ago or more permanently, with " \
            "their SIMs; only the audit trail keeps a 'purged' event." in body
        confirm.query_one("#confirm-typed", Input).insert_text_at_cursor("purge 1")
        await pilot.press("enter")
        result = await finished(pilot)
        assert "Purge · job 1 · done" in text_of(result)
        assert "Applied          1" in text_of(result)
        assert not Endpoint.select().where(Endpoint.name == "denver-suv-0012").exists()
        # Terminated two days ago: kept.
        assert state_of("boston-suv-0026") == "terminated"
        assert AuditEvent.select().where(AuditEvent.action == "purged").count() == 1


async def test_purge_with_nothing_old_enough_says_so(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "boston-suv-0026")
        await pilot.press("P")
        await wait_for(pilot, lambda: "nothing to purge" in notes(app))
        assert "No endpoint was terminated 90 days ago or more" in notes(app)
        assert app.screen is endpoints_screen(app)
        assert Endpoint.select().where(Endpoint.state == "terminated").count() == 2


async def test_purge_typed_wrong_then_cancelled_deletes_nothing(
    pool_db: str, make_app: Any
) -> None:
    _terminated_long_ago(pool_db, "denver-suv-0012")
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "denver-suv-0012")
        await pilot.press("P")
        confirm = await dialog(pilot, ConfirmScreen)
        confirm.query_one("#confirm-typed", Input).insert_text_at_cursor("purge")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is confirm
        await pilot.press("escape")
        await settle(pilot)
        assert Endpoint.select().where(Endpoint.name == "denver-suv-0012").exists()
        assert Job.select().count() == 0


# --- roles -------------------------------------------------------------------------------


async def test_a_viewer_gets_no_bulk_action_and_no_purge(pool_db: str, make_app: Any) -> None:
    _terminated_long_ago(pool_db, "denver-suv-0012")
    app = make_app(pool_db, user="vera")
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "munich")
        await pilot.press("space", "space", "u", "P")
        await settle(pilot)
        assert app.screen is endpoints_screen(app)
        assert not app.screen.check_action("purge", ())
        assert not app.screen.check_action("suspend", ())
        assert state_of("munich-van-0004") == "active"
        assert Endpoint.select().where(Endpoint.name == "denver-suv-0012").exists()
        assert Job.select().count() == 0
        # Exporting is reading: a viewer may, and is told there is nothing yet.
        await pilot.press("X")
        await wait_for(pilot, lambda: "No bulk job has run in this console yet" in notes(app))


async def test_an_operator_may_not_purge(pool_db: str, make_app: Any) -> None:
    _terminated_long_ago(pool_db, "denver-suv-0012")
    db.open_database(pool_db)
    Operator.create(username="olga", role="operator", created_by=fleet.USER)
    db.database.close()
    app = make_app(pool_db, user="olga")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert not app.screen.check_action("purge", ())
        await pilot.press("P")
        await settle(pilot)
        assert app.screen is endpoints_screen(app)
        # Forced through the palette's path: core's refusal, in words.
        app.run_command(keys.BY_ID["purge"])
        await wait_for(pilot, lambda: "purge" in notes(app).lower())
        assert Endpoint.select().where(Endpoint.name == "denver-suv-0012").exists()


# --- 100,000 endpoints through the console ----------------------------------------------------


@pytest.fixture(scope="session")
def hundred_thousand_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 Active endpoints, each with its SIM, in one group: inserted set-based."""
    path = tmp_path_factory.mktemp("bulk") / "100k.db"
    db.open_database(str(path))
    models.create_schema()
    actor = auth.login(user=fleet.USER)
    records.create_group(actor, "vantiq-connect-eu", description="Passenger vehicles, Europe")
    group = EndpointGroup.get().id
    base = dt.datetime.fromtimestamp(NOW, dt.UTC).replace(tzinfo=None)
    fields = [Endpoint.iccid, Endpoint.name, Endpoint.reference, Endpoint.state,
              Endpoint.group, Endpoint.last_activity, Endpoint.created_at, Endpoint.updated_at]
    rows = [(make_iccid(f"8944{i:014d}"), f"car-{i:06d}", f"VIN{i:08d}", "active", group,
             int(NOW) - i, base, base) for i in range(1, BIG + 1)]
    with db.database.atomic():
        for start in range(0, BIG, 4000):
            Endpoint.insert_many(rows[start:start + 4000], fields=fields).execute()
        db.database.execute_sql(
            "INSERT INTO sim (iccid, endpoint_id, created_at) "
            "SELECT iccid, id, created_at FROM endpoint"
        )
    db.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.database.close()
    return path


@pytest.fixture
def hundred_thousand_db(tmp_path: Path, hundred_thousand_template: Path) -> str:
    """A fresh copy of the 100,000-endpoint database."""
    shutil.copy(hundred_thousand_template, tmp_path / "100k.db")
    return str(tmp_path / "100k.db")


async def test_bulk_suspend_of_100000_marked_endpoints_moves_the_bar(
    hundred_thousand_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[float, float | None]] = []
    recorded: list[tuple[float, str]] = []
    advance = ProgressScreen.advance

    def watched(self: ProgressScreen, done: int, total: int, recording: bool = False) -> None:
        advance(self, done, total, recording)
        bar = self.query_one(ProgressBar)
        if recording:
            recorded.append((bar.progress, text_of(self)))
        else:
            seen.append((bar.progress, bar.total))

    monkeypatch.setattr(ProgressScreen, "advance", watched)
    app = make_app(hundred_thousand_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, timeout=20)
        await pilot.press("asterisk")
        await settle(pilot, timeout=20)
        assert "all 100,000 matching marked" in endpoints_screen(app).status_text()
        await pilot.press("u")
        confirm = await wait_for(
            pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen, timeout=20
        )
        assert confirm.title_text == "Suspend: 100,000 of 100,000 endpoints will change"
        await pilot.press("enter")
        result = await finished(pilot, timeout=180)
        shown = text_of(result)
        assert "Suspend · job 1 · done" in shown
        assert "100,000 of 100,000 endpoints processed." in shown
        assert "Applied    100,000" in shown
        assert Endpoint.select().where(Endpoint.state == "suspended").count() == BIG
        assert Endpoint.select().where(Endpoint.state != "suspended").count() == 0
        assert AuditEvent.select().where(AuditEvent.action == "suspend").count() == BIG
    # Recording the targets moves the bar first, in words too.
    assert [p for p, _ in recorded] == [float(n) for n in range(0, BIG + 1, 10_000)]
    assert "Recording targets 50,000 of 100,000…" in recorded[5][1]
    values = [p for p, _ in seen]
    assert all(total == BIG for _, total in seen)
    assert values == sorted(values)
    between = {v for v in values if 0 < v < BIG}
    assert len(between) >= 5, values
    assert values[-1] == BIG


async def test_q_during_a_job_asks_and_yes_cancels_it_then_quits(
    big_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "CHUNK", 500)
    gate = threading.Event()
    report = ProgressScreen.report

    def held(self: ProgressScreen, done: int, total: int) -> None:
        report(self, done, total)
        if done:
            gate.wait(10)

    monkeypatch.setattr(ProgressScreen, "report", held)
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "state:active")
        await pilot.press("asterisk", "u")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        progress = await dialog(pilot, ProgressScreen)
        await wait_for(pilot, lambda: progress.query_one(ProgressBar).progress == 500)
        await pilot.press("q")
        ask = await dialog(pilot, ConfirmScreen)
        assert ask.title_text == "Quit while suspend runs?"
        assert "can be resumed from the Jobs screen" in ask.lines[0]
        await pilot.press("escape")  # No: the job carries on, the console stays
        assert app.screen is progress and not progress.is_cancelled()
        await pilot.press("q")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("shift+tab", "enter")  # Yes (No has the focus: it is dangerous)
        assert progress.is_cancelled()
        assert "Cancelling…" in text_of(progress)
        gate.set()
        await wait_for(pilot, lambda: app._exit, timeout=10)
    assert Job.get_by_id(1).status == "cancelled"
    assert Endpoint.select().where(Endpoint.state == "suspended").count() > 0


async def test_cancel_while_recording_the_targets_is_honoured_before_any_change(
    big_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.open_database(big_db)
    active = Endpoint.select().where(Endpoint.state == "active").count()
    suspended = Endpoint.select().where(Endpoint.state == "suspended").count()
    db.database.close()
    monkeypatch.setattr(actions, "ITEMS_PER_TX", 50)
    gate = threading.Event()
    recording = ProgressScreen.report_recording

    def held(self: ProgressScreen, done: int, total: int) -> None:
        recording(self, done, total)
        if done:
            gate.wait(10)

    monkeypatch.setattr(ProgressScreen, "report_recording", held)
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "state:active")
        await pilot.press("asterisk", "u")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        progress = await dialog(pilot, ProgressScreen)
        await wait_for(pilot, lambda: progress.query_one(ProgressBar).progress == 50)
        assert f"Recording targets 50 of {active:,}…" in text_of(progress)
        await pilot.press("escape")
        assert (f"Cancelling… the job stops after its current chunk (50 of {active:,} "
                "recorded).") in text_of(progress)
        gate.set()
        await wait_for(pilot, lambda: progress.finished)
        assert "Suspend · job 1 · cancelled" in text_of(progress)
        assert Job.get_by_id(1).status == "cancelled"
        assert Endpoint.select().where(Endpoint.state == "suspended").count() == suspended


# --- snapshots -------------------------------------------------------------------------------


async def _progress_at_41_percent(pilot: Any) -> None:
    await settle(pilot)
    dialog_ = ProgressScreen("suspend", BIG)
    await pilot.app.push_screen(dialog_)
    dialog_.advance(41_000, BIG)
    await pilot.pause()


async def _result_with_skipped_reasons(pilot: Any) -> None:
    await settle(pilot)
    await suspend_munich_pair(pilot)
    await pilot.pause()


def test_progress_dialog_120x36(snap_compare: Any, fleet_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(fleet_db), terminal_size=(120, 36),
                        run_before=_progress_at_41_percent)


def test_result_with_skipped_reasons_120x36(
    snap_compare: Any, pool_db: str, make_app: Any
) -> None:
    assert snap_compare(make_app(pool_db), terminal_size=(120, 36),
                        run_before=_result_with_skipped_reasons)


def test_result_with_skipped_reasons_80x24(
    snap_compare: Any, pool_db: str, make_app: Any
) -> None:
    assert snap_compare(make_app(pool_db), terminal_size=(80, 24),
                        run_before=_result_with_skipped_reasons)


async def test_ctrl_c_while_recording_asks_and_the_footer_says_so(
    big_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "ITEMS_PER_TX", 50)
    gate = threading.Event()
    recording = ProgressScreen.report_recording

    def held(self: ProgressScreen, done: int, total: int) -> None:
        recording(self, done, total)
        if done:
            gate.wait(10)

    monkeypatch.setattr(ProgressScreen, "report_recording", held)
    db.open_database(big_db)
    suspended = Endpoint.select().where(Endpoint.state == "suspended").count()
    db.database.close()
    app = make_app(big_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "state:active")
        await pilot.press("asterisk", "u")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        progress = await dialog(pilot, ProgressScreen)
        await wait_for(pilot, lambda: progress.query_one(ProgressBar).progress == 50)
        # The dialog's footer: its own keys, the list's are not active under it.
        assert progress.query_one(KeyFooter).text().split() == ["esc", "Cancel", "q", "Quit"]
        await pilot.press("ctrl+c")
        ask = await dialog(pilot, ConfirmScreen)
        assert ask.title_text == "Quit while suspend runs?"
        await pilot.press("escape")  # No: the dialog is back, its keys work
        assert app.screen is progress and not progress.is_cancelled()
        await pilot.press("q")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("shift+tab", "enter")  # Yes
        assert progress.is_cancelled()
        gate.set()
        await wait_for(pilot, lambda: app._exit, timeout=10)
    # Cancelled while recording its targets: the job changed nothing.
    assert Job.get_by_id(1).status == "cancelled"
    assert Endpoint.select().where(Endpoint.state == "suspended").count() == suspended


async def test_ctrl_c_on_the_list_quits_as_q_does(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("space")  # a mark: quitting asks
        await pilot.press("ctrl+c")
        ask = await dialog(pilot, ConfirmScreen)
        assert ask.title_text == "Quit simdeck?"
        assert any("marks are lost" in line for line in ask.lines)
        await pilot.press("escape")
        await pilot.pause()
        assert not app._exit
