"""The endpoint list: keyset pages, counts per state, positions and keys for the scrollbar.

Pages are fetched by key (``WHERE (sort, id) > (…) LIMIT n``), never by a deep
OFFSET. The one offset is ``key_at``: a scrollbar dragged into the middle of a million
rows needs the key of row *n*, read with ``LIMIT 1 OFFSET k`` over the sort columns'
index alone, from whichever end is nearer; the list pages by key from there.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import peewee as pw

from ..db import bound, database, is_sqlite
from ..errors import ValidationError
from ..lifecycle import STATES, State
from ..models import Endpoint, Sim
from . import pg_plan
from .filters import (
    NOTHING,
    Filter,
    Term,
    _where,
    all_of,
    any_of,
    endpoint_ids,
    in_spans,
    prefix_spans,
    sim_endpoints,
    target_condition,
    terms,
    tokenize,
)
from .groups import group_names

PAGE = 50

SORTS = ("iccid", "name", "state", "group", "tags", "last_activity", "id")

#: Keyset columns for each sort; the index behind each is named in models.INDEXES.
SORT_COLUMNS: dict[str, tuple[pw.Field, ...]] = {
    "iccid": (Endpoint.iccid, Endpoint.id),
    "name": (Endpoint.name, Endpoint.id),
    "state": (Endpoint.state, Endpoint.iccid, Endpoint.id),
    "tags": (Endpoint.tags, Endpoint.id),
    "last_activity": (Endpoint.last_activity, Endpoint.id),
    "id": (Endpoint.id,),
}


Key = tuple[Any, ...]


@dataclass(frozen=True)
class Row:
    """One line of the endpoint list: only the columns shown."""

    id: int
    iccid: str
    name: str
    state: str
    group: str
    tags: str
    last_activity: int

    def key(self, sort: str) -> Key:
        """This row's position in the order ``sort``."""
        if sort == "group":
            return (self.group, self.id)
        values = {"iccid": self.iccid, "name": self.name, "state": self.state,
                  "tags": self.tags, "last_activity": self.last_activity, "id": self.id}
        cols = SORT_COLUMNS[sort]
        return tuple(values[c.name] for c in cols)

_ROW_COLUMNS = (
    Endpoint.id,
    Endpoint.iccid,
    Endpoint.name,
    Endpoint.state,
    Endpoint.group,
    Endpoint.tags,
    Endpoint.last_activity,
)


def _rows(tuples: Iterable[tuple[Any, ...]], groups: dict[int, str]) -> list[Row]:
    return [
        Row(i, iccid, name, state, groups.get(gid, "") if gid else "", tags, last)
        for i, iccid, name, state, gid, tags, last in tuples
    ]


def page(
    f: Filter,
    sort: str = "iccid",
    *,
    after: Key | None = None,
    before: Key | None = None,
    limit: int = PAGE,
    descending: bool = False,
    last: bool = False,
    plan: str = "auto",
) -> list[Row]:
    """Rows in ``sort`` order: the first page, the page after/before a key, or the last page.

    ``plan`` is for tests and the benchmark: ``auto`` lets the planner choose (see
    ``choose_plan``); ``dense``, ``sparse`` and ``plain`` force one way.
    """
    if sort not in SORTS:
        raise ValidationError("sort", sort, f"is not a column; use one of {', '.join(SORTS)}")
    if plan not in PLANS:
        raise ValidationError("plan", plan, f"is not a plan; use one of {', '.join(PLANS)}")
    backwards = before is not None or last
    groups = group_names()
    bound_key = before if backwards else after
    reverse = descending != backwards
    if sort == "group":
        rows = _group_page(f, bound_key, limit, reverse, groups)
    else:
        rows = _planned_page(f, sort, bound_key, limit, reverse, groups, plan)
    if backwards:
        rows.reverse()
    return rows


# --- the planner -------------------------------------------------------------------------

#: ``auto``: the planner chooses; the others force one way (tests, the benchmark).
PLANS = ("auto", "dense", "sparse", "plain")

#: The index a dense walk goes through for each sort (``id`` walks the table itself).
SORT_INDEX = {
    "iccid": "endpoint_iccid",
    "name": "endpoint_name",
    "state": "endpoint_state",
    "tags": "endpoint_tags",
    "last_activity": "endpoint_last_activity",
}

#: The covering name index (name, id, reference, tags; SQLite schema 7): a walk in name
#: order, or a scan of every name, tests text and tag conditions on it alone.
TEXT_INDEX = "endpoint_name_text"
SORT_INDEX["name"] = TEXT_INDEX

