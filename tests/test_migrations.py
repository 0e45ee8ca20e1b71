"""An older database opens migrated to the current schema, its data whole and every rule holding.

The version 1 database is built here the way simdeck 1 built it: the same tables, with
the job items' two version 1 indexes (a full ``(job_id, outcome)`` index and one on
``job_id``) in place of the partial index of skipped items. It runs on SQLite, and on
PostgreSQL when SIMDECK_TEST_PG names a server.
"""

from __future__ import annotations

from simdeck.core import auth, db, invariants, jobs, models, queries, records, store
from simdeck.core.actions import Targets, run
from simdeck.core.lifecycle import JobStatus, State
from simdeck.core.queries import Filter

from .conftest import GROUP, Maker

#: The job items' indexes of version 1, as simdeck 1 created them.
V1_JOB_ITEM_INDEXES = [
    'CREATE INDEX "job_item_job_id" ON "job_item" ("job_id")',
    "CREATE INDEX job_item_outcome ON job_item (job_id, outcome)",
]


def _create_v1_schema() -> None:
    models.create_schema()
    db.database.execute_sql("DROP INDEX job_item_skipped")
    for sql in V1_JOB_ITEM_INDEXES:
        db.database.execute_sql(sql)
    models.Setting.update(value="1").where(models.Setting.key == "schema_version").execute()


def _job_item_indexes() -> set[str]:
    if db.is_sqlite():
        sql = ("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'job_item'"
               " AND sql IS NOT NULL")
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'job_item'"
    return {name for (name,) in db.database.execute_sql(sql).fetchall()}


def _fill(admin: auth.Actor) -> tuple[int, dict[State, int]]:
    """Endpoints in every state and a bulk job that skipped some: what a v1 store held."""
    make = Maker(admin)
    for state in State:
        for _ in range(3):
            make.endpoint(state)
    result = run(admin, "suspend", Targets(filter=Filter(group=GROUP)))
    assert result.job is not None and result.skipped
    return result.job, queries.counts_by_state(Filter())


def test_a_version_1_database_is_migrated_with_its_data_whole(blank: str) -> None:
    db.open_database(blank)
    _create_v1_schema()
    admin = auth.login(user="admin")
    job_id, counts = _fill(admin)
    job_before = jobs.job_view(jobs.get_job(job_id))
    skipped_before = jobs.job_skipped(job_id)
    audit_before = models.AuditEvent.select().count()
    assert models.schema_version() == 1
    assert {"job_item_job_id", "job_item_outcome"} <= _job_item_indexes()
    db.database.close()

    store.open_store(blank)

    assert models.schema_version() == models.SCHEMA_VERSION
    indexes = _job_item_indexes()
    assert "job_item_skipped" in indexes
    assert not {"job_item_job_id", "job_item_outcome"} & indexes
    assert invariants.violations() == []
    assert invariants.unaudited_endpoints() == []
    assert queries.counts_by_state(Filter()) == counts
    assert models.AuditEvent.select().count() == audit_before
    job = jobs.job_view(jobs.get_job(job_id))
    assert job == job_before and job["status"] == JobStatus.DONE
    assert job["skipped_by_reason"] and jobs.job_skipped(job_id) == skipped_before


def test_the_migrated_database_takes_new_work(blank: str) -> None:
    db.open_database(blank)
    _create_v1_schema()
    admin = auth.login(user="admin")
    _, counts = _fill(admin)
    db.database.close()

    store.open_store(blank)
    result = run(admin, "terminate", Targets(filter=Filter(states=(State.SUSPENDED.value,))))

    assert result.status == JobStatus.DONE and result.applied == counts[State.SUSPENDED] > 3
    assert sum(jobs.job_view(jobs.get_job(result.job or 0))["skipped_by_reason"].values()) == 0
    assert queries.count(Filter(states=(State.SUSPENDED.value,))) == 0
    assert invariants.violations() == []


def test_opening_again_after_the_migration_changes_nothing(blank: str) -> None:
    db.open_database(blank)
    _create_v1_schema()
    db.database.close()
    store.open_store(blank)
    first = _job_item_indexes()
    db.database.close()

    store.open_store(blank)

    assert models.schema_version() == models.SCHEMA_VERSION
    assert _job_item_indexes() == first


def _create_v2_schema() -> None:
    """Version 2 as simdeck 2 built it: every table but the import staging."""
    models.create_schema()
    db.database.drop_tables([models.ImportRow])
    models.Setting.update(value="2").where(models.Setting.key == "schema_version").execute()


