"""What a bulk action writes on PostgreSQL: the endpoint's rows and the indexes a query
needs, never the trigram indexes (they are on ``endpoint_text``, kept by triggers only
when a name or a reference changes), and the search still finds every change."""

from __future__ import annotations

import datetime as dt

import pytest

from simdeck.core import actions, auth, db, records
from simdeck.core.actions import Targets
from simdeck.core.lifecycle import Role
from simdeck.core.models import Endpoint
from simdeck.core.queries import Filter, count, page

ADMIN = auth.Actor("admin", Role.SUPPORT)


@pytest.fixture
def url(store: str) -> str:
    """A fresh, empty PostgreSQL database (this lane's ``store``)."""
    return store


def _text_rows() -> dict[int, tuple[str, str]]:
    cursor = db.database.execute_sql("SELECT id, name, reference FROM endpoint_text")
    return {int(i): (str(n), str(r)) for i, n, r in cursor.fetchall()}


def _endpoint_indexes() -> set[str]:
    cursor = db.database.execute_sql(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'endpoint'::regclass")
    return {str(name) for (name,) in cursor.fetchall()}


def test_endpoint_carries_no_index_that_no_query_reads(url: str) -> None:
    names = _endpoint_indexes()
    assert not names & {"endpoint_name_trgm", "endpoint_reference_trgm", "endpoint_group_id",
                        "endpoint_reference", "endpoint_terminated_at"}, names
    assert {"endpoint_iccid_id", "endpoint_name_id", "endpoint_state_iccid_id",
            "endpoint_group_state", "endpoint_terminated"} <= names


def test_the_text_table_follows_every_change_and_a_bulk_action_leaves_it_alone(
    url: str
) -> None:
    made = [records.create_endpoint(ADMIN, name=f"Tractor {k:03d}", reference=f"farm-{k}")
            for k in range(30)]
    ids = [int(e.id) for e in made]
    assert _text_rows() == {i: (f"Tractor {k:03d}", f"farm-{k}") for k, i in enumerate(ids)}
    assert count(Filter(search='"tractor 01"')) == 10

    records.edit_endpoint(ADMIN, ids[3], name="Harvester 1")
    assert _text_rows()[ids[3]] == ("Harvester 1", "farm-3")
    assert [r.id for r in page(Filter(search="harvester"), "name")] == [ids[3]]
    assert count(Filter(search='"tractor 003"')) == 0

    db.database.execute_sql("SELECT pg_stat_clear_snapshot()")
    before = db.database.execute_sql(
        "SELECT n_tup_upd + n_tup_ins + n_tup_del FROM pg_stat_xact_user_tables "
        "WHERE relname = 'endpoint_text'").fetchone()
    with db.database.atomic():
        result = actions.run(ADMIN, "terminate", Targets(ids=tuple(ids)))
        after = db.database.execute_sql(
            "SELECT n_tup_upd + n_tup_ins + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE relname = 'endpoint_text'").fetchone()
    assert result.applied == 30
    assert after == before  # 30 endpoints changed, not one row of the text table

    Endpoint.update(terminated_at=dt.datetime(2000, 1, 1)).execute()
    purged = actions.run(ADMIN, "purge", actions.purge_targets())
    assert purged.applied == 30
    assert _text_rows() == {}
    assert count(Filter(search="farm")) == 0
