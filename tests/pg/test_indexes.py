"""Every keyset sort's first page, both ways, is read from an index on PostgreSQL: no
sort node over the table, on a demo fleet large enough that the planner has a choice."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from simdeck.core import db, queries
from simdeck.core.demo import build_demo
from simdeck.core.models import Endpoint
from simdeck.core.queries import Filter, page, pg_plan
from simdeck.core.queries import endpoints as planner
from simdeck.core.queries.filters import terms
from tests.conftest import _drop_pg_database, _fresh_pg_database

FLEET = 20_000


@pytest.fixture(scope="module")
def fleet() -> Iterator[str]:
    url = _fresh_pg_database()
    db.open_database(url)
    build_demo(FLEET, seed=3, now=dt.datetime(2026, 5, 1), operator="admin")
    db.database.close()
    yield url
    _drop_pg_database(url)


class _Statements(logging.Handler):
    """The SQL peewee sends, with its parameters."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sent: list[tuple[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.sent.append(record.msg)


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _page_queries(sort: str, descending: bool) -> list[tuple[str, Any]]:
    log = logging.getLogger("peewee")
    handler = _Statements()
    log.addHandler(handler)
    level = log.level
    log.setLevel(logging.DEBUG)
    try:
        rows = queries.page(queries.Filter(), sort, descending=descending)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    assert len(rows) == queries.PAGE
    return [(sql, params) for sql, params in handler.sent
            if 'FROM "endpoint"' in sql and "ORDER BY" in sql]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", queries.SORTS)
def test_each_sorts_first_page_reads_an_index_and_sorts_nothing(
    fleet: str, sort: str, descending: bool
) -> None:
    db.open_database(fleet)
    try:
        sent = _page_queries(sort, descending)
        assert sent
        for sql, params in sent:
            cursor = db.database.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params)
            raw = cursor.fetchone()[0]
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            nodes = list(_plan_nodes(plan))
            kinds = [n["Node Type"] for n in nodes]
            assert "Sort" not in kinds and "Incremental Sort" not in kinds, (sort, kinds)
            assert "Seq Scan" not in kinds, (sort, kinds)
            scans = [n for n in nodes if n["Node Type"] in ("Index Scan", "Index Only Scan")]
            assert [n["Relation Name"] for n in scans] == ["endpoint"], (sort, kinds)
    finally:
        db.database.close()


def _plan_of(query: Any, settings: dict[str, str]) -> list[dict[str, Any]]:
    """The nodes of PostgreSQL's plan for ``query`` under ``settings``."""
    sql, params = query.sql()
    with db.database.atomic():
        for name, value in settings.items():
            db.database.execute_sql("SELECT set_config(%s, %s, true)", (name, value))
        raw = db.database.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return list(_plan_nodes(plan))


def test_a_sparse_search_is_read_through_the_trigram_index_and_sorted(
    fleet: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.open_database(fleet)
    rare = str(Endpoint.get_by_id(1717).name)
    chosen = planner.choose_plan(terms(Filter(search=rare)), 50)
    assert chosen.kind == "sparse"
    seen: list[list[dict[str, Any]]] = []
    run = pg_plan._run

    def spy(query: Any, settings: dict[str, str], timeout_ms: int | None) -> Any:
        seen.append(_plan_of(query, settings))
        return run(query, settings, timeout_ms)

    monkeypatch.setattr(pg_plan, "_run", spy)
    rows = page(Filter(search=rare), "name")
    assert rows and all(rare.lower() in r.name.lower() for r in rows)
    names = {n.get("Index Name") for n in seen[0]}
    assert "endpoint_text_name_trgm" in names, names
    assert "endpoint_name_id" not in names
    db.database.close()