def test_a_version_2_database_gets_the_import_staging_and_takes_a_large_import(
    blank: str, tmp_path: object, monkeypatch: object
) -> None:
    from pathlib import Path

    from simdeck.core import importer
    from simdeck.core.identifiers import make_iccid

    db.open_database(blank)
    _create_v2_schema()
    admin = auth.login(user="admin")
    job_id, counts = _fill(admin)
    assert not models.ImportRow.table_exists()
    db.database.close()

    store.open_store(blank)

    assert models.schema_version() == models.SCHEMA_VERSION and models.ImportRow.table_exists()
    assert queries.counts_by_state(Filter()) == counts
    assert jobs.job_view(jobs.get_job(job_id))["status"] == JobStatus.DONE
    csv_path = Path(str(tmp_path)) / "big.csv"
    csv_path.write_text("iccid,imsi\n" + "".join(
        f"{make_iccid(f'89882{i:013d}')},90170{i:010d}\n" for i in range(7)))
    monkey = monkeypatch  # the chunk small enough that 7 rows make an import job
    monkey.setattr(importer, "IMPORT_CHUNK", 2)  # type: ignore[attr-defined]
    report = importer.import_sims(admin, csv_path)
    assert report.imported == 7
    assert models.Job.get(models.Job.action == "import").status == JobStatus.DONE
    assert models.ImportRow.select().count() == 0
    assert invariants.violations() == []


def _audit_indexes() -> set[str]:
    if db.is_sqlite():
        sql = ("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event'"
               " AND sql IS NOT NULL")
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_event'"
    return {name for (name,) in db.database.execute_sql(sql).fetchall()}


def test_a_version_4_database_gets_the_audit_logs_action_and_job_indexes(blank: str) -> None:
    db.open_database(blank)
    models.create_schema()
    for name in ("audit_action", "audit_job"):
        db.database.execute_sql(f"DROP INDEX {name}")
    models.Setting.update(value="4").where(models.Setting.key == "schema_version").execute()
    admin = auth.login(user="admin")
    job_id, _ = _fill(admin)
    db.database.close()

    store.open_store(blank)

    assert models.schema_version() == models.SCHEMA_VERSION
    assert {"audit_action", "audit_job"} <= _audit_indexes()
    by_job = queries.audit_page(queries.AuditFilter(job=job_id), limit=100)
    assert by_job and all(e["job"] == job_id for e in by_job)
    assert queries.audit_count(queries.AuditFilter(job=job_id)) == len(by_job)
    suspends = queries.audit_page(queries.AuditFilter(action="suspend"), limit=100)
    assert {e["action"] for e in suspends} == {"suspend"}
    # The job's events and the three endpoints made Suspended before it.
    assert len(suspends) == queries.audit_count(queries.AuditFilter(action="suspend")) == len(
        by_job) + 3


def _reopened_at(url: str, version: int) -> None:
    """Mark the database as schema ``version``, then open it as simdeck does: migrated."""
    models.Setting.update(value=str(version)).where(
        models.Setting.key == "schema_version").execute()
    db.database.close()
    store.open_store(url)
    assert models.schema_version() == models.SCHEMA_VERSION


def _index_definitions() -> dict[str, str]:
    """PostgreSQL: the two covering sort indexes' and the pair index's definitions."""
    return dict(db.database.execute_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
        "('endpoint_iccid_id', 'endpoint_name_id', 'endpoint_text_pairs')").fetchall())


def test_a_version_7_database_gets_the_search_index_and_the_merge_settings(blank: str) -> None:
    db.open_database(blank)
    models.create_schema()
    admin = auth.login(user="admin")
    _fill(admin)
    if db.is_sqlite():
        db.database.execute_sql("DROP INDEX endpoint_name_text")
        db.database.execute_sql("DELETE FROM endpoint_text_config WHERE k IN "
                                "('automerge', 'crisismerge')")

    _reopened_at(blank, 7)

    if db.is_sqlite():
        names = {n for (n,) in db.database.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()}
        assert "endpoint_name_text" in names
        settings = dict(db.database.execute_sql(
            "SELECT k, v FROM endpoint_text_config").fetchall())
        assert {k: int(settings[k]) for k in ("automerge", "crisismerge")} == {
            "automerge": 8, "crisismerge": 32}
    # The list sorted by name reads the same rows through the new index.
    rows = queries.page(Filter(search="a"), "name", limit=500)
    assert [r.name for r in rows] == sorted(r.name for r in rows)
    assert len(rows) == queries.count(Filter(search="a"))