#: A dense walk that has not filled its page after FIRST_WALK stops, and the planner
#: looks again (``_after_budget``): its matches are rarer, or further along, than it
#: thought. A walk the second look resumes stops after WALK_SECONDS.
FIRST_WALK = 0.008
#: PostgreSQL's first walk (a statement timeout: planning and the round trip count too).
PG_FIRST_WALK = 0.012
WALK_SECONDS = 0.05
#: How often (in SQLite virtual machine steps) the walk looks at the clock.
STEP_CHECK = 2000
#: What one match costs the sparse plan (read, tested, ordered), and one entry of the
#: covering name index a text scan reads and tests, as shares of what testing one row of
#: the sample cost (the machine's speed now).
SPARSE_PER_MATCH = 1.0
TEXT_SCAN_PER_ROW = 0.12
#: Rows of the sample the second look tests, in runs of ids spread over the table.
DENSITY_SAMPLE = 1_600
#: PostgreSQL: an entry the second look's walk passes (an index-only scan of a covering
#: sort index, in parallel), a row a scan of the table passes (in parallel too), and one
#: match of a driver (read through its index, fetched, sorted), as shares of what testing
#: a row of the sample cost (one statement of 1,600 rows read by id, whose row reads,
#: round trip and planning dominate). Measured on the 1M demo (schema 11, text tests on
#: the folded column): the sample 1.5–2.5 µs a row for text and tag tests, a walk
#: 0.13 µs an entry (0.2 µs in one process), a scan 0.12 µs a row, a match 2–2.4 µs.
PG_WALK_SHARE = 0.06
PG_SCAN_SHARE = 0.05
PG_MATCH_SHARE = 1.0
#: PostgreSQL: the second look's walk may take this many times the time it was priced at
#: (the same walk took 85–95 ms alone, 140–210 ms between the benchmark's other searches).
PG_WALK_ON_TIMES = 3.0


@dataclass(frozen=True)
class Plan:
    """How a page is read: ``dense`` walks the sort index testing each row, ``sparse``
    takes one condition's matches from its index and orders them, ``plain`` lets the
    database choose; ``driver`` is the condition the sparse plan starts from;
    ``matches`` the capped probe counts (term index → count) the choice was made on."""

    kind: str
    driver: int | None = None
    crossover: int = 0
    matches: tuple[tuple[int, int], ...] = ()


def table_size() -> int:
    """About how many endpoints there are (the highest id: one index step)."""
    return int(Endpoint.select(pw.fn.MAX(Endpoint.id)).scalar() or 0)


#: PostgreSQL: a text whose matches the server's statistics put at this many times the
#: cap or more is taken as dense without counting them (counting a common trigram's rows
#: costs the whole of them: 8–10 ms, the probe's limit, for `VM-EU`).
DENSE_ESTIMATE = 2.0


def probe(term: Term, cap: int) -> int:
    """How many matches ``term``'s index has, counted up to ``cap`` (cost grows with the
    smaller of the two)."""
    assert term.probe is not None
    sql, params = term.probe
    if term.probe_seconds is not None and not is_sqlite():
        if pg_plan.estimate(sql, params) >= DENSE_ESTIMATE * cap:
            return cap
        return pg_plan.count_within(sql, params, cap, term.probe_seconds)
    cursor = database.execute_sql(f"SELECT count(*) FROM ({sql} LIMIT {int(cap)}) AS probe",
                                  params)
    return int(cursor.fetchone()[0])


def crossover(limit: int, n: int) -> int:
    """The matches at which walking the sort order costs as much as ordering the matches:
    a walk passes about ``limit × n / matches`` rows, ordering costs ``matches``; they meet
    at √(limit × n), which bounds the worst case of either."""
    return max(limit, int(math.sqrt(max(1, limit) * max(1, n))))


def choose_plan(found: list[Term], limit: int, *, forced: str = "auto") -> Plan:
    """The plan for a page of ``limit`` rows of the conditions ``found``."""
    if not found or forced == "plain":
        return Plan("plain")
    drivers = [i for i, t in enumerate(found) if t.driver is not None and t.probe is not None]
    if forced == "dense" or (forced == "auto" and not drivers):
        return Plan("dense" if drivers or forced == "dense" else "filtered")
    cross = crossover(limit, table_size())
    if forced == "sparse":
        return Plan("sparse", drivers[0], cross) if drivers else Plan("filtered")
    counts = tuple((i, probe(found[i], cross)) for i in drivers)
    best, fewest = min(counts, key=lambda c: c[1])
    if fewest < cross:
        return Plan("sparse", best, cross, counts)
    return Plan("dense", best, cross, counts)


def _indexed_by(query: pw.Select, sort: str, f: Filter) -> pw.Select:
    if not is_sqlite():
        return query  # PostgreSQL is told by its settings (pg_plan.walk)
    index = SORT_INDEX.get(sort)
    if sort == "iccid" and _one_state(f):
        # (state, iccid): the ICCID order of that state alone.
        index = SORT_INDEX["state"]
    hint = f"INDEXED BY {index}" if index else "NOT INDEXED"
    return query.from_(pw.NodeList((Endpoint, pw.SQL(hint))))


