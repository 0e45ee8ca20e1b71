"""The search planner: whichever way a page is read (walking the sort index and testing
each row, or ordering one condition's matches), it holds exactly the rows the plain query
finds, in the same order; counts are exact, or estimated and flagged as such."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simdeck.core import auth, db, demo, records
from simdeck.core.lifecycle import Role
from simdeck.core.models import Endpoint, EndpointTag, Imsi, Sim
from simdeck.core.queries import (
    SORTS,
    Filter,
    count,
    counts_by_state,
    counts_by_state_estimate,
    page,
)
from simdeck.core.queries import endpoints as planner
from simdeck.core.queries.filters import terms
from tests.benchmarks.search_rows import random_search

NOW = dt.datetime(2025, 11, 21, 4, 40)
#: Names only a hand would type: letters LIKE does not fold, quotes, wildcards.
ODD_NAMES = ("Élan-Ünit café", "50%_off*", 'say "hi"', "ÉLAN-ünit", "ab", "x")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[str]]]:
    """A demo fleet of 800 and a few odd names; the words it holds, by kind."""
    path = Path(tmp_path_factory.mktemp("plans")) / "plans.db"
    db.open_database(str(path))
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


def plain(f: Filter, sort: str, **kw: object) -> list[planner.Row]:
    return page(f, sort, plan="plain", **kw)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), sort=st.sampled_from(SORTS), descending=st.booleans(),
       limit=st.sampled_from([1, 7, 50]))
def test_every_plan_reads_the_rows_the_plain_query_reads(
    fleet: dict[str, list[str]], seed: int, sort: str, descending: bool, limit: int
) -> None:
    rng = random.Random(seed)
    f = Filter(search=random_search(rng, fleet))
    want = plain(f, sort, limit=limit, descending=descending)
    for plan in ("dense", "sparse", "auto"):
        got = page(f, sort, limit=limit, descending=descending, plan=plan)
        assert got == want, (f.search, sort, plan)
    if want:
        # The page after a key, the page before it, and the last page.
        key = want[-1].key(sort)
        for plan in ("dense", "sparse", "auto"):
            for kw in ({"after": key}, {"before": key}, {"last": True}):
                got = page(f, sort, limit=limit, descending=descending, plan=plan, **kw)
                assert got == plain(f, sort, limit=limit, descending=descending, **kw), (
                    f.search, sort, plan, kw)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32))
def test_a_walk_over_its_budget_gives_way_to_the_sparse_plan_with_the_same_rows(
    fleet: dict[str, list[str]], seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    f = Filter(search=random_search(rng, fleet))
    want = plain(f, "name", limit=20)
    with monkeypatch.context() as m:
        # Every probe says dense, and every walk runs out of time at once; the second
        # look then walks on, or orders a driver's matches.
        m.setattr(planner, "crossover", lambda limit, n: 1)
        m.setattr(planner, "FIRST_WALK", 0.0)
        m.setattr(planner, "WALK_SECONDS", 0.0)
        m.setattr(planner, "STEP_CHECK", 1)
        assert page(f, "name", limit=20) == want, f.search
        m.setattr(planner, "SPARSE_PER_MATCH", 1e6)
        assert page(f, "name", limit=20) == want, f.search


#: Every way the second look can go on after a walk ran out of time.
SECOND_LOOKS = (planner.SCAN, planner.TEXT_SCAN, planner.WALK_ON, planner.WALK_END, 0, 1, 2)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), sort=st.sampled_from([s for s in SORTS if s != "group"]),
       descending=st.booleans(), second=st.sampled_from(SECOND_LOOKS),
       where=st.sampled_from(["first", "after", "before", "last"]))
def test_every_way_after_the_budget_reads_the_rows_the_plain_query_reads(
    fleet: dict[str, list[str]], seed: int, sort: str, descending: bool, second: int,
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    f = Filter(search=random_search(rng, fleet))
    first = plain(f, sort, limit=7, descending=descending)
    kw: dict[str, object] = {}
    if where in ("after", "before"):
        if not first:
            return
        kw = {where: first[-1].key(sort)}
    elif where == "last":
        kw = {"last": True}
    want = plain(f, sort, limit=7, descending=descending, **kw)
    drivers = [i for i, t in enumerate(terms(f)) if t.driver is not None]

    def forced(found: list[object], *args: object, **kwargs: object) -> int:
        if second >= 0:
            usable = [i for i, t in enumerate(found)  # type: ignore[attr-defined]
                      if t.driver is not None and t.probe is not None]
            return usable[second % len(usable)] if usable else planner.SCAN
        if second == planner.WALK_ON and kwargs.get("walk_on") is False:
            return planner.WALK_END  # a walk that ran out again is not resumed
        return second

    with monkeypatch.context() as m:
        m.setattr(planner, "crossover", lambda limit, n: 1)
        m.setattr(planner, "FIRST_WALK", 0.0)
        m.setattr(planner, "WALK_SECONDS", 0.0)
        m.setattr(planner, "STEP_CHECK", 1)
        m.setattr(planner, "_after_budget", forced)
        got = page(f, sort, limit=7, descending=descending, **kw)  # type: ignore[arg-type]
    assert got == want, (f.search, sort, second, where, drivers)


@pytest.mark.parametrize("search", [
    "tag:model:id4 tag:model:e-tron", "tag:model:id4 -tag:pilot", "-894 eid:8",
    "-iccid:8944 state:hold", "8944 tag:model:id4", "894450030 -zz", "-8", "-tag:x tag:y",
    # Texts of one or two characters: through the trigram list, or nothing to find.
    "x", "X", "ab", "AB", "zz", "-zz", "qj", "f 89", "e state:idle", "name:x", "ref:-1",
    "%", "_", '"', "é", "É", "8", "89", "-x", "pt -state:active", "ü", "a b",
    # EID tokens together: one range of the EID index, or none.
    "eid:8 -eid:89049", "eid:89 -eid:8", "-eid:8 eid:8904 -eid:89049", "eid:8904 eid:89",
    "eid:8904 eid:8905", "tag:pilot -eid:8904903200 eid:8", "-eid:89 -eid:8",
])
@pytest.mark.parametrize("sort", ["iccid", "name", "id"])
def test_hand_picked_shapes_read_the_rows_the_plain_query_reads(
    fleet: dict[str, list[str]], search: str, sort: str
) -> None:
    f = Filter(search=search)
    for descending in (False, True):
        want = plain(f, sort, limit=30, descending=descending)
        assert page(f, sort, limit=30, descending=descending) == want
        assert len(want) == min(30, count(f))


def test_tags_common_alone_but_rare_together_are_counted_as_one_condition(
    fleet: dict[str, list[str]]
) -> None:
    found = planner._tag_sets(terms(Filter(search="tag:model:id4 tag:model:e-tron state:idle")))
    assert len(found) == 2 and found[0].tag is None and found[0].driver is not None
    assert planner.probe(found[0], 1000) == 0
    chosen = planner.choose_plan(found, 50)
    assert chosen.kind == "sparse" and chosen.driver == 0


def test_a_negated_iccid_prefix_drives_as_the_ranges_around_it(
    fleet: dict[str, list[str]]
) -> None:
    (negated,) = terms(Filter(search="-8944"))
    assert negated.driver is not None and negated.probe is not None
    # Only the endpoints without a SIM (ICCID '') fall outside the demo's prefix.
    without_sim = Endpoint.select().where(Endpoint.iccid == "").count()
    assert planner.probe(negated, 10_000) == without_sim > 0
    # Beside a condition that needs a SIM, the empty ICCID is left out too.
    with_eid = terms(Filter(search="-8944 eid:8"))
    assert planner.probe(with_eid[0], 10_000) == 0
    assert planner.choose_plan(with_eid, 50).kind == "sparse"


def test_the_planner_walks_dense_searches_and_orders_sparse_ones(
    fleet: dict[str, list[str]]
) -> None:
    common, rare = "VM-", fleet["name"][17]
    dense = planner.choose_plan(terms(Filter(search=common)), 50)
    sparse = planner.choose_plan(terms(Filter(search=rare)), 50)
    assert dense.kind == "dense" and sparse.kind == "sparse"
    assert dict(sparse.matches)[0] < sparse.crossover <= dict(dense.matches)[0]
    both = planner.choose_plan(terms(Filter(search=f"{common} {rare}")), 50)
    assert both.kind == "sparse" and both.driver == 1


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32))
def test_counts_are_exact_or_flagged_estimates(
    fleet: dict[str, list[str]], seed: int
) -> None:
    rng = random.Random(seed)
    f = Filter(search=random_search(rng, fleet))
    exact = counts_by_state(f)
    assert sum(exact.values()) == count(f) == len(plain(f, "id", limit=10_000))
    first = counts_by_state_estimate(f)
    if not first.approximate:
        assert first.counts == exact


def test_a_dense_text_search_is_estimated_from_a_sample_and_flagged(
    fleet: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    f = Filter(search="VM-EU")
    exact = counts_by_state(f)
    assert counts_by_state_estimate(f).approximate is False  # 800 endpoints: cheap
    monkeypatch.setattr(planner, "EXACT_UNDER", 10)
    monkeypatch.setattr(planner, "SAMPLE", 400)
    first = counts_by_state_estimate(f)
    assert first.approximate
    assert first.counts != exact or first.total == sum(exact.values())
    assert abs(first.total - sum(exact.values())) <= 0.25 * sum(exact.values())
    # Conditions the state and group indexes count are never estimated.
    assert not counts_by_state_estimate(Filter(search="state:idle -state:active")).approximate


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), sort=st.sampled_from(["iccid", "name", "id"]),
       negated=st.booleans(), field=st.sampled_from(["", "", "name:", "ref:"]),
       other=st.sampled_from(["", "state:idle", "-state:active", "tag:pilot", "eid:8"]))
def test_texts_of_one_or_two_characters_read_the_rows_the_plain_query_reads(
    fleet: dict[str, list[str]], seed: int, sort: str, negated: bool, field: str, other: str
) -> None:
    rng = random.Random(seed)
    word = rng.choice(fleet["name"] + fleet["ref"] + list(ODD_NAMES))
    size = rng.randint(1, min(2, len(word)))
    start = rng.randint(0, len(word) - size)
    text = word[start:start + size]
    if rng.random() < 0.3:
        text = text.swapcase()
    token = f'"{text}"' if " " in text else text
    f = Filter(search=" ".join(t for t in (("-" if negated else "") + field + token, other) if t))
    want = plain(f, sort, limit=40)
    for plan in ("dense", "sparse", "auto"):
        assert page(f, sort, limit=40, plan=plan) == want, (f.search, sort, plan)
    assert counts_by_state(f) == counts_by_state(f) and sum(
        counts_by_state(f).values()) == len(plain(f, "id", limit=10_000))


def test_a_short_text_is_found_in_names_written_after_the_build_and_in_odd_lengths(
    fleet: dict[str, list[str]]
) -> None:
    actor = auth.Actor("admin", Role.ADMIN)
    assert page(Filter(search="qj"), "name") == []
    records.create_endpoint(actor, name="", reference="", tags="odd")
    chosen = planner.choose_plan(terms(Filter(search="qj")), 50)
    # Only the endpoints whose texts have no trigram ("ab", "x") are candidates; an empty
    # name or reference holds nothing.
    assert chosen.kind == "sparse" and dict(chosen.matches)[0] == 2
    made = records.create_endpoint(actor, name="Unit-QJ7", reference="r-short", tags="odd")
    shortest = records.create_endpoint(actor, name="k", reference="", tags="odd")
    three = records.create_endpoint(actor, name="Qzv", reference="jx-", tags="odd")
    # Renamed: its new trigrams are listed by the trigger on a text edit.
    renamed = Endpoint.get(Endpoint.name == ODD_NAMES[0])
    Endpoint.update(name="Élan-wy").where(Endpoint.id == renamed.id).execute()
    # Longer than any name the console accepts: past the trigram list's reach.
    long_id = Endpoint.get(Endpoint.name == ODD_NAMES[1]).id
    Endpoint.update(reference="-" * 300 + "vq").where(Endpoint.id == long_id).execute()
    for search, wanted in (("qj", made.id), ("QJ", made.id), ("k", shortest.id),
                           ("wy", renamed.id), ("ref:VQ", long_id), ("ZV", three.id),
                           ("x-", three.id)):
        f = Filter(search=search)
        for plan in ("sparse", "auto", "dense"):
            assert wanted in {r.id for r in page(f, "id", limit=1000, plan=plan)}, search
            assert page(f, "name", plan=plan) == plain(f, "name"), (search, plan)
