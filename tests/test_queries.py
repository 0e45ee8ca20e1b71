"""Keyset pages, positions and counts agree with a plain walk of the whole list."""

from __future__ import annotations

import pytest

from simdeck.core import auth, records
from simdeck.core.queries import SORTS, Filter, count, counts_by_state, page, position, row

from .conftest import GROUP, OTHER_GROUP, Maker

STATES = ["hold", "pending", "pre-active", "active", "idle", "detached", "suspended",
          "terminated"]


@pytest.fixture
def fleet(make: Maker, admin: auth.Actor) -> list[int]:
    make.group(GROUP)
    make.group(OTHER_GROUP)
    ids = [make.endpoint(STATES[i % len(STATES)]) for i in range(40)]
    live = [eid for i, eid in enumerate(ids) if STATES[i % len(STATES)] != "terminated"]
    for n, eid in enumerate(live[::3]):
        records.edit_endpoint(admin, eid, name=f"unit {n % 4}", add_tags=[f"t{n % 2}"])
    return ids


def _walk(f: Filter, sort: str, descending: bool, size: int) -> list[int]:
    rows, out = page(f, sort, limit=size, descending=descending), []
    while rows:
        out += [r.id for r in rows]
        rows = page(f, sort, after=rows[-1].key(sort), limit=size, descending=descending)
    return out


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", SORTS)
def test_pages_positions_and_the_last_page_agree(
    fleet: list[int], sort: str, descending: bool
) -> None:
    f = Filter()
    walked = _walk(f, sort, descending, 7)
    assert sorted(walked) == sorted(fleet)  # every row once, none twice
    rows = {r.id: r for r in page(f, sort, limit=100, descending=descending)}
    assert [r for r in rows] == walked
    for i, eid in enumerate(walked):
        assert position(f, sort, rows[eid].key(sort), descending=descending) == i, (sort, i)
    last = page(f, sort, last=True, limit=5, descending=descending)
    assert [r.id for r in last] == walked[-5:]
    back = page(f, sort, before=rows[walked[10]].key(sort), limit=4, descending=descending)
    assert [r.id for r in back] == walked[6:10]


def test_counts_follow_the_filter(fleet: list[int]) -> None:
    by_state = counts_by_state(Filter(group=GROUP))
    assert sum(by_state.values()) == count(Filter(group=GROUP))
    assert counts_by_state(Filter(states=("idle",)))["idle"] == 5
    assert count(Filter(search="unit -state:idle")) + count(Filter(search="unit state:idle")) \
        == count(Filter(search="unit"))
    assert count(Filter(tag="t0")) + count(Filter(tag="t1")) == len(range(0, 35, 3))


def test_one_row_follows_the_filter(fleet: list[int]) -> None:
    idle = next(i for n, i in enumerate(fleet) if STATES[n % len(STATES)] == "idle")
    found = row(Filter(states=("idle",)), idle)
    assert found is not None and (found.id, found.state, found.group) == (idle, "idle", GROUP)
    assert row(Filter(states=("active",)), idle) is None
    assert row(Filter(), 10**9) is None
