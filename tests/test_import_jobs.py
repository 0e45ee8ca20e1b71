"""A large import is written a chunk per transaction and still ends with all of its rows or
none: a clash half-way undoes what was written, a crash is finished by ``jobs resume``."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from simdeck.core import db, importer, invariants, jobs
from simdeck.core.auth import Actor
from simdeck.core.errors import Refused
from simdeck.core.lifecycle import JobStatus
from simdeck.core.models import AuditEvent, Endpoint, EndpointTag, ImportRow, Imsi, Job, Sim

from .test_importer import counts, iccid, imsi, write

N = 11


class Killed(BaseException):
    """Stands for kill -9."""


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "IMPORT_CHUNK", 3)
    monkeypatch.setattr(importer, "STAGE_CHUNK", 4)


def _file(tmp_path: Path, n: int = N, endpoints: bool = True) -> Path:
    if endpoints:
        lines = ["iccid,imsi,name,tags"]
        lines += [f"{iccid(i)},{imsi(i)},car {i},fleet-{i % 2}" for i in range(n)]
    else:
        lines = ["iccid,imsi"] + [f"{iccid(i)},{imsi(i)}" for i in range(n)]
    return write(tmp_path, "\n".join(lines) + "\n")


def _as_if_dead(job_id: int) -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    job = Job.get_by_id(job_id)
    params = json.loads(job.params)
    params["pid"] = proc.pid
    Job.update(params=json.dumps(params)).where(Job.id == job_id).execute()


def test_a_large_import_is_one_job_written_in_chunks(admin: Actor, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = importer._write
    monkeypatch.setattr(importer, "_write", lambda actor, rows, *a, **k: (
        sizes.append(len(rows)), real(actor, rows, *a, **k))[1])
    report = importer.import_sims(admin, _file(tmp_path), as_endpoints=True)

    assert (report.imported, report.endpoints) == (N, N)
    assert sizes == [3, 3, 3, 2]  # no transaction wrote more than IMPORT_CHUNK rows
    (job,) = Job.select()
    view = jobs.job_view(job)
    assert (view["action"], view["status"], view["total"], view["applied"]) == (
        "import", "done", N, N)
    assert ImportRow.select().count() == 0  # the staging is cleared
    assert counts() == {"sim": N, "imsi": N, "endpoint": N, "endpoint_tag": N,
                        "audit": N + 2}  # and the admin's operator_added
    (summary,) = AuditEvent.select().where(AuditEvent.action == "sims_imported")
    assert json.loads(summary.detail) == {"file": "sims.csv", "count": N, "endpoints": N}
    assert AuditEvent.select().where(AuditEvent.job == job.id).count() == N + 1
    assert invariants.violations() == []


def test_a_small_import_stays_one_transaction(admin: Actor, tmp_path: Path) -> None:
    report = importer.import_sims(admin, _file(tmp_path, 3, endpoints=False))
    assert report.imported == 3 and Job.select().count() == 0


def test_a_clash_half_way_undoes_every_chunk_written(
    store: str, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importer._staged
    calls: list[int] = []

    def staged(job_id: int, after: int, limit: int) -> list[Any]:
        calls.append(after)
        if len(calls) == 3:  # two chunks written: another operator adds row 10's SIM
            def other() -> None:
                Sim.create(iccid=iccid(9))
                db.database.close()
            t = threading.Thread(target=other)
            t.start()
            t.join()
        return real(job_id, after, limit)

    monkeypatch.setattr(importer, "_staged", staged)
    with pytest.raises(Refused, match="added by someone else"):
        importer.import_sims(admin, _file(tmp_path), as_endpoints=True)

    # Only the other operator's SIM: nothing of the file, its audit included.
    assert [s.iccid for s in Sim.select()] == [iccid(9)]
    assert Imsi.select().count() == Endpoint.select().count() == EndpointTag.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action != "operator_added").count() == 0
    (job,) = Job.select()
    assert job.status == JobStatus.FAILED and "nothing was imported" in job.message
    assert ImportRow.select().count() == 0
    with pytest.raises(Refused, match="import the file again"):
        jobs.resume(admin, job.id)
    assert Sim.select().count() == 1


def test_a_crash_between_chunks_is_finished_by_resume(
    admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importer._write
    calls: list[int] = []

    def crash(*args: Any, **kw: Any) -> int:
        calls.append(1)
        if len(calls) == 3:
            raise Killed()
        return real(*args, **kw)

    monkeypatch.setattr(importer, "_write", crash)
    with pytest.raises(Killed):
        importer.import_sims(admin, _file(tmp_path), as_endpoints=True)
    monkeypatch.undo()
    (job,) = Job.select()
    assert Sim.select().count() == 6
    assert jobs.job_view(job)["status"] == "running"
    _as_if_dead(job.id)
    assert jobs.job_view(jobs.get_job(job.id))["status"] == "interrupted"

    result = jobs.resume(admin, job.id)

    assert (result.applied, result.total) == (N, N)
    assert result.lines()[0].startswith(f"Import (job {job.id}): {N} applied")
    assert counts()["sim"] == counts()["endpoint"] == N
    assert AuditEvent.select().where(AuditEvent.action == "sims_imported").count() == 1
    assert jobs.job_view(jobs.get_job(job.id))["status"] == "done"
    assert invariants.violations() == []


def test_a_crash_while_staging_writes_nothing(
    admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importer.insert_rows
    calls: list[int] = []

    def crash(model: Any, *args: Any) -> None:
        if model is ImportRow:
            calls.append(1)
            if len(calls) == 2:
                raise Killed()
        real(model, *args)

    monkeypatch.setattr(importer, "insert_rows", crash)
    with pytest.raises(Killed):
        importer.import_sims(admin, _file(tmp_path, endpoints=False))
    monkeypatch.undo()
    (job,) = Job.select()
    assert ImportRow.select().count() == 4 and Sim.select().count() == 0
    assert jobs.job_view(job)["status"] == "recording"
    _as_if_dead(job.id)

    result = jobs.resume(admin, job.id)

    assert result.status == JobStatus.FAILED and "import the file again" in result.message
    assert Sim.select().count() == 0 and ImportRow.select().count() == 0
    assert jobs.job_view(jobs.get_job(job.id))["status"] == "failed"
    assert AuditEvent.select().where(AuditEvent.action == "sims_imported").count() == 0
    with pytest.raises(Refused, match="import the file again"):
        jobs.resume(admin, job.id)
