"""The demo on PostgreSQL: above the old bind-parameter limit, the same fleet as SQLite,
the same rows as the Python build, and a failed build that leaves nothing behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from simdeck.core import db, demo, invariants, models
from simdeck.core.demo import postgres
from tests.conftest import _drop_pg_database, _fresh_pg_database

NOW = dt.datetime(2026, 5, 1, 12, 0, 0)
#: Above the 4,700 endpoints where batches of bound parameters used to fail.
N = 6000


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = _fresh_pg_database()
    yield url
    if db.database.obj is not None:
        db.database.close()
    _drop_pg_database(url)


def rows(sql: str) -> list[tuple[object, ...]]:
    return list(db.database.execute_sql(sql).fetchall())


def test_the_fleet_is_the_sqlite_fleet_with_the_python_builds_rows(
    pg_url: str, tmp_path: Path
) -> None:
    db.open_database(str(tmp_path / "lite.db"))
    lite = demo.build_demo(N, seed=1, now=NOW, operator="admin")
    lite_audit = rows("SELECT COUNT(*) FROM audit_event")
    db.database.close()

    db.open_database(pg_url)
    summary = demo.build_demo(N, seed=1, now=NOW, operator="admin")
    assert summary.by_state == lite.by_state
    assert (summary.sims, summary.pool_sims) == (lite.sims, lite.pool_sims)
    assert rows("SELECT COUNT(*) FROM endpoint") == [(N,)]
    assert rows("SELECT COUNT(*) FROM audit_event") == lite_audit
    assert invariants.violations(limit=3) == []
    assert demo.status() == demo.BUILT
    assert models.schema_version() == models.SCHEMA_VERSION

    fleet = demo._Fleet(N, 1, NOW, "admin")
    sims = rows("SELECT id, iccid, eid, endpoint_id, "
                "to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') FROM sim ORDER BY id")
    assert sims == list(fleet.sim_rows())
    assert rows("SELECT sim_id, position, imsi FROM imsi ORDER BY id") == list(fleet.imsi_rows())
    assert rows("SELECT tag, endpoint_id FROM endpoint_tag ORDER BY endpoint_id, tag") == list(
        fleet.tag_rows())
    # The foreign keys set aside for the load are back.
    keys = rows("SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f'")
    assert {t for (t,) in keys} >= {"endpoint", "sim", "imsi", "endpoint_tag", "job_item"}
    # New rows get ids after the loaded ones.
    assert models.EndpointGroup.create(name="after-the-demo").id == len(demo.fleet.REGIONS) + 1


def test_a_failed_build_leaves_nothing_behind(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sim_sql = postgres._sim_sql

    def broken(fleet: demo._Fleet) -> str:
        return real_sim_sql(fleet).replace("FROM endpoint", "FROM no_such_table")

    monkeypatch.setattr(postgres, "_sim_sql", broken)
    db.open_database(pg_url)
    with pytest.raises(Exception, match="no_such_table"):
        demo.build_demo(N, seed=1, now=NOW, operator="admin")
    db.database.close()
    db.open_database(pg_url)
    assert not models.has_schema()
    assert demo.status() == ""
    monkeypatch.undo()
    assert demo.build_demo(500, seed=1, now=NOW, operator="admin").endpoints == 500
    assert demo.status() == demo.BUILT
