"""Bulk jobs that cannot be half-done: a recording cut short is finished by resume, two
resumes of one job never both run it, a reused pid does not keep a dead job "running",
and an admin can take over a job whose heartbeat is stale."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import threading
from typing import Any

import pytest
from click.testing import CliRunner

from simdeck.core import actions, auth, db, jobs, models
from simdeck.core.actions import Targets
from simdeck.core.errors import PermissionDenied, Refused
from simdeck.core.lifecycle import JobStatus, State
from simdeck.core.models import AuditEvent, Endpoint, Job, JobItem
from simdeck.core.queries import Filter
from simdeck.tui import cli

from .conftest import Maker

A, S = State.ACTIVE, State.SUSPENDED


class Killed(BaseException):
    """Stands for kill -9: nothing in core catches it, no finally of core's writes."""


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _as_if_dead(job_id: int) -> None:
    """Give the job the pid of a process that has exited, as kill -9 leaves it."""
    job = Job.get_by_id(job_id)
    params = json.loads(job.params)
    params["pid"] = _dead_pid()
    Job.update(params=json.dumps(params)).where(Job.id == job_id).execute()


def _kill_after(monkeypatch: pytest.MonkeyPatch, parts: int) -> None:
    """Interrupt the recording after ``parts`` committed recording transactions."""
    real = actions._record_part
    calls: list[int] = []

    def part(*args: Any) -> int | None:
        if len(calls) == parts:
            raise Killed()
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(actions, "_record_part", part)


@pytest.fixture
def fleet(make: Maker) -> list[int]:
    return [make.endpoint(A) for _ in range(23)] + [make.endpoint(State.HOLD)]


