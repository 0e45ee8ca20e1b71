"""The search planner on PostgreSQL: the same properties as on SQLite
(``tests/test_search_plans.py``, whose tests run here on a PostgreSQL fleet), and each
of PostgreSQL's own ways to read a page reads the index it is meant to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import peewee as pw
import pytest

from simdeck.core import auth, db, demo, records
from simdeck.core.lifecycle import Role
from simdeck.core.models import Endpoint, EndpointTag, Imsi, Sim
from simdeck.core.queries import Filter, page, pg_plan
from tests.conftest import _drop_pg_database, _fresh_pg_database
from tests.test_search_plans import (  # noqa: F401 - collected here, on PostgreSQL
    NOW,
    ODD_NAMES,
    test_a_dense_text_search_is_estimated_from_a_sample_and_flagged,
    test_a_walk_over_its_budget_gives_way_to_the_sparse_plan_with_the_same_rows,
    test_counts_are_exact_or_flagged_estimates,
    test_every_plan_reads_the_rows_the_plain_query_reads,
    test_the_planner_walks_dense_searches_and_orders_sparse_ones,
)


@pytest.fixture(scope="module")
def fleet() -> Iterator[dict[str, list[str]]]:
    """The SQLite suite's fleet, on a fresh PostgreSQL database."""
    url = _fresh_pg_database()
    db.open_database(url)
    demo.build_demo(800, seed=3, now=NOW, operator="admin")
    actor = auth.Actor("admin", Role.ADMIN)
    for k, name in enumerate(ODD_NAMES):
        records.create_endpoint(actor, name=name, reference=f"odd-{k}", tags="odd")
    words = {
        "name": [n for (n,) in Endpoint.select(Endpoint.name).tuples() if n],
        "ref": [r for (r,) in Endpoint.select(Endpoint.reference).tuples() if r],
        "iccid": [i for (i,) in Endpoint.select(Endpoint.iccid).tuples() if i],
        "imsi": [i for (i,) in Imsi.select(Imsi.imsi).tuples()],
        "eid": [e for (e,) in Sim.select(Sim.eid).where(Sim.eid.is_null(False)).tuples()],
        "tag": sorted({t for (t,) in EndpointTag.select(EndpointTag.tag).tuples()}),
    }
    yield words
    db.database.close()
    _drop_pg_database(url)


def _plan_of(query: Any, settings: dict[str, str]) -> list[dict[str, Any]]:
    """The nodes of PostgreSQL's plan for ``query`` under ``settings``."""
    sql, params = query.sql()
    with db.database.atomic():
        for name, value in settings.items():
            db.database.execute_sql("SELECT set_config(%s, %s, true)", (name, value))
        raw = db.database.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    out, todo = [], [plan]
    while todo:
        node = todo.pop()
        out.append(node)
        todo += node.get("Plans", [])
    return out


def test_a_walk_reads_the_sort_index_in_order_and_sorts_nothing(
    fleet: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[dict[str, Any]]] = []
    run = pg_plan._run

    def spy(query: Any, settings: dict[str, str], timeout_ms: int | None) -> Any:
        seen.append(_plan_of(query, settings))
        return run(query, settings, timeout_ms)

    monkeypatch.setattr(pg_plan, "_run", spy)
    for sort, index in (("iccid", "endpoint_iccid_id"), ("name", "endpoint_name_id"),
                        ("last_activity", "endpoint_last_activity_id")):
        seen.clear()
        rows = page(Filter(search="VM-"), sort, plan="dense")
        assert len(rows) == 50 and len(seen) == 1
        kinds = [n["Node Type"] for n in seen[0]]
        assert "Sort" not in kinds and "Seq Scan" not in kinds, (sort, kinds)
        assert [n.get("Index Name") for n in seen[0] if n["Node Type"] == "Index Scan"] \
            == [index], (sort, kinds)


def test_a_walk_over_its_statement_timeout_is_stopped_and_leaves_no_setting_behind(
    fleet: dict[str, list[str]]
) -> None:
    slow = Endpoint.select(Endpoint.id).where(pw.SQL("(SELECT true FROM pg_sleep(0.3))"))
    with db.database.atomic():
        with pytest.raises(pg_plan.OverBudget):
            pg_plan.walk(slow, 0.05)
        assert db.database.execute_sql("SHOW statement_timeout").fetchone()[0] == "0"
        assert db.database.execute_sql("SHOW enable_sort").fetchone()[0] == "on"
        pg_plan.walk(Endpoint.select(Endpoint.id).limit(1), 5.0)
        assert db.database.execute_sql("SHOW statement_timeout").fetchone()[0] == "0"
        assert db.database.execute_sql("SHOW enable_seqscan").fetchone()[0] == "on"