def test_a_version_8_database_gets_postgresql_s_covering_and_pair_indexes(blank: str) -> None:
    db.open_database(blank)
    models.create_schema()
    admin = auth.login(user="admin")
    _fill(admin)
    if not db.is_sqlite():
        # Schema 8's sort indexes, without the covered columns, and no pair index nor
        # folded text.
        for name, column in (("endpoint_iccid_id", "iccid"), ("endpoint_name_id", "name")):
            db.database.execute_sql(f"DROP INDEX {name}")
            db.database.execute_sql(f"CREATE INDEX {name} ON endpoint ({column}, id)")
        db.database.execute_sql("ALTER TABLE endpoint DROP COLUMN folded")
        db.database.execute_sql("DROP INDEX IF EXISTS endpoint_text_pairs")

    _reopened_at(blank, 8)

    if not db.is_sqlite():
        found = _index_definitions()
        assert "INCLUDE (name, folded, state" in found["endpoint_iccid_id"]
        assert "INCLUDE (iccid, folded, state" in found["endpoint_name_id"]
        assert "simdeck_pairs" in found["endpoint_text_pairs"]
    # A two-character search reads the rows the plain query reads.
    names = [str(n) for (n,) in models.Endpoint.select(models.Endpoint.name).tuples()]
    pair = next(n[k:k + 2] for n in names for k in range(len(n) - 1) if n[k:k + 2].isalnum())
    for text in (pair, pair.swapcase(), "a"):
        rows = queries.page(Filter(search=text), "name", limit=500)
        assert rows == queries.page(Filter(search=text), "name", limit=500, plan="plain")
        assert len(rows) == queries.count(Filter(search=text))


def test_a_version_10_database_gets_postgresql_s_folded_text(blank: str) -> None:
    db.open_database(blank)
    models.create_schema()
    admin = auth.login(user="admin")
    _fill(admin)
    if not db.is_sqlite():
        # Schema 10: the sort indexes cover the reference, and there is no folded text.
        db.database.execute_sql("ALTER TABLE endpoint DROP COLUMN folded")
        for name, column, other in (("endpoint_iccid_id", "iccid", "name"),
                                    ("endpoint_name_id", "name", "iccid")):
            db.database.execute_sql(
                f"CREATE INDEX {name} ON endpoint ({column}, id) INCLUDE ({other}, reference, "
                "state, group_id, tags, last_activity)")

    _reopened_at(blank, 10)

    if not db.is_sqlite():
        found = _index_definitions()
        assert "INCLUDE (iccid, folded, state" in found["endpoint_name_id"]
        assert "INCLUDE (name, folded, state" in found["endpoint_iccid_id"]
    # The server keeps the folded text: a renamed endpoint is found by its new name, in
    # any case, and no longer by its old one; the reference is found alone by ref:.
    first = models.Endpoint.select().order_by(models.Endpoint.id).first()
    old_name = first.name
    records.edit_endpoint(admin, first.id, name="Zürich-Ölpumpe-7", reference="Ref-Quay-7")
    for text in ("zürich-öl", "ZÜRICH-ÖL", "name:RICH-ÖLP", "ölpumpe-7 ref:quay", "ay-7"):
        for sort in ("name", "iccid"):
            rows = queries.page(Filter(search=text), sort)
            assert [r.id for r in rows] == [first.id], (text, sort)
    assert queries.page(Filter(search="ref:zürich"), "name") == []
    assert queries.page(Filter(search="name:quay"), "name") == []
    assert first.id not in [r.id for r in queries.page(Filter(search=old_name), "name")]


def test_a_version_8_database_gets_the_trigram_list_and_finds_short_texts(blank: str) -> None:
    db.open_database(blank)
    models.create_schema()
    admin = auth.login(user="admin")
    _fill(admin)
    if db.is_sqlite():
        for name in ("endpoint_trigram_ai", "endpoint_trigram_au"):
            db.database.execute_sql(f"DROP TRIGGER {name}")
        db.database.execute_sql("DROP TABLE endpoint_trigram")
        for name in ("sim_endpoint_eid", "imsi_sim_imsi", "endpoint_odd_text"):
            db.database.execute_sql(f"DROP INDEX {name}")

    _reopened_at(blank, 8)

    if db.is_sqlite():
        names = {n for (n,) in db.database.execute_sql(
            "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger')").fetchall()}
        assert {"sim_endpoint_eid", "imsi_sim_imsi", "endpoint_odd_text",
                "endpoint_trigram_ai", "endpoint_trigram_au"} <= names
        listed = {t for (t,) in db.database.execute_sql(
            "SELECT term FROM endpoint_trigram").fetchall()}
        names_now = [n for (n,) in models.Endpoint.select(models.Endpoint.name).tuples()]
        assert {n[k:k + 3].lower() for n in names_now for k in range(len(n) - 2)} <= listed
    # A text of two characters finds every endpoint whose name holds it, as before.
    some = models.Endpoint.select(models.Endpoint.name).first().name
    text = some[1:3].swapcase()
    found = queries.page(Filter(search=text), "name", limit=1000)
    assert found == queries.page(Filter(search=text), "name", limit=1000, plan="plain")
    assert found and len(found) == queries.count(Filter(search=text))