@pytest.mark.parametrize("by", ["ids", "filter"])
def test_a_recording_cut_short_is_finished_by_resume(
    store: str, fleet: list[int], admin: auth.Actor, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    monkeypatch.setattr(actions, "ITEMS_PER_TX", 5)
    targets = (Targets(ids=tuple(fleet)) if by == "ids"
               else Targets(filter=Filter(states=(A.value,))))
    _kill_after(monkeypatch, 2)
    with pytest.raises(Killed):
        actions.run(admin, "suspend", targets)
    monkeypatch.undo()
    (job,) = Job.select()
    # 10 targets recorded of 23 or 24; the owner still runs: the job is recording.
    assert JobItem.select().where(JobItem.job == job.id).count() == 10
    view = jobs.job_view(job)
    assert view["status"] == JobStatus.RECORDING and view["recording"] is True
    assert JobStatus(view["status"]).label == "Recording targets"
    with pytest.raises(Refused, match="still running"):
        jobs.resume(admin, job.id)
    assert Endpoint.select().where(Endpoint.state == S).count() == 0

    _as_if_dead(job.id)
    assert jobs.job_view(jobs.get_job(job.id))["status"] == JobStatus.INTERRUPTED
    db.database.close()
    monkeypatch.setattr(auth, "os_user", lambda: "admin")
    shown = CliRunner().invoke(cli.main, ["--db", store, "jobs", "show", str(job.id)],
                               env={"SIMDECK_DB": None})
    assert any(line.split()[:2] == ["Status", "interrupted"]
               for line in shown.stdout.splitlines()), shown.output
    assert "not known yet: its targets are still being recorded" in shown.stdout
    db.open_database(store)
    result = jobs.resume(admin, job.id)

    assert result.status == JobStatus.DONE
    final = jobs.job_view(jobs.get_job(job.id))
    assert final["recording"] is False and final["status"] == "done"
    assert final["total"] == len(fleet) if by == "ids" else final["total"] == 23
    assert final["applied"] == 23 and final["pending"] == 0
    assert Endpoint.select().where(Endpoint.state == A).count() == 0
    assert AuditEvent.select().where(AuditEvent.job == job.id).count() == 23


def test_a_recording_stopped_by_a_busy_database_is_resumable(
    fleet: list[int], admin: auth.Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simdeck.core.errors import Busy

    monkeypatch.setattr(actions, "ITEMS_PER_TX", 4)
    real = actions._record_part
    calls: list[int] = []

    def part(*args: Any) -> int | None:
        calls.append(1)
        if len(calls) == 3:
            raise Busy("the database is busy")
        return real(*args)

    monkeypatch.setattr(actions, "_record_part", part)
    with pytest.raises(Busy):
        actions.run(admin, "suspend", Targets(ids=tuple(fleet)))
    monkeypatch.undo()
    (job,) = Job.select()
    _as_if_dead(job.id)
    assert jobs.resume(admin, job.id).applied == 23


def _cancelled_job(admin: auth.Actor, ids: list[int]) -> int:
    """A job cancelled once its targets are recorded, before its first chunk."""
    applying: list[int] = []
    result = actions.run(admin, "suspend", Targets(ids=tuple(ids)),
                         progress=lambda done, total: applying.append(done),
                         cancelled=lambda: bool(applying))
    assert result.status == JobStatus.CANCELLED and result.job
    return result.job


def test_two_claims_from_one_snapshot_only_one_wins(
    fleet: list[int], admin: auth.Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _cancelled_job(admin, fleet)
    # Both resumes read the job before either claims it: the race of two terminals.
    reads = [Job.get_by_id(job_id), Job.get_by_id(job_id)]
    real = jobs.get_job
    monkeypatch.setattr(jobs, "get_job", lambda i: reads.pop(0) if reads else real(i))
    won = jobs.claim(admin, job_id)
    with pytest.raises(Refused, match=f"job {job_id} is being resumed by admin, pid {os.getpid()}"):
        jobs.claim(admin, job_id)
    assert Job.get_by_id(job_id).params == won.params
    assert Job.get_by_id(job_id).status == JobStatus.RUNNING


def test_two_resumes_at_the_same_moment(
    store: str, fleet: list[int], admin: auth.Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "CHUNK", 2)
    job_id = _cancelled_job(admin, fleet)
    db.database.close()
    start = threading.Barrier(2)
    results: list[actions.Result] = []
    refusals: list[str] = []

    def resume() -> None:
        start.wait()
        try:
            results.append(jobs.resume(admin, job_id))
        except Refused as exc:
            refusals.append(str(exc))
        finally:
            db.database.close()

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(results) == 1 and len(refusals) == 1, (results, refusals)
    assert ("being resumed by" in refusals[0] or "still running" in refusals[0]
            or "already done" in refusals[0])
    view = jobs.job_view(jobs.get_job(job_id))
    assert view["status"] == "done" and view["total"] == 24
    assert view["applied"] + view["skipped"] == view["total"]
    assert (view["applied"], view["skipped"]) == (23, 1)
    assert AuditEvent.select().where(AuditEvent.job == job_id).count() == 23


def _running_as(job_id: int, **owner: Any) -> None:
    job = Job.get_by_id(job_id)
    params = json.loads(job.params)
    params.update(owner)
    Job.update(params=json.dumps(params), status=JobStatus.RUNNING).where(
        Job.id == job_id).execute()


def test_a_reused_pid_does_not_keep_a_dead_job_running(
    fleet: list[int], admin: auth.Actor
) -> None:
    job_id = _cancelled_job(admin, fleet)
    me = actions.process_identity()
    _running_as(job_id, **me)
    assert jobs.job_view(jobs.get_job(job_id))["status"] == "running"
    # The same pid, alive, but a process started at another time: the owner is gone.
    _running_as(job_id, started=me["started"] - 1)
    assert jobs.job_view(jobs.get_job(job_id))["status"] == "interrupted"
    assert jobs.resume(admin, job_id).applied == 23


def _stale(job_id: int) -> None:
    Job.update(heartbeat=models.utcnow() - jobs.STALE_AFTER - dt.timedelta(seconds=5)).where(
        Job.id == job_id).execute()


def _cli(path: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, ["--db", path, *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_force_takes_over_a_silent_job_for_an_admin_only(
    store: str, fleet: list[int], admin: auth.Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _cancelled_job(admin, fleet)
    _running_as(job_id, **actions.process_identity())
    auth.add_operator(admin, "olga", "operator")
    db.database.close()
    monkeypatch.setattr(auth, "os_user", lambda: "admin")

    code, _, err = _cli(store, "jobs", "resume", str(job_id))
    assert code == 1 and "still running" in err and "--force" not in err
    code, _, err = _cli(store, "jobs", "resume", "--force", str(job_id))
    assert code == 1 and "sent a heartbeat" in err and "60 s or more" in err

    db.open_database(store)
    _stale(job_id)
    db.database.close()
    code, _, err = _cli(store, "jobs", "resume", str(job_id))
    assert code == 1 and f"simdeck jobs resume --force {job_id}" in err
    monkeypatch.setattr(auth, "os_user", lambda: "olga")
    code, _, err = _cli(store, "jobs", "resume", "--force", str(job_id))
    assert code == 3 and "admin" in err
    monkeypatch.setattr(auth, "os_user", lambda: "admin")
    code, out, err = _cli(store, "jobs", "resume", "--force", str(job_id), "--format", "json")
    # Exit 1: the Hold endpoint was skipped, as any job that skips some reports.
    assert code == 1 and "Traceback" not in err
    assert json.loads(out)["applied"] == 23

    db.open_database(store)
    assert Endpoint.select().where(Endpoint.state == A).count() == 0
    assert jobs.job_view(jobs.get_job(job_id))["status"] == "done"


def test_the_old_owner_stops_once_taken_over(
    fleet: list[int], admin: auth.Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "CHUNK", 4)
    job_id = _cancelled_job(admin, fleet)
    old = jobs.claim(admin, job_id).params
    _stale(job_id)
    jobs.claim(admin, job_id, force=True)  # another terminal takes it over
    result = actions.carry_on(admin, job_id, old)
    assert result.status == JobStatus.INTERRUPTED and "taken over by admin" in result.message
    assert Endpoint.select().where(Endpoint.state == S).count() == 0
    with pytest.raises(PermissionDenied):
        auth.add_operator(admin, "olga", "operator")
        jobs.claim(auth.login(user="olga"), job_id, force=True)


def test_cancel_while_recording_stops_at_once_and_resume_records_the_rest(
    fleet: list[int], admin: auth.Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "ITEMS_PER_TX", 5)
    said: list[tuple[int, int]] = []
    result = actions.run(admin, "suspend", Targets(filter=Filter()),
                         recording=lambda done, total: said.append((done, total)),
                         cancelled=lambda: len(said) >= 3)

    total = len(fleet)
    # Told before the first transaction and after each: 0, 5, 10 of all of them.
    assert said == [(0, total), (5, total), (10, total)]
    assert result.status == JobStatus.CANCELLED and result.applied == 0
    view = jobs.job_view(jobs.get_job(result.job or 0))
    assert view["status"] == JobStatus.CANCELLED and view["recording"] is True
    assert Endpoint.select().where(Endpoint.state == State.SUSPENDED.value).count() == 0

    again: list[tuple[int, int]] = []
    resumed = jobs.resume(admin, result.job or 0,
                          recording=lambda done, n: again.append((done, n)))
    assert again[0] == (10, total) and again[-1] == (total, total)
    assert resumed.status == JobStatus.DONE
    assert resumed.applied + sum(resumed.skipped.values()) == total