def _one_state(f: Filter) -> bool:
    """True when ``f`` keeps a single state (the filter bar's, or one ``state:`` token)."""
    if len(f.states) == 1:
        return True
    return any(t.field == "state" and not t.negated for t in tokenize(f.search))


class _OverBudget(Exception):
    pass


def _walk(query: pw.Select, seconds: float, *, long: bool = False) -> list[tuple[Any, ...]]:
    """Run a dense walk, stopped with ``_OverBudget`` once it has taken ``seconds``
    (``long``: the second look's, which PostgreSQL walks in parallel)."""
    if not is_sqlite():
        return pg_plan.walk(query, seconds, _OverBudget, parallel=long)
    conn = database.connection()
    deadline = time.perf_counter() + seconds
    over = [False]

    def check() -> int:
        if time.perf_counter() > deadline:
            over[0] = True
            return 1
        return 0

    conn.set_progress_handler(check, STEP_CHECK)
    try:
        return list(query.tuples())
    except (pw.OperationalError, sqlite3.OperationalError) as exc:
        if over[0] and "interrupt" in str(exc).lower():
            raise _OverBudget from None
        raise
    finally:
        conn.set_progress_handler(None, 0)


@dataclass(frozen=True)
class Sample:
    """What a sample of the table says: the share of rows that pass every test, the
    seconds testing one row takes, each condition's share (term index → share), the share
    that passes the text tests (the name and reference alone), and the seconds a walk of
    the sort order would take to fill the page (``walk``: from where the sample's first
    match stands along the order, inf when the sample has none ahead)."""

    share: float
    per_row: float
    terms: dict[int, float]
    text: float
    walk: float
    #: For a free text (``Term.text_columns``): the share found in the name, and in the
    #: reference (term index → shares).
    columns: dict[int, tuple[float, float]] | None = None


def _sum(cond: pw.Expression | None) -> pw.Node:
    return pw.fn.SUM(pw.Case(None, [(cond, 1)], 0)) if cond is not None else pw.Value(0)


