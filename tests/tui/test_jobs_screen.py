"""The Jobs screen: the latest bulk jobs, the selected one's detail, resume and export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from simdeck.core import actions, auth, db
from simdeck.core.actions import Targets
from simdeck.core.models import Endpoint, Job, Operator
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.screens.jobs import JobsScreen
from simdeck.tui.screens.progress import ExportScreen, ProgressScreen
from tests.tui import fleet
from tests.tui.conftest import NOW, dialog, notes, settle, state_of, wait_for

BASE = dt.datetime.fromtimestamp(NOW, dt.UTC).replace(tzinfo=None)


def _ids(*names: str) -> tuple[int, ...]:
    return tuple(Endpoint.get(Endpoint.name == n).id for n in names)


def _pin(job_id: int, minutes_ago: int, finished: bool = True) -> None:
    """A job's times a fixed distance before the console's clock (stable snapshots)."""
    at = BASE - dt.timedelta(minutes=minutes_ago)
    Job.update(
        created_at=at, heartbeat=at + dt.timedelta(minutes=1),
        finished_at=at + dt.timedelta(minutes=1) if finished else None,
    ).where(Job.id == job_id).execute()


@pytest.fixture
def jobs_db(pool_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Three jobs made through core: done with a skip, cancelled half-way, interrupted."""
    db.open_database(pool_db)
    Operator.create(username="olga", role="operator", created_by=fleet.USER)
    alice = auth.login(user=fleet.USER)
    olga = auth.login(user="olga")
    # 1: done, one applied and one skipped (already Suspended).
    actions.run(alice, "suspend", Targets(ids=_ids("munich-van-0004", "munich-van-0005")))
    _pin(1, 190)
    # 2: cancelled after its first chunk of two.
    chunk = actions.CHUNK
    monkeypatch.setattr(actions, "CHUNK", 2)
    asked = iter([False, True])
    actions.run(olga, "suspend",
                Targets(ids=_ids("reefer-0015", "reefer-0017", "reefer-0027", "reefer-0028")),
                cancelled=lambda: next(asked))
    monkeypatch.setattr(actions, "CHUNK", chunk)
    _pin(2, 45)
    # 3: a job whose process on another host stopped sending its heartbeat: interrupted.
    actions.run(alice, "activate", Targets(ids=_ids("lyon-truck-0007", "boston-suv-0025")),
                cancelled=lambda: True)
    Job.update(status="running", params=json.dumps(
        {"targets": {"ids": 2}, "group": None, "pid": 1, "host": "ops-host-2"}
    )).where(Job.id == 3).execute()
    _pin(3, 7, finished=False)
    db.database.close()
    return pool_db


async def open_jobs(pilot: Any) -> JobsScreen:
    """Key 5, once the jobs are read."""
    await settle(pilot)
    await pilot.press("5")
    screen: JobsScreen = await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, JobsScreen) and pilot.app.screen
    )
    await wait_for(pilot, lambda: screen._loaded)
    await pilot.pause()
    return screen


def row_text(screen: JobsScreen, row: int) -> list[str]:
    return [str(cell) for cell in screen.table.get_row_at(row)]


