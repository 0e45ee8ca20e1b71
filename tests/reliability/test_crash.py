"""kill -9 in the middle of a 100,000-endpoint bulk job (targets.md, reliability).

Afterwards the file passes PRAGMA integrity_check, every endpoint of the job is wholly
before or wholly after the action (state, audit event and job record agree), the job
shows as interrupted with what it applied, and ``simdeck jobs resume`` finishes it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simdeck.core import db, invariants, jobs
from simdeck.core.demo import build_demo
from simdeck.core.models import AuditEvent, Endpoint, JobItem
from simdeck.core.queries import Filter, count

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LIVE_ACTIVE = ("active", "idle", "detached")

BULK = """
import sys
from simdeck.core import actions, auth, db
from simdeck.core.actions import Targets
from simdeck.core.queries import Filter
db.open_database(sys.argv[1])
actor = auth.login()
def progress(done, total):
    print(done, total, flush=True)
actions.run(actor, "suspend", Targets(filter=Filter(states=("active", "idle", "detached"))),
            progress=progress)
"""


def test_kill_9_mid_job_then_resume(tmp_path: Path) -> None:
    path = str(tmp_path / "crash.db")
    db.open_database(path)
    build_demo(130_000, seed=3)
    targets = count(Filter(states=LIVE_ACTIVE))
    assert targets > 90_000
    db.database.close()

    proc = subprocess.Popen([sys.executable, "-c", BULK, path], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    done = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        done = int(line.split()[0])
        if done >= targets // 3:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    assert 0 < done < targets

    db.open_database(path)
    assert db.database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert invariants.violations(audit=False) == []
    (job,) = jobs.list_jobs(limit=1)
    assert job["action"] == "suspend" and job["status"] == "interrupted"
    assert 0 < job["applied"] < job["total"] and job["pending"] > 0
    job_id = job["id"]
    _check_wholly_before_or_after(job_id, job["applied"])
    db.database.close()

    out = subprocess.run(
        [sys.executable, "-m", "simdeck.tui.cli", "--db", path, "jobs", "resume", str(job_id),
         "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    result = json.loads(out.stdout)
    assert result["job"] == job_id

    db.open_database(path)
    final = jobs.job_view(jobs.get_job(job_id))
    assert final["status"] == "done" and final["pending"] == 0
    assert final["applied"] + final["skipped"] == final["total"] == targets
    assert count(Filter(states=LIVE_ACTIVE)) == 0
    _check_wholly_before_or_after(job_id, final["applied"])
    assert invariants.violations(audit=False) == []
    db.database.close()


def _check_wholly_before_or_after(job_id: int, applied: int) -> None:
    """Applied items are Suspended with one audit event of the job; the rest untouched."""
    audited = AuditEvent.select().where(AuditEvent.job == job_id).count()
    marked = JobItem.select().where((JobItem.job == job_id) & (JobItem.outcome == "applied"))
    assert audited == marked.count() == applied
    half = (
        Endpoint.select()
        .join(JobItem, on=(JobItem.endpoint_id == Endpoint.id))
        .where((JobItem.job == job_id) & (
            ((JobItem.outcome == "applied") & (Endpoint.state != "suspended"))
            | (JobItem.outcome.is_null() & Endpoint.state.not_in(LIVE_ACTIVE))
        ))
        .count()
    )
    assert half == 0


def test_kill_9_while_the_targets_are_recorded_then_resume(tmp_path: Path) -> None:
    """The window between two recording transactions: the job must not be called done
    with only the targets recorded so far (issue: 7,603 of 20,000 never suspended)."""
    path = str(tmp_path / "recording.db")
    db.open_database(path)
    build_demo(150_000, seed=5)
    targets = count(Filter(states=LIVE_ACTIVE))
    assert targets > 100_000
    db.database.close()

    watch = sqlite3.connect(path)
    proc = subprocess.Popen([sys.executable, "-c", BULK, path], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    recorded = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        row = watch.execute("SELECT status, last_id FROM job ORDER BY id DESC LIMIT 1").fetchone()
        if row and row[0] == "recording" and row[1] > 0:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.001)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    recorded = watch.execute("SELECT count(*) FROM job_item").fetchone()[0]
    watch.close()
    assert 0 < recorded < targets

    db.open_database(path)
    assert db.database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    (job,) = jobs.list_jobs(limit=1)
    assert job["status"] == "interrupted" and job["recording"] is True
    assert job["applied"] == 0 and count(Filter(states=("suspended",))) < targets // 2
    db.database.close()

    out = subprocess.run(
        [sys.executable, "-m", "simdeck.tui.cli", "--db", path, "jobs", "resume",
         str(job["id"]), "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["applied"] == targets

    db.open_database(path)
    final = jobs.job_view(jobs.get_job(job["id"]))
    assert final["status"] == "done" and final["recording"] is False
    assert final["total"] == final["applied"] == targets and final["pending"] == 0
    assert count(Filter(states=LIVE_ACTIVE)) == 0
    _check_wholly_before_or_after(job["id"], targets)
    assert invariants.violations(audit=False) == []
    db.database.close()
