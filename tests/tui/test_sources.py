"""The endpoint source agrees with core.queries: same keys, same order, same rows."""

from __future__ import annotations

import pytest

from simdeck.core import db, queries
from simdeck.core.queries import SORT_COLUMNS, Filter
from simdeck.tui.sources import EndpointSource, check_search
from simdeck.tui.widgets.endpoint_rows import SORTS
from tests.tui import fleet


@pytest.fixture
def big(big_db: str) -> str:
    db.open_database(big_db)
    return big_db


def every_row(f: Filter, sort: str, descending: bool) -> list[queries.Row]:
    return queries.page(f, sort, limit=100_000, descending=descending)


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("descending", [False, True])
def test_key_at_finds_the_row_at_any_index(big: str, sort: str, descending: bool) -> None:
    f = Filter()
    rows = every_row(f, sort, descending)
    source = EndpointSource(f, sort, descending)
    count = source.count()
    assert count == len(rows) == 3030
    for index in (0, 1, 777, 1514, 1515, 2500, count - 1):
        assert source.key_at(index, count) == rows[index].key(sort), index
    for index in (0, 5, 17, 29, 31, 2000, count - 1):
        assert source.position(rows[index].key(sort)) == index, index


def test_sort_columns_match_core_row_keys(big: str) -> None:
    rows = queries.page(Filter(), "iccid", limit=5)
    for sort, columns in SORT_COLUMNS.items():
        assert len(rows[0].key(sort)) == len(columns), sort


def test_fetch_follows_the_filter(big: str) -> None:
    idle = EndpointSource(Filter(states=("idle",)), "name")
    first = idle.first(3)
    assert [r.state for r in first] == ["idle"] * 3
    assert idle.fetch(first[0].id) == first[0]
    active = queries.page(Filter(states=("active",)), "iccid", limit=1)[0]
    assert idle.fetch(active.id) is None


def test_count_brings_the_counts_per_state(big: str) -> None:
    source = EndpointSource(Filter(search="tag:reefer"))
    assert source.count() == 6
    assert source.state_counts is not None
    assert sum(source.state_counts.values()) == 6


def test_check_search_explains_a_bad_state_and_an_unknown_field() -> None:
    error, warning = check_search(Filter(search="state:bogus"))
    assert error is not None and "bogus" in error and "is not a state" in error
    error, warning = check_search(Filter(search="colour:red"))
    assert error is None and warning is not None and "colour:" in warning
    assert check_search(Filter(search="state:idle -tag:eu berlin")) == (None, None)
    assert check_search(Filter(search="State:idle Name:berlin")) == (None, None)


def test_fleet_is_what_the_tests_expect(fleet_db: str) -> None:
    db.open_database(fleet_db)
    counts = queries.counts_by_state(Filter())
    assert sum(counts.values()) == len(fleet.FLEET)
    assert all(n > 0 for n in counts.values())