def _sample(found: list[Term], tests: pw.Expression, text: pw.Expression | None, sort: str,
            key: Key | None, reverse: bool, limit: int) -> Sample:
    """DENSITY_SAMPLE rows in 16 runs of ids spread over the table, each tested once for
    every condition together, for each condition alone (its row form: no set of matches
    is built) and for the text tests; then, where along the sort order (its
    first column) the sample's first match ahead of ``key`` stands, and how many of the
    sample's rows come before it."""
    top = table_size()
    runs = 16
    size = max(1, DENSITY_SAMPLE // runs)
    step = max(1, top // runs)
    spans = [(k * step + 1, k * step + size) for k in range(runs)]
    col = SORT_COLUMNS[sort][0]
    ahead: pw.Expression | None = None
    if key is not None:
        ahead = col <= key[0] if reverse else col >= key[0]
    first_match = pw.fn.MAX if reverse else pw.fn.MIN
    matched = tests if ahead is None else tests & ahead
    columns = [pw.fn.COUNT(1), _sum(tests), _sum(text),
               first_match(pw.Case(None, [(matched, col)], None)),
               *[_sum(t.row_test) for t in found]]
    texts = [i for i, t in enumerate(found) if t.text_columns is not None]
    for i in texts:
        on_name, on_reference, _ = found[i].text_columns  # type: ignore[misc]
        columns += [_sum(on_name), _sum(on_reference)]
    # The runs in one statement (its SQL built once: building it costs more than testing
    # a run of rows).
    in_runs = any_of([Endpoint.id.between(low, high) for low, high in spans])
    start = time.perf_counter()
    got = Endpoint.select(*columns).where(in_runs).tuples()[0]
    sums = [int(v or 0) if k != 3 else 0 for k, v in enumerate(got)]
    first = got[3]  # the sample's first match ahead, along the order (None: none)
    rows = sums[0]
    if not rows:
        return Sample(0.0, 0.0, dict.fromkeys(range(len(found)), 0.0), 0.0, math.inf)
    walk = math.inf
    per_row = (time.perf_counter() - start) / rows
    if first is not None:
        # The rows the walk passes before the matches start, each tested (on the covering
        # name index, an entry whose text fails costs a fraction of a row), then the page
        # at the density found.
        before = col > first if reverse else col < first
        if ahead is not None:
            before = before & ahead
        cost = (pw.Case(None, [(text, 1.0)], TEXT_SCAN_PER_ROW)
                if sort == "name" and text is not None else pw.Value(1.0))
        weight = pw.fn.SUM(pw.Case(None, [(before, cost)], 0.0))
        passes = float(Endpoint.select(weight).where(in_runs).scalar() or 0.0)
        walk = (passes * top / rows + limit * rows / max(1, sums[1])) * per_row
        if not is_sqlite():
            walk *= PG_WALK_SHARE
    at = 4 + len(found)
    by_column = {i: (sums[at + 2 * k] / rows, sums[at + 2 * k + 1] / rows)
                 for k, i in enumerate(texts)}
    return Sample(sums[1] / rows, per_row, {i: sums[4 + i] / rows for i in range(len(found))},
                  sums[2] / rows, walk, by_column)


#: What the second look chooses besides a driver's matches: walk on, scan the table, or
#: scan the covering name index for the text tests.
SCAN = -1
WALK_ON = -2
TEXT_SCAN = -3
WALK_END = -4


def _after_budget(found: list[Term], seen: Sample, text: pw.Expression | None,
                  sort: str, cross: int, *, walk_on: bool = True) -> int:
    """A dense walk ran out of time: the driver whose matches to order (sparse), WALK_ON
    to walk on, TEXT_SCAN to read the covering name index for the text tests and order
    what passes, or SCAN to test every row of the table. The sample ``seen`` says what
    share of rows match each condition and all of them, what testing a row costs and
    how far along the order the matches start; the cheapest way wins (walking on only
    when ``walk_on``)."""
    drivers = [i for i, t in enumerate(found) if t.driver is not None and t.probe is not None]
    n = table_size()
    per_row = seen.per_row
    per_match = SPARSE_PER_MATCH if is_sqlite() else PG_MATCH_SHARE
    scanned = 1.0 if is_sqlite() else PG_SCAN_SHARE
    # The probes counted each driver to the crossover, and found it denser.
    counted = [(max(cross, seen.terms[i] * n) * per_row * per_match, i)
               for i in drivers]
    counted.append((n * per_row * scanned, SCAN))
    if text is not None and sort != "name":
        counted.append((n * per_row * TEXT_SCAN_PER_ROW + seen.text * n * per_row, TEXT_SCAN))
    if walk_on and seen.walk < math.inf:
        counted.append((seen.walk, WALK_ON))
    if sort == "name" and text is not None:
        # Walking to the end of the covering name index is the text scan, in order.
        counted.append((n * per_row * TEXT_SCAN_PER_ROW + seen.text * n * per_row, WALK_END))
    return min(counted)[1]


def _keyset(query: pw.Select, sort: str, key: Key | None, reverse: bool,
            plain_order: bool = False) -> pw.Select:
    cols = SORT_COLUMNS[sort]
    if key is not None:
        lhs = pw.Tuple(*cols) if len(cols) > 1 else cols[0]
        rhs = pw.Tuple(*key) if len(cols) > 1 else key[0]
        query = query.where(lhs < rhs if reverse else lhs > rhs)
    if plain_order:
        # A unary + keeps the sort index out: the matches come from the driver's index.
        order = ([pw.NodeList((pw.SQL("+"), c), glue="") for c in cols] if is_sqlite()
                 else [pg_plan.unindexed_order(c) for c in cols])
        return query.order_by(*[pw.NodeList((o, pw.SQL("DESC" if reverse else "ASC")))
                                for o in order])
    return query.order_by(*[c.desc() if reverse else c.asc() for c in cols])


def _column_first(term: Term, shares: tuple[float, float] | None) -> pw.Expression:
    """A free text's test with the reference tested first when the sample found the text
    there more often than in the name: a row then passes (or, negated, fails) at the
    first test."""
    if term.text_columns is None or shares is None or shares[1] <= shares[0]:
        return term.row_test
    on_name, on_reference, negated = term.text_columns
    test = on_reference | on_name
    return ~test if negated else test


def _rarest_first(found: list[Term], seen: Sample, sort: str) -> pw.Expression:
    """Every condition's row test, the text tests first, each part rarest first."""
    order = sorted(range(len(found)), key=lambda i: (not found[i].on_name_index, seen.terms[i]))
    tests = all_of([_column_first(found[i], seen.columns.get(i) if seen.columns else None)
                    for i in order])
    assert tests is not None
    if sort == "iccid" and any(t.needs_sim for t in found):
        tests = tests & (Endpoint.iccid > "")
    return tests


def _word_prefix(term: Term) -> str:
    """The ICCID prefix of a free word of digits (``Term.either``): its range's low end."""
    assert term.either is not None and term.either[0].probe is not None
    return str(term.either[0].probe[1][0])


def _split_iccid_word(found: list[Term], f: Filter, sort: str, key: Key | None, limit: int,
                      reverse: bool, cross: int) -> list[tuple[Any, ...]] | None:
    """Sorted by ICCID, a free word of digits whose ICCID prefix is common and whose text
    is rare: the page of the prefix's range, walked in ICCID order, merged with the text's
    few other matches, ordered. (Walking every row would first pass the endpoints without
    a SIM, which sort first.) None when that does not apply, or the range's walk runs out
    of time."""
    if sort != "iccid":
        return None
    # The longest word first (the rarest, and the cheapest to probe): the first whose
    # text is rare splits.
    words = sorted((k for k, t in enumerate(found) if t.either is not None),
                   key=lambda k: -len(_word_prefix(found[k])))
    for word in words:
        either = found[word].either
        assert either is not None
        prefix, text = either
        if text.driver is not None and text.probe is not None and probe(text, cross) < cross:
            break
    else:
        return None
    others = [t.row_test for k, t in enumerate(found) if k != word]
    base = Endpoint.select(*_ROW_COLUMNS)
    in_range = all_of([prefix.row_test, *others])
    assert in_range is not None
    ranged = _indexed_by(_keyset(base.where(in_range), sort, key, reverse), sort, f)
    try:
        near = _walk(ranged.limit(limit), FIRST_WALK if is_sqlite() else PG_FIRST_WALK)
    except _OverBudget:
        return None
    rest = all_of([text.driver, ~prefix.row_test, *others])
    ordered = _keyset(base.where(rest), sort, key, reverse, plain_order=True).limit(limit)
    far = list(ordered.tuples()) if is_sqlite() else pg_plan.matches(ordered)
    # A row: id, iccid, …; the ICCID order is (iccid, id).
    both = sorted(near + far, key=lambda r: (r[1], r[0]), reverse=reverse)
    return both[:limit]


#: The most distinct tag lists ``_tag_lists`` reads before it gives up.
TAG_LISTS = 2_000


def _tag_lists() -> list[str] | None:
    """Every distinct value of the endpoints' tags column (a fleet has few: one per kind
    of vehicle), skipping along its index; None when there are more than TAG_LISTS."""
    found: list[str] = []
    # PostgreSQL reads the (tags, id) index for these by itself.
    hint = "INDEXED BY endpoint_tags " if is_sqlite() else ""
    sql = (f"SELECT tags FROM endpoint {hint}WHERE tags > {database.param} "
           "ORDER BY tags LIMIT 1")
    last = ""
    first = database.execute_sql(f"SELECT 1 FROM endpoint {hint}"
                                 "WHERE tags = '' LIMIT 1").fetchone()
    if first is not None:
        found.append("")
    while len(found) <= TAG_LISTS:
        got = database.execute_sql(sql, (last,)).fetchone()
        if got is None:
            return found
        last = got[0]
        found.append(last)
    return None


def _tag_sets(found: list[Term]) -> list[Term]:
    """Two or more tag tokens (``tag:a tag:b -tag:c``) as one condition: the tag lists
    that hold every wanted tag and none of the others, an index range each, so that tags
    common alone but rare together are counted, and drive, at once."""
    tagged = [t for t in found if t.tag is not None]
    if len(tagged) < 2:
        return found
    lists = _tag_lists()
    if lists is None:
        return found
    wanted = [t.tag for t in tagged if t.tag is not None]
    allowed = [tags for tags in lists
               if all((f" {tag} " in f" {tags} ") != negated for tag, negated in wanted)]
    cond = Endpoint.tags.in_(allowed) if allowed else NOTHING
    probe_sql = Endpoint.select(pw.SQL("1")).where(cond).sql()
    both = Term(cond, cond, cond, (str(probe_sql[0]), tuple(probe_sql[1])),
                on_name_index=True)
    return [both, *[t for t in found if t.tag is None]]


def _eid_sets(found: list[Term]) -> list[Term]:
    """Two or more ``eid:`` tokens, one of them not negated (``eid:8 -eid:8904903200``),
    as one condition: an endpoint has one SIM, so they ask for its EID in the ranges
    the prefixes leave, which the EID index counts and yields at once (each alone may
    match most SIMs while together they match few)."""
    eids = [t for t in found if t.eid is not None]
    if len(eids) < 2 or all(t.eid is not None and t.eid[1] for t in eids) or not is_sqlite():
        return found
    if any(t.eid is not None and not t.eid[0].isprintable() for t in eids):
        return found
    wanted = [t.eid for t in eids if t.eid is not None]
    # An endpoint's one EID starts with every prefix wanted (so with the longest, if the
    # others are its prefixes; else nothing matches) and with none of the negated ones.
    positive = sorted((p for p, negated in wanted if not negated), key=len)
    longest = positive[-1]
    spans = ([] if any(not longest.startswith(p) for p in positive)
             else prefix_spans(longest, [p for p, negated in wanted if negated]))
    sims = in_spans(Sim.eid, spans)
    cond = sim_endpoints(sims)
    row_test = pw.fn.EXISTS(Sim.select(pw.SQL("1")).where((Sim.endpoint == Endpoint.id) & sims))
    probe_sql = Sim.select(pw.SQL("1")).where(sims).sql()
    both = Term(cond, row_test, cond, (str(probe_sql[0]), tuple(probe_sql[1])), needs_sim=True)
    return [both, *[t for t in found if t.eid is None]]


def _planned_page(f: Filter, sort: str, key: Key | None, limit: int, reverse: bool,
                  groups: dict[int, str], forced: str) -> list[Row]:
    found = terms(f)
    if forced != "plain":
        found = _eid_sets(_tag_sets(found))
    chosen = choose_plan(found, limit, forced=forced)
    base = Endpoint.select(*_ROW_COLUMNS)
    if chosen.kind == "plain":
        cond = all_of([t.where for t in found])
        query = base.where(cond) if cond is not None else base
        return _rows(_keyset(query, sort, key, reverse).limit(limit).tuples(), groups)
    # The text tests first: on the covering name index they are tested before the row
    # is read, and the row only for the entries that pass.
    # (PostgreSQL has no covering name index: its scans read the table.)
    text = all_of([t.row_test for t in found if t.on_name_index]) if is_sqlite() else None
    tests = all_of([t.row_test for t in found if t.on_name_index]
                   + [t.row_test for t in found if not t.on_name_index])
    if sort == "iccid" and tests is not None and any(t.needs_sim for t in found):
        # Endpoints without a SIM sort first by ICCID (''), and cannot match: the walk
        # starts after them.
        tests = tests & (Endpoint.iccid > "")
    if chosen.kind in ("dense", "filtered"):
        query = _keyset(base.where(tests) if tests is not None else base, sort, key, reverse)
        if chosen.kind == "filtered" and all(t.covered for t in found):
            # Conditions the state and group indexes answer: the database chooses.
            return _rows(query.limit(limit).tuples(), groups)
        walk = _indexed_by(query, sort, f).limit(limit)
        if forced in ("dense", "sparse"):
            return _rows(_walk_on(walk), groups)
        split = _split_iccid_word(found, f, sort, key, limit, reverse, chosen.crossover)
        if split is not None:
            return _rows(split, groups)
        try:
            return _rows(_walk(walk, FIRST_WALK if is_sqlite() else PG_FIRST_WALK), groups)
        except _OverBudget:
            assert tests is not None
            cross = chosen.crossover or crossover(limit, table_size())
            seen = _sample(found, tests, text, sort, key, reverse, limit)
            second = _after_budget(found, seen, text, sort, cross)
            if second == WALK_ON:
                try:
                    # Twice the time the sample says (three times on PostgreSQL, whose
                    # walk varies more with its cache), and a little: else it was wrong.
                    budget = (2 if is_sqlite() else PG_WALK_ON_TIMES) * seen.walk
                    return _rows(_walk(walk, budget + WALK_SECONDS, long=True), groups)
                except _OverBudget:
                    second = _after_budget(found, seen, text, sort, cross, walk_on=False)
            # From here on every row is tested: the rarest condition first, so that a
            # row fails at its first test (the text tests still before the others).
            tests = _rarest_first(found, seen, sort)
            if second == WALK_END:
                query = _keyset(base.where(tests), sort, key, reverse)
                return _rows(_indexed_by(query, sort, f).limit(limit).tuples(), groups)
            if second in (SCAN, TEXT_SCAN):
                hint = f"INDEXED BY {TEXT_INDEX}" if second == TEXT_SCAN else "NOT INDEXED"
                scan = _keyset(base.where(tests), sort, key, reverse, plain_order=True)
                if not is_sqlite():
                    return _rows(pg_plan.scan(scan.limit(limit)), groups)
                scan = scan.from_(pw.NodeList((Endpoint, pw.SQL(hint))))
                return _rows(scan.limit(limit).tuples(), groups)
            # Its matches tested for the other conditions, the rarest first.
            order = sorted(range(len(found)), key=lambda i: seen.terms[i])
            found = [found[i] for i in order]
            chosen = Plan("sparse", order.index(second), chosen.crossover)
    assert chosen.driver is not None
    driver = found[chosen.driver].driver
    assert driver is not None
    rest = all_of([t.row_test for i, t in enumerate(found) if i != chosen.driver])
    cond = driver & rest if rest is not None else driver
    query = _keyset(base.where(cond), sort, key, reverse, plain_order=True)
    if not is_sqlite():
        return _rows(pg_plan.matches(query.limit(limit)), groups)
    return _rows(query.limit(limit).tuples(), groups)


def _walk_on(walk: pw.Select) -> list[tuple[Any, ...]]:
    """A walk of the sort index with no time budget."""
    return list(walk.tuples()) if is_sqlite() else pg_plan.walk(walk)


def _group_page(
    f: Filter,
    key: Key | None,
    limit: int,
    reverse: bool,
    groups: dict[int, str],
) -> list[Row]:
    """Sorted by group name: walk the groups in name order, each by its (group_id) index."""
    segments: list[tuple[str, int | None]] = [("", None)] + sorted(
        (name, gid) for gid, name in groups.items()
    )
    if reverse:
        segments.reverse()
    out: list[Row] = []
    base = Endpoint.select(*_ROW_COLUMNS)
    cond = _planned_condition(f, limit)
    if cond is not None:
        base = base.where(cond)
    for name, gid in segments:
        if key is not None and ((name > key[0]) if reverse else (name < key[0])):
            continue
        query = base.where(Endpoint.group.is_null() if gid is None else Endpoint.group == gid)
        if key is not None and name == key[0]:
            query = query.where(Endpoint.id < key[1] if reverse else Endpoint.id > key[1])
        query = query.order_by(Endpoint.id.desc() if reverse else Endpoint.id.asc())
        out += _rows(query.limit(limit - len(out)).tuples(), groups)
        if len(out) >= limit:
            break
    return out


def _planned_condition(f: Filter, limit: int) -> pw.Expression | None:
    """One condition for ``f`` as the planner would start it: the sparsest condition's
    matches when they are few, else every condition tested row by row."""
    found = terms(f)
    chosen = choose_plan(found, limit)
    if chosen.kind == "plain":
        return all_of([t.where for t in found])
    if chosen.kind == "sparse" and chosen.driver is not None:
        return all_of([t.driver if i == chosen.driver and t.driver is not None else t.row_test
                       for i, t in enumerate(found)])
    return all_of([t.row_test for t in found])


def row(f: Filter, endpoint_id: int) -> Row | None:
    """One endpoint's list row as it is now, or None when gone or no longer matching ``f``."""
    # Tested on the one row: no condition's matches are built as a set.
    tests = all_of([t.row_test for t in terms(f)])
    query = Endpoint.select(*_ROW_COLUMNS).where(Endpoint.id == endpoint_id)
    if tests is not None:
        query = query.where(tests)
    found = _rows(query.tuples(), group_names())
    return found[0] if found else None


def count(f: Filter) -> int:
    """How many endpoints match ``f``."""
    return int(_where(Endpoint.select(pw.fn.COUNT(Endpoint.id)), f).scalar() or 0)


def counts_by_state(f: Filter) -> dict[State, int]:
    """How many endpoints match ``f`` in each display state (every state present), exactly."""
    cond = _count_condition(f)
    query = Endpoint.select(Endpoint.state, pw.fn.COUNT(Endpoint.id))
    if cond is not None:
        query = query.where(cond)
    found = dict(query.group_by(Endpoint.state).tuples())
    return {s: int(found.get(s.value, 0)) for s in STATES}


@dataclass(frozen=True)
class StateCounts:
    """The endpoints matching a filter in each state; ``approximate`` when estimated from
    a sample of the table rather than counted."""

    counts: dict[State, int]
    approximate: bool = False

    @property
    def total(self) -> int:
        """Every state together."""
        return sum(self.counts.values())


#: A filter whose sparsest condition has fewer matches than this is counted exactly at
#: once (its matches are read, each tested); a denser one is estimated first.
EXACT_UNDER = 40_000
#: Rows of the sample an estimate tests, in SAMPLE_SLICES runs of ids spread over the table.
SAMPLE = 16_000
SAMPLE_SLICES = 32


def _count_condition(f: Filter) -> pw.Expression | None:
    """The condition an exact count reads: the sparsest index's matches, each tested, when
    one condition has few; the plain query's otherwise."""
    found = terms(f)
    if not found:
        return None
    drivers = [i for i, t in enumerate(found) if t.probe is not None and not t.covered]
    if drivers:
        counted = [(probe(found[i], EXACT_UNDER), i) for i in drivers]
        fewest, best = min(counted)
        if fewest < EXACT_UNDER:
            return all_of([t.driver if i == best and t.driver is not None else t.row_test
                           for i, t in enumerate(found)])
    return all_of([t.where for t in found])


def counts_by_state_estimate(f: Filter) -> StateCounts:
    """Counts per state at once: exact when that is cheap (no condition, conditions the
    state and group indexes answer, or one with few matches), else estimated from a
    sample of the table and flagged ``approximate`` (``counts_by_state`` then counts)."""
    found = terms(f)
    if not found or all(t.covered for t in found):
        return StateCounts(counts_by_state(f))
    drivers = [i for i, t in enumerate(found) if t.probe is not None and not t.covered]
    if any(probe(found[i], EXACT_UNDER) < EXACT_UNDER for i in drivers):
        return StateCounts(counts_by_state(f))
    return StateCounts(_sampled(all_of([t.row_test for t in found])), approximate=True)


def _sampled(tests: pw.Expression | None) -> dict[State, int]:
    """Counts per state estimated from SAMPLE rows in runs of ids spread over the table."""
    top = table_size()
    if top <= SAMPLE:
        spans = [(1, top)]
    else:
        run = SAMPLE // SAMPLE_SLICES
        step = top / SAMPLE_SLICES
        spans = [(int(k * step) + 1, int(k * step) + run) for k in range(SAMPLE_SLICES)]
    matched = pw.fn.SUM(pw.Case(None, [(tests, 1)], 0)) if tests is not None else pw.fn.COUNT(1)
    seen: dict[str, int] = {}
    rows = 0
    for low, high in spans:
        query = (Endpoint.select(Endpoint.state, matched, pw.fn.COUNT(1))
                 .where(Endpoint.id.between(low, high)).group_by(Endpoint.state))
        for state, hits, n in query.tuples():
            seen[state] = seen.get(state, 0) + int(hits or 0)
            rows += int(n)
    span = sum(high - low + 1 for low, high in spans)
    scale = top / span if span else 0.0
    return {s: int(round(seen.get(s.value, 0) * scale)) for s in STATES}


def position(f: Filter, sort: str, key: Key, *, descending: bool = False) -> int:
    """How many matching rows come before ``key`` (where the scrollbar stands)."""
    if sort == "group":
        names = group_names()
        before_groups = [
            gid for gid, n in names.items() if (n > key[0] if descending else n < key[0])
        ]
        cond = Endpoint.group.in_(before_groups) if before_groups else NOTHING
        if key[0] != "" and not descending:
            cond = cond | Endpoint.group.is_null()
        same = [gid for gid, n in names.items() if n == key[0]]
        same_cond = Endpoint.group.in_(same) if same else Endpoint.group.is_null()
        idc = Endpoint.id > key[1] if descending else Endpoint.id < key[1]
        cond = cond | (same_cond & idc)
    else:
        cols = SORT_COLUMNS[sort]
        lhs = pw.Tuple(*cols) if len(cols) > 1 else cols[0]
        rhs = pw.Tuple(*key) if len(cols) > 1 else key[0]
        cond = lhs > rhs if descending else lhs < rhs
    return int(_where(Endpoint.select(pw.fn.COUNT(Endpoint.id)), f).where(cond).scalar() or 0)


#: One group of the list sorted by group: its name ("" for none), its id, its matching rows.
Segment = tuple[str, int | None, int]


def group_segments(f: Filter) -> list[Segment]:
    """The groups in the order the list walks them (no group first), with their counts."""
    per_group = dict(
        _where(Endpoint.select(Endpoint.group, pw.fn.COUNT(Endpoint.id)), f)
        .group_by(Endpoint.group)
        .tuples()
    )
    return [("", None, int(per_group.get(None, 0)))] + sorted(
        (name, gid, int(per_group.get(gid, 0))) for gid, name in group_names().items()
    )


def key_at(
    f: Filter,
    sort: str,
    index: int,
    count: int,
    *,
    descending: bool = False,
    segments: list[Segment] | None = None,
) -> Key | None:
    """The key of matching row ``index`` (``count`` rows in all), for a jump into the middle.

    Read from the sort columns' index alone, from the nearer end. Sorted by group, the
    row is found by its id inside the group that holds ``index``; ``segments`` (from
    ``group_segments``) saves counting the groups again on every jump of one drag.
    """
    if sort == "group":
        return _group_key_at(f, index, descending,
                             segments if segments is not None else group_segments(f))
    cols = SORT_COLUMNS[sort]
    backwards = index > count // 2
    offset = count - 1 - index if backwards else index
    reverse = descending != backwards
    query = _where(Endpoint.select(*cols), f)
    query = query.order_by(*[c.desc() if reverse else c.asc() for c in cols])
    found = list(query.limit(1).offset(max(0, offset)).tuples())
    return tuple(found[0]) if found else None


def _group_key_at(
    f: Filter, index: int, descending: bool, segments: list[Segment]
) -> Key | None:
    ordered = list(reversed(segments)) if descending else segments
    for name, gid, n in ordered:
        if index < n:
            query = _where(Endpoint.select(Endpoint.id), f).where(
                Endpoint.group.is_null() if gid is None else Endpoint.group == gid
            )
            order = Endpoint.id.desc() if descending else Endpoint.id.asc()
            found = list(query.order_by(order).limit(1).offset(index).tuples())
            return (name, found[0][0]) if found else None
        index -= n
    return None


def hidden_marks(shown: Filter, *, ids: Iterable[int] = (), marked: Filter | None = None,
                 exclude: Iterable[int] = (), extra: Iterable[int] = ()) -> int:
    """How many marked endpoints ``shown`` does not match: marked ``ids``, or, when the
    marks are a filter, all ``marked`` matches less ``exclude`` plus ``extra``."""
    visible = endpoint_ids(shown)
    if marked is not None:
        extra = tuple(extra)
        if marked == shown and not extra:
            return 0
        in_marked = target_condition(marked, exclude, extra)
        total = Endpoint.select(pw.fn.COUNT(Endpoint.id)).where(in_marked).scalar()
        both = (
            Endpoint.select(pw.fn.COUNT(Endpoint.id))
            .where(in_marked & Endpoint.id.in_(visible))
            .scalar()
        )
        return int(total or 0) - int(both or 0)
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    return len(wanted) - int(visible.where(Endpoint.id.in_(bound(wanted))).count())