async def test_the_jobs_newest_first_with_their_outcome(jobs_db: str, make_app: Any) -> None:
    app = make_app(jobs_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_jobs(pilot)
        assert screen.table.row_count == 3
        assert row_text(screen, 0) == ["3", "Activate", "alice", "Interrupted", "0", "0", "0",
                                       "7m ago, 04:33 UTC"]
        assert row_text(screen, 1) == ["2", "Suspend", "olga", "Cancelled", "2", "0", "0",
                                       "45m ago, 03:55 UTC"]
        assert row_text(screen, 2) == ["1", "Suspend", "alice", "Done", "1", "1", "0",
                                       "3h ago, 01:30 UTC"]
        detail = screen.detail_text()
        assert "Job 3 · Activate · Interrupted · by alice" in detail
        assert "R resumes it from its last committed chunk." in detail
        await pilot.press("down")
        detail = screen.detail_text()
        assert "Job 2 · Suspend · Cancelled · by olga" in detail
        assert "2 applied · 0 skipped · 0 failed · 2 pending, of 4" in detail
        assert "4 marked endpoints" in detail
        await pilot.press("down")
        detail = screen.detail_text()
        assert "Job 1 · Suspend · Done" in detail
        assert "Skipped by reason" in detail
        assert "1 — Suspended: suspend is allowed only from Active, Idle, Detached" in detail
        assert "X writes its skipped ICCIDs to a CSV file." in detail
        assert "R resumes" not in detail


async def test_no_job_yet(pool_db: str, make_app: Any) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_jobs(pilot)
        assert screen.table.row_count == 0
        assert "No bulk job yet." in screen.detail_text()
        await pilot.press("R", "X")
        await pilot.pause()
        assert "No job selected" in notes(app)


async def test_resume_a_cancelled_job_finishes_it(jobs_db: str, make_app: Any) -> None:
    app = make_app(jobs_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_jobs(pilot)
        await pilot.press("down", "R")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Resume job 2: Suspend"
        await pilot.press("enter")
        progress = await dialog(pilot, ProgressScreen)
        await wait_for(pilot, lambda: progress.finished)
        assert "Applied          4" in "\n".join(
            str(w.render()) for w in progress.query("#result-body")
        )
        assert {state_of(n) for n in ("reefer-0015", "reefer-0017", "reefer-0027",
                                      "reefer-0028")} == {"suspended"}
        await pilot.press("escape")
        await wait_for(pilot, lambda: row_text(screen, 1)[3] == "Done")
        assert Job.get_by_id(2).status == "done"


async def test_resume_answered_no_changes_nothing(jobs_db: str, make_app: Any) -> None:
    app = make_app(jobs_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_jobs(pilot)
        await pilot.press("R")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        assert state_of("lyon-truck-0007") == "pre-active"
        assert Job.get_by_id(3).status == "running"


async def test_resume_of_a_done_job_shows_cores_refusal(jobs_db: str, make_app: Any) -> None:
    app = make_app(jobs_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_jobs(pilot)
        await pilot.press("down", "down", "R")
        await wait_for(pilot, lambda: "Job 1 is done: nothing to resume" in notes(app))
        # Not offered: no R in the footer under a Done job.
        assert not app.screen.check_action("resume_job", ())
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        assert Job.get_by_id(1).status == "done"


async def test_an_operator_may_not_resume_a_purge_job(jobs_db: str, make_app: Any) -> None:
    db.open_database(jobs_db)
    alice = auth.login(user=fleet.USER)
    actions.run(alice, "purge", actions.purge_targets(BASE + dt.timedelta(days=400)),
                cancelled=lambda: True)
    db.database.close()
    app = make_app(jobs_db, user="olga")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_jobs(pilot)
        assert row_text(screen, 0)[1:4] == ["Purge", "alice", "Cancelled"]
        await pilot.press("R")
        await wait_for(pilot, lambda: "cannot purge: olga has the operator role" in notes(app))
        assert isinstance(app.screen, JobsScreen)
        assert Job.get_by_id(4).status == "cancelled"
        assert Endpoint.select().where(Endpoint.state == "terminated").count() == 2


async def test_a_viewer_cannot_resume_but_can_export(
    jobs_db: str, make_app: Any, tmp_path: Path
) -> None:
    app = make_app(jobs_db, user="vera")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_jobs(pilot)
        assert not screen.check_action("resume_job", ())
        await pilot.press("down", "R")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)
        assert Job.get_by_id(2).status == "cancelled"
        await pilot.press("down", "X")
        export = await dialog(pilot, ExportScreen)
        export.query_one("#export-path", Input).value = str(tmp_path / "job1.csv")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        lines = (tmp_path / "job1.csv").read_text().splitlines()
        assert lines[0] == "iccid,reason"
        assert lines[1].endswith('"Suspended: suspend is allowed only from Active, Idle, '
                                 'Detached"')
        assert f"Wrote 1 ICCID to {tmp_path / 'job1.csv'}" in notes(app)


async def test_export_of_a_job_that_skipped_nothing(jobs_db: str, make_app: Any) -> None:
    app = make_app(jobs_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_jobs(pilot)
        await pilot.press("down", "X")
        await wait_for(pilot, lambda: "Job 2 skipped no endpoint: nothing to export." in notes(app))
        assert isinstance(app.screen, JobsScreen)


async def test_another_operators_job_appears_by_itself(jobs_db: str, make_app: Any) -> None:
    app = make_app(jobs_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_jobs(pilot)
        db.open_database(jobs_db)
        actions.run(auth.login(user="olga"), "suspend",
                    Targets(ids=_ids("berlin-taxi-0001", "berlin-taxi-0002")))
        db.database.close()
        await wait_for(pilot, lambda: screen.table.row_count == 4)
        assert row_text(screen, 0)[:4] == ["4", "Suspend", "olga", "Done"]
        # The cursor stays on the job it was on.
        assert "Job 3" in screen.detail_text()


async def test_a_job_this_console_just_ran_gets_the_cursor_so_r_resumes_it(
    jobs_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tui.conftest import search

    app = make_app(jobs_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_jobs(pilot)
        await pilot.press("down", "down")
        assert "Job 1" in screen.detail_text()
        await pilot.press("1")
        await search(pilot, "berlin-taxi")
        # Cancel is pressed before the first chunk: the new job is cancelled, resumable.
        cancel = [True]
        monkeypatch.setattr(ProgressScreen, "is_cancelled", lambda self: cancel[0])
        await pilot.press("asterisk", "u")
        await dialog(pilot, ConfirmScreen)
        await pilot.press("enter")
        progress = await dialog(pilot, ProgressScreen)
        await wait_for(pilot, lambda: progress.finished)
        await pilot.press("escape")
        cancel[0] = False
        await pilot.press("5")
        await wait_for(pilot, lambda: screen.table.row_count == 4)
        assert "Job 4" in screen.detail_text() and "Cancelled" in screen.detail_text()
        await pilot.press("R")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Resume job 4: Suspend"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen)
                       and app.screen.finished, timeout=10)
    assert Job.get_by_id(4).status == "done" and Job.get_by_id(1).status == "done"
    assert state_of("berlin-taxi-0001") == "suspended"


async def test_a_failed_read_is_said_in_words_and_ctrl_l_reads_again(
    jobs_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from simdeck.core import jobs as core_jobs

    app = make_app(jobs_db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_jobs(pilot)
        assert screen.table.row_count == 3
        real = core_jobs.list_jobs

        def locked(limit: int = 100) -> list[dict[str, Any]]:
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(core_jobs, "list_jobs", locked)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen.problem is not None)
        assert "is busy (another operator is writing)" in str(screen.problem)
        assert "Cannot read" in notes(app) and "Traceback" not in notes(app)
        assert screen.table.row_count == 3  # what was shown stays
        monkeypatch.setattr(core_jobs, "list_jobs", real)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen.problem is None)
        assert screen.table.row_count == 3


# --- snapshots -------------------------------------------------------------------------------


async def _jobs(pilot: Any) -> None:
    await open_jobs(pilot)
    await pilot.press("down", "down")
    await pilot.pause()


def test_jobs_120x36(snap_compare: Any, jobs_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(jobs_db), terminal_size=(120, 36), run_before=_jobs)


def test_jobs_80x24(snap_compare: Any, jobs_db: str, make_app: Any) -> None:
    assert snap_compare(make_app(jobs_db), terminal_size=(80, 24), run_before=_jobs)
