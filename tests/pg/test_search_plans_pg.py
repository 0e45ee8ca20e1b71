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
from simdeck.core.queries import endpoints as planner
from simdeck.core.queries.filters import terms
from tests.conftest import _drop_pg_database, _fresh_pg_database
from tests.test_search_plans import (  # noqa: F401 - collected here, on PostgreSQL
    NOW,
    ODD_NAMES,
    test_a_dense_text_search_is_estimated_from_a_sample_and_flagged,
    test_a_negated_iccid_prefix_drives_as_the_ranges_around_it,
    test_a_walk_over_its_budget_gives_way_to_the_sparse_plan_with_the_same_rows,
    test_counts_are_exact_or_flagged_estimates,
    test_every_plan_reads_the_rows_the_plain_query_reads,
    test_every_way_after_the_budget_reads_the_rows_the_plain_query_reads,
    test_hand_picked_shapes_read_the_rows_the_plain_query_reads,
    test_tags_common_alone_but_rare_together_are_counted_as_one_condition,
    test_the_planner_walks_dense_searches_and_orders_sparse_ones,
)


@pytest.fixture(autouse=True)
def _first_walks_run_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every first walk under a 1 ms statement timeout: on this small fleet most still
    fill their page, the others go on to the second look (each way of which the
    SQLite tests force, and expect the plain query's rows from)."""
    monkeypatch.setattr(planner, "PG_FIRST_WALK", 0.0)


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
    # The ICCID and name indexes cover what the search tests and the row shows: the walk
    # reads the index alone.
    for sort, index, scan in (("iccid", "endpoint_iccid_id", "Index Only Scan"),
                              ("name", "endpoint_name_id", "Index Only Scan"),
                              ("last_activity", "endpoint_last_activity_id", "Index Scan")):
        seen.clear()
        rows = page(Filter(search="VM- -tag:pilot"), sort, plan="dense")
        assert len(rows) == 50 and len(seen) == 1
        kinds = [n["Node Type"] for n in seen[0]]
        assert "Sort" not in kinds and "Seq Scan" not in kinds, (sort, kinds)
        assert [n.get("Index Name") for n in seen[0] if n["Node Type"] == scan] \
            == [index], (sort, kinds)


def test_the_second_look_s_walk_is_read_in_parallel_in_order(
    fleet: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[dict[str, str], list[dict[str, Any]]]] = []
    run = pg_plan._run

    def spy(query: Any, settings: dict[str, str], timeout_ms: int | None) -> Any:
        seen.append((settings, _plan_of(query, settings)))
        return run(query, settings, timeout_ms)

    walk = planner._walk

    def first_runs_out(query: Any, seconds: float, *, long: bool = False) -> Any:
        if not long:
            seen.append(({}, []))
            raise planner._OverBudget
        return walk(query, seconds, long=long)

    monkeypatch.setattr(pg_plan, "_run", spy)
    # The first walk runs out; the sample says walk on: that walk is parallel.
    monkeypatch.setattr(planner, "_walk", first_runs_out)
    monkeypatch.setattr(planner, "_after_budget", lambda *a, **k: planner.WALK_ON)
    for sort in ("name", "iccid"):
        seen.clear()
        rows = page(Filter(search="VM- -tag:pilot"), sort)
        assert rows == page(Filter(search="VM- -tag:pilot"), sort, plan="plain")
        assert len(rows) == 50
        (first, _), (second, nodes) = seen[:2]
        assert second["parallel_setup_cost"] == "0"
        kinds = [n["Node Type"] for n in nodes]
        assert "Gather Merge" in kinds and "Sort" not in kinds, (sort, kinds)


def test_a_text_the_statistics_call_common_is_not_counted(
    fleet: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db.database.execute_sql("ANALYZE endpoint_text")
    counted: list[str] = []
    count_within = pg_plan.count_within

    def spy(sql: str, params: tuple[Any, ...], cap: int, seconds: float) -> int:
        counted.append(sql)
        return count_within(sql, params, cap, seconds)

    monkeypatch.setattr(pg_plan, "count_within", spy)
    common, = terms(Filter(search="VM-"))
    total = Endpoint.select().where(Endpoint.name.contains("VM-")).count()
    assert total > 2 * 200
    assert planner.probe(common, 200) == 200 and counted == []
    # A rare one is counted, exactly.
    rare_name = fleet["name"][7]
    rare, = terms(Filter(search=f"name:{rare_name}"))
    assert planner.probe(rare, 200) == Endpoint.select().where(
        Endpoint.name.contains(rare_name)).count()
    assert len(counted) == 1
    # And the page of the common one is the plain query's.
    assert page(Filter(search="VM-"), "name") == page(Filter(search="VM-"), "name", plan="plain")


def _indexes_read(search: str, sort: str, monkeypatch: pytest.MonkeyPatch
                  ) -> tuple[list[Any], set[str]]:
    """The rows of ``search``'s first page, and the indexes its statements read."""
    seen: list[list[dict[str, Any]]] = []
    run = pg_plan._run

    def spy(query: Any, settings: dict[str, str], timeout_ms: int | None) -> Any:
        seen.append(_plan_of(query, settings))
        return run(query, settings, timeout_ms)

    with monkeypatch.context() as m:
        m.setattr(pg_plan, "_run", spy)
        rows = page(Filter(search=search), sort)
    return rows, {str(n.get("Index Name")) for nodes in seen for n in nodes}


@pytest.mark.parametrize("sort", ["iccid", "name"])
def test_a_two_character_text_is_found_through_the_index_of_doubled_characters(
    fleet: dict[str, list[str]], sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "qj" is in one name and one reference only, of one endpoint.
    if not Endpoint.select().where(Endpoint.name == "Xqj-1").exists():
        records.create_endpoint(auth.Actor("admin", Role.ADMIN), name="Xqj-1",
                                reference="r-qj")
    for text in ("qj", "QJ", "name:qj", "ref:Qj", "qj -ref:r-qj"):
        rows, read = _indexes_read(text, sort, monkeypatch)
        assert rows == page(Filter(search=text), sort, plan="plain"), text
        assert "endpoint_text_pairs" in read, (text, read)
    # With a state, the server may read that state's few endpoints instead: the same rows.
    rows, read = _indexes_read("qj state:hold", sort, monkeypatch)
    assert [r.name for r in rows] == ["Xqj-1"]
    assert read & {"endpoint_text_pairs", "endpoint_state_iccid_id"}, read
    assert [r.name for r in page(Filter(search="name:qJ"), sort)] == ["Xqj-1"]
    assert page(Filter(search="qj -ref:r-qj"), sort) == []
    # Two characters that are not both letters or digits hold no trigram once doubled:
    # tested row by row, as before.
    assert terms(Filter(search="q-"))[0].driver is None
    assert pg_plan.pairs_driven("ab") and not pg_plan.pairs_driven("a") \
        and not pg_plan.pairs_driven("abc") and not pg_plan.pairs_driven("é1")


def test_a_common_pair_is_taken_as_dense_when_its_count_runs_out_of_time(
    fleet: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    (vm,) = terms(Filter(search="VM"))
    assert vm.probe_seconds is not None
    assert planner.probe(vm, 100) == 100
    assert pg_plan.count_within("SELECT 1 FROM pg_sleep(0.2)", (), 10, 0.02) == 10
    assert pg_plan.count_within("SELECT 1 FROM endpoint WHERE id < 4", (), 10, 5.0) == 3
    assert db.database.execute_sql("SHOW statement_timeout").fetchone()[0] == "0"
    assert planner.choose_plan([vm], 50).kind == "dense"


@pytest.mark.parametrize("field", ["eid", "imsi"])
def test_a_prefix_less_a_negated_one_drives_on_the_ranges_left(
    fleet: dict[str, list[str]], field: str
) -> None:
    values = fleet[field]
    common = max({v[:6] for v in values}, key=lambda p: sum(v.startswith(p) for v in values))
    search = f"{field}:{common[:1]} -{field}:{common}"
    found = terms(Filter(search=search))
    left = sum(1 for v in values if v.startswith(common[:1]) and not v.startswith(common))
    assert found[0].driver is not None
    # The probe counts the identifiers outside the negated prefix, not every one.
    assert planner.probe(found[0], 10_000) == left < len(values)
    for sort in ("iccid", "name"):
        for plan in ("auto", "sparse", "dense"):
            assert page(Filter(search=search), sort, plan=plan) \
                == page(Filter(search=search), sort, plan="plain"), (sort, plan)


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



def test_a_walk_with_no_finite_budget_reads_its_rows(fleet: dict[str, list[str]]) -> None:
    """A walk resumed with the sample's estimate of ``inf`` runs to its page, as on SQLite."""
    query = Endpoint.select(Endpoint.id).order_by(Endpoint.id).limit(3)
    assert [r[0] for r in pg_plan.walk(query, float("inf"))] == [
        r.id for r in Endpoint.select(Endpoint.id).order_by(Endpoint.id).limit(3)]
