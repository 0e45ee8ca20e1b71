"""Keyset pages, positions and counts agree with a plain walk of the whole list."""

from __future__ import annotations

import pytest

from simdeck.core import auth, records
from simdeck.core.queries import (
    SORTS,
    Filter,
    count,
    counts_by_state,
    group_list,
    group_segments,
    hidden_marks,
    key_at,
    page,
    position,
    row,
)

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


def test_a_field_is_read_in_any_case(fleet: list[int], admin: auth.Actor) -> None:
    assert count(Filter(search="State:Idle")) == count(Filter(search="state:idle")) == 5
    some = count(Filter(search="name:unit -tag:t0"))
    assert 0 < some < count(Filter(search="name:unit"))
    assert count(Filter(search="NAME:unit -TAG:t0")) == some
    # A word that is no field stays a word, in any case.
    records.edit_endpoint(admin, fleet[0], name="Colour:Red 1")
    assert [r.id for r in page(Filter(search="colour:red"), "name")] == [fleet[0]]


def test_one_row_follows_the_filter(fleet: list[int]) -> None:
    idle = next(i for n, i in enumerate(fleet) if STATES[n % len(STATES)] == "idle")
    found = row(Filter(states=("idle",)), idle)
    assert found is not None and (found.id, found.state, found.group) == (idle, "idle", GROUP)
    assert row(Filter(states=("active",)), idle) is None
    assert row(Filter(), 10**9) is None


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", SORTS)
def test_key_at_is_the_key_of_the_row_at_that_index(
    fleet: list[int], sort: str, descending: bool
) -> None:
    f = Filter(search="-state:hold")
    walked = page(f, sort, limit=100, descending=descending)
    n = len(walked)
    segments = group_segments(f)
    for index in (0, 1, n // 2 - 1, n // 2, n // 2 + 1, n - 2, n - 1):
        expected = walked[index].key(sort)
        assert key_at(f, sort, index, n, descending=descending) == expected, index
        assert key_at(f, sort, index, n, descending=descending, segments=segments) == expected


def test_group_segments_count_each_group_in_the_order_the_list_walks(fleet: list[int]) -> None:
    segments = group_segments(Filter())
    assert [name for name, _, _ in segments] == ["", GROUP, OTHER_GROUP] == ["", *group_list()]
    assert sum(n for _, _, n in segments) == len(fleet)
    assert segments[2][2] == 0  # the other group has no endpoint
    assert segments[0][2] == count(Filter(search="group:none"))


def test_hidden_marks_counts_the_marks_the_filter_does_not_show(fleet: list[int]) -> None:
    idle = Filter(states=("idle",))
    idle_ids = [r.id for r in page(idle, limit=100)]
    active_ids = [r.id for r in page(Filter(states=("active",)), limit=100)]
    assert hidden_marks(idle, ids=idle_ids[:2] + active_ids[:3]) == 3
    assert hidden_marks(idle, ids=idle_ids) == 0
    assert hidden_marks(idle) == 0
    assert hidden_marks(idle, marked=idle) == 0
    assert hidden_marks(Filter(), marked=idle) == 0
    assert hidden_marks(idle, marked=Filter(group=GROUP)) == count(Filter(group=GROUP)) - len(
        idle_ids
    )
