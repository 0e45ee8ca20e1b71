"""Four operators acting at random on one SQLite file at once (targets.md, reliability).

Each worker is its own process going through core. Afterwards: no process crashed,
no "database is locked" reached anyone, the invariants hold, and no update was lost —
every endpoint's version counts exactly the audited changes made to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simdeck.core import auth, db, invariants, models, settings
from simdeck.core.models import AuditEvent, Endpoint

from ..conftest import GROUP, OTHER_GROUP, Maker

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("SIMDECK_CONCURRENCY_SECONDS", "30"))
ROOT = Path(__file__).resolve().parents[2]
#: Audit actions that change nothing on the endpoint row.
NO_CHANGE = ("created", "rejected", "imei_mismatch", "stale")


def test_four_processes_at_random(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    db.open_database(path)
    models.create_schema()
    admin = auth.login(user="admin")
    make = Maker(admin)
    make.group(GROUP)
    make.group(OTHER_GROUP)
    settings.set_setting(admin, "allow_resume", "true")
    states = ["hold", "pending", "pre-active", "active", "idle", "detached", "suspended"]
    for i in range(280):
        make.endpoint(states[i % len(states)])
    for _ in range(150):
        make.sim()
    users = [f"op{i}" for i in range(4)]
    for u in users:
        auth.add_operator(admin, u, "operator")
    first_event = AuditEvent.select(models.pw.fn.MAX(AuditEvent.id)).scalar()
    db.database.close()

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.worker", path, u, str(n), str(SECONDS)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n, u in enumerate(users)
    ]
    summaries = []
    for p in procs:
        out, err = p.communicate(timeout=SECONDS + 120)
        assert p.returncode == 0, err
        assert "Traceback" not in err and "database is locked" not in err
        summaries.append(json.loads(out))

    db.open_database(path)
    assert db.database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert invariants.violations() == []
    assert all(s["outcomes"].get("busy", 0) == 0 for s in summaries), summaries
    ops = sum(sum(s["outcomes"].values()) for s in summaries)
    assert ops > 100, summaries
    # No lost update: each endpoint's version is 1 + the changes audited on it.
    changes = dict(
        AuditEvent.select(AuditEvent.endpoint_id, models.pw.fn.COUNT(AuditEvent.id))
        .where(AuditEvent.endpoint_id.is_null(False) & AuditEvent.action.not_in(NO_CHANGE))
        .group_by(AuditEvent.endpoint_id).tuples()
    )
    lost = [
        (e.id, e.version, changes.get(e.id, 0))
        for e in Endpoint.select(Endpoint.id, Endpoint.version)
        if e.version != 1 + changes.get(e.id, 0)
    ]
    assert lost == []
    # What the workers say they applied is exactly what the trail holds since they began.
    since = AuditEvent.select().where(
        (AuditEvent.id > first_event) & AuditEvent.endpoint_id.is_null(False)
        & AuditEvent.action.not_in(("rejected", "imei_mismatch", "stale"))
    ).count()
    assert sum(s["applied"] for s in summaries) == since
    checked = Endpoint.select().count()
    print(f"\n4 processes x {SECONDS:.0f} s: {ops} operations, {since} changes applied "
          f"and audited, {checked} endpoint versions checked, outcomes "
          f"{[dict(x['outcomes']) for x in summaries]}")
    db.database.close()
