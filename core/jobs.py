"""Bulk jobs as recorded: their status, their view, what they skipped, and resuming them.

``actions.run`` records a job for more than one endpoint; this module reads those
records. A running (or recording) job whose process is gone shows as *interrupted*: on
this host its pid is dead or now names a process started at another time, on another
no heartbeat has come for STALE_AFTER. ``resume`` claims the job by a compare-and-set
on its row and carries it on: it first finishes recording the targets if that was cut
short, then applies from the last chunk it committed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import uuid
from typing import Any

from . import actions, importer, models
from .actions import APPLIED, Cancelled, Progress, Result, process_started, skipped_reasons
from .auth import Actor
from .db import retrying
from .errors import NotFound, Refused
from .lifecycle import JobStatus, Role
from .models import Job, JobItem

#: A running job whose heartbeat is older than this, on another host, counts as interrupted;
#: on this host, an admin may take it over (``resume(force=True)``): its process is alive
#: but has written nothing for this long (stopped, or hung), while a chunk takes < 1 s.
STALE_AFTER = dt.timedelta(seconds=60)
#: Stored statuses of a job some process is working on.
LIVE = (JobStatus.RUNNING, JobStatus.RECORDING)


def _alive(params: dict[str, Any]) -> bool:
    """True when the process that owns the job still runs: the same pid *and* start time.

    A pid alone is not enough: after the owner died, the system may give its pid to
    another process, which would keep the job "running" forever.
    """
    try:
        pid = int(params.get("pid", 0))
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive, and the start time below still tells
    started = params.get("started")
    if started is not None:
        now = process_started(pid)
        if now is not None and now != started:
            return False
    return True


def is_stale(job: Job) -> bool:
    """True when the job's process has written no heartbeat for STALE_AFTER."""
    return bool(models.utcnow() - job.heartbeat > STALE_AFTER)


def job_status(job: Job) -> JobStatus:
    """The job's status as stored, or interrupted for a live one whose process is gone
    (on this host: its pid is dead or belongs to a newer process; on another: its
    heartbeat is stale)."""
    stored = JobStatus(job.status)
    if stored not in LIVE:
        return stored
    params = json.loads(job.params or "{}")
    if params.get("host") == socket.gethostname():
        return stored if _alive(params) else JobStatus.INTERRUPTED
    return JobStatus.INTERRUPTED if is_stale(job) else stored


def job_view(job: Job) -> dict[str, Any]:
    """A job as the Jobs screen and ``simdeck jobs`` show it."""
    params = json.loads(job.params or "{}")
    return {
        "id": job.id,
        "action": job.action,
        "actor": job.actor,
        "status": job_status(job).value,
        "total": job.total,
        "applied": job.applied,
        "skipped": job.skipped,
        "failed": job.failed,
        "pending": max(job.total - job.applied - job.skipped - job.failed, 0),
        "skipped_by_reason": skipped_reasons(job.id),
        "targets": params.get("targets"),
        "group": params.get("group"),
        "created_at": job.created_at.isoformat(timespec="seconds") + "Z",
        "finished_at": job.finished_at.isoformat(timespec="seconds") + "Z"
        if job.finished_at else None,
        "message": job.message,
        #: True until every target is recorded: until then the total is not known.
        "recording": bool(params.get("recording")),
    }


def get_job(job_id: int) -> Job:
    """The job with this id."""
    job = Job.get_or_none(Job.id == job_id)
    if job is None:
        raise NotFound(f"job {job_id}: no such job")
    return job


def list_jobs(limit: int = 100) -> list[dict[str, Any]]:
    """The latest jobs, newest first."""
    return [job_view(j) for j in Job.select().order_by(Job.id.desc()).limit(limit)]


def resume(
    actor: Actor,
    job_id: int,
    *,
    force: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    recording: Progress | None = None,
) -> Result:
    """Carry on an interrupted or cancelled job from the last chunk it committed (first
    finishing the recording of its targets if that was cut short).

    ``force`` (admins) takes over a job that still looks alive but whose heartbeat is
    stale. The claim is a compare-and-set on the job row, so of two resumes of one job
    at the same moment exactly one carries it on; the other is refused.
    """
    job = claim(actor, job_id, force=force)
    if job.action == importer.IMPORT:
        return importer.carry_on_import(actor, job_id, job.params)
    return actions.carry_on(actor, job_id, job.params, progress=progress, cancelled=cancelled,
                            recording=recording)


def claim(actor: Actor, job_id: int, *, force: bool = False) -> Job:
    """Make this process the job's owner, or refuse in words; the job as claimed."""
    job = get_job(job_id)
    status = job_status(job)
    if status is JobStatus.DONE:
        raise Refused(f"job {job_id} is already done: nothing to resume")
    if status in LIVE:
        holder = _holder(job)
        if not force:
            hint = (f"; it has sent no heartbeat for {_age(job)}: an admin can take it over"
                    f" with simdeck jobs resume --force {job_id}" if is_stale(job) else "")
            raise Refused(f"job {job_id} is still running ({holder}){hint}")
        actor.require(Role.ADMIN, f"take over job {job_id}")
        if not is_stale(job):
            raise Refused(
                f"job {job_id} is running ({holder}) and sent a heartbeat {_age(job)} ago: "
                f"--force takes over only a job silent for {int(STALE_AFTER.total_seconds())} "
                "s or more"
            )
    elif not status.resumable:
        raise Refused(f"job {job_id} is {status.value}: it cannot be resumed")
    elif job.action == importer.IMPORT and status is JobStatus.FAILED:
        raise Refused(f"job {job_id}: {job.message or 'the import failed'}; "
                      "import the file again")
    params = json.loads(job.params or "{}")
    params.update(actions.process_identity(), token=uuid.uuid4().hex, resumed_by=actor.name)
    if force:
        params["taken_over"] = True
    claimed = json.dumps(params)
    new_status = JobStatus.RECORDING if params.get("recording") else JobStatus.RUNNING

    def cas() -> int:
        return int(
            Job.update(status=new_status, params=claimed, heartbeat=models.utcnow(),
                       finished_at=None)
            .where((Job.id == job_id) & (Job.status == job.status) & (Job.params == job.params))
            .execute()
        )

    if not retrying(cas):
        raise Refused(f"job {job_id} is being resumed by {_holder(get_job(job_id))}")
    job.params, job.status = claimed, new_status
    return job


def _holder(job: Job) -> str:
    """Who runs the job, in words: the operator, pid and host."""
    params = json.loads(job.params or "{}")
    who = params.get("resumed_by") or job.actor
    return f"{who}, pid {params.get('pid')} on {params.get('host')}"


def _age(job: Job) -> str:
    seconds = int((models.utcnow() - job.heartbeat).total_seconds())
    return f"{seconds} s"


def job_skipped(job_id: int) -> list[tuple[str, str]]:
    """(ICCID, reason) of every endpoint a job skipped, for the CSV export."""
    get_job(job_id)
    q = (
        JobItem.select(JobItem.iccid, JobItem.outcome, JobItem.endpoint_id)
        .where((JobItem.job == job_id) & JobItem.outcome.is_null(False)
               & (JobItem.outcome != APPLIED))
        .order_by(JobItem.endpoint_id)
    )
    return [(iccid or f"endpoint {eid}", why) for iccid, why, eid in q.tuples()]
