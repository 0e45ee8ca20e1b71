"""Bulk jobs as recorded: their status, their view, what they skipped, and resuming them.

``actions.run`` records a job for more than one endpoint; this module reads those
records. A running job whose process is gone shows as *interrupted*: on this host its
pid is dead, on another no heartbeat has come for STALE_AFTER. ``resume`` carries an
interrupted or cancelled job on from the last chunk it committed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from typing import Any

from . import actions, models
from .actions import APPLIED, Cancelled, Progress, Result, skipped_reasons
from .auth import Actor
from .errors import NotFound, Refused
from .lifecycle import JobStatus
from .models import Job, JobItem

#: A running job whose heartbeat is older than this, on another host, counts as interrupted.
STALE_AFTER = dt.timedelta(seconds=60)


def job_status(job: Job) -> JobStatus:
    """The job's status as stored, or interrupted for a running job whose process died."""
    if job.status != JobStatus.RUNNING:
        return JobStatus(job.status)
    params = json.loads(job.params or "{}")
    if params.get("host") == socket.gethostname():
        try:
            os.kill(int(params.get("pid", 0)), 0)
        except (ProcessLookupError, ValueError):
            return JobStatus.INTERRUPTED
        except PermissionError:
            pass
        return JobStatus.RUNNING
    if models.utcnow() - job.heartbeat > STALE_AFTER:
        return JobStatus.INTERRUPTED
    return JobStatus.RUNNING


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
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Result:
    """Carry on an interrupted or cancelled job from the last chunk it committed."""
    status = job_status(get_job(job_id))
    if status is JobStatus.DONE:
        raise Refused(f"job {job_id} is already done: nothing to resume")
    if status is JobStatus.RUNNING:
        raise Refused(f"job {job_id} is still running in another process")
    return actions.carry_on(actor, job_id, progress=progress, cancelled=cancelled)


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
