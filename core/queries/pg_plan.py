"""The search planner's PostgreSQL side: what SQLite does with hints and a progress
handler, said to PostgreSQL's planner with settings local to one statement.

The planner itself (``endpoints.choose_plan``) is the same on both stores: a capped
count of each condition's index matches, against √(page × N). Here:

- **the trigram driver**: a name or reference substring of three characters or more is
  matched through pg_trgm's GIN indexes (``text_term``), and probed the same way;
- **the walk**: the sort order's ``(sort column, id)`` index read in order, every
  condition tested on each row, stopped at the page; bitmap scans (the only way a GIN
  index is read), sequential scans and sorts are priced out for the one statement, and
  ``statement_timeout`` stops a walk over its budget (``walk``);
- **matches then order**: the sort columns written so that no index gives their order
  (``unindexed_order``), so the rows come from the driver's index and are sorted;
- **the scan**: the table read once, every row tested, the matches sorted (``scan``).

Each setting is ``SET LOCAL`` inside a savepoint, put back after the statement: nothing
leaks into the rest of a transaction.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import peewee as pw

from .. import pg
from ..db import database
from ..models import Endpoint

#: Planner settings of a walk of the sort index: no other way to read the page is cheap.
WALK_SETTINGS = {"enable_seqscan": "off", "enable_bitmapscan": "off", "enable_sort": "off"}
#: A walk that passes many entries before its page fills (its matches sort late) is read
#: by the server's parallel workers as well, as PostgreSQL does for a long scan: starting
#: them costs a few milliseconds, which the planner's defaults price as if the walk
#: stopped early. 1.2–1.5× faster on two cores (``VM-LATAM`` sorted by name, 1M: 92–130
#: → 77–89 ms).
PARALLEL_WALK_SETTINGS = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0",
                          "min_parallel_index_scan_size": "0"}
#: A scan of the table in its own order: no index walk at all.
SCAN_SETTINGS = {"enable_indexscan": "off", "enable_indexonlyscan": "off",
                 "enable_bitmapscan": "off"}
#: Ordering one condition's matches: read them through an index, never the whole table.
MATCHES_SETTINGS = {"enable_seqscan": "off"}

_TRIGRAM_INDEXES = ("endpoint_text_name_trgm", "endpoint_text_reference_trgm")
#: The index of names and references with every character doubled (core/pg.py).
_PAIRS_INDEX = "endpoint_text_pairs"
#: How long a look at the catalog for the trigram indexes is trusted (a demo built in
#: this process creates them after its load).
LOOK_SECONDS = 5.0
_seen_indexes: dict[int, tuple[float, frozenset[str]]] = {}


def _text_indexes() -> frozenset[str]:
    """Which of ``endpoint_text``'s indexes exist (looked up at most every LOOK_SECONDS
    per connection)."""
    key = id(database.connection())
    now = time.monotonic()
    seen = _seen_indexes.get(key)
    if seen is None or now - seen[0] > LOOK_SECONDS:
        found = database.execute_sql(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relkind = 'i'",
            ([*_TRIGRAM_INDEXES, _PAIRS_INDEX],)).fetchall()
        seen = (now, frozenset(str(name) for (name,) in found))
        _seen_indexes[key] = seen
    return seen[1]


def has_trigram_indexes() -> bool:
    """True when pg_trgm's indexes over ``endpoint_text`` exist."""
    return set(_TRIGRAM_INDEXES) <= _text_indexes()


def trigram_driven(text: str) -> bool:
    """True when pg_trgm's index can yield the rows holding ``text``: three characters or
    more (a shorter text holds no trigram, and its index scan reads every entry)."""
    return len(text) >= 3 and has_trigram_indexes()


def pairs_driven(text: str) -> bool:
    """True when the index of doubled characters can yield the rows holding ``text``: two
    ASCII letters or digits (``ab`` doubled, ``aabb``, holds the trigrams ``aab`` and
    ``abb``; a character pg_trgm skips, such as ``-``, or a letter it may skip under the
    server's locale, would leave none, and its index scan would read every entry)."""
    return (len(text) == 2 and text.isascii() and text.isalnum()
            and _PAIRS_INDEX in _text_indexes())


def pairs(text: str) -> str:
    """``text`` with every character doubled, as ``simdeck_pairs`` writes it."""
    return "".join(c + c for c in text)


def pairs_ids(pattern: str) -> pw.SQL:
    """The ids of the endpoints whose doubled name or reference is ``ILIKE`` ``pattern``
    (``%aabb%`` for ``ab``): a superset of those holding ``ab``, from one index."""
    return pw.SQL(f"(SELECT id FROM endpoint_text WHERE {_PAIRS_WHERE})", (pattern,))


def pairs_probe(pattern: str) -> tuple[str, tuple[Any, ...]]:
    """``pairs_ids``'s rows as a probe."""
    return f"SELECT 1 FROM endpoint_text WHERE {_PAIRS_WHERE}", (pattern,)


_PAIRS_WHERE = f"{pg.PAIRS} ILIKE %s ESCAPE '\\'"


def _text_where(column: str | None) -> str:
    """``endpoint_text``'s condition for a pattern in ``column`` (None: name or reference)."""
    if column is None:
        return "name ILIKE %s ESCAPE '\\' OR reference ILIKE %s ESCAPE '\\'"
    assert column in ("name", "reference")
    return f"{column} ILIKE %s ESCAPE '\\'"


def text_ids(pattern: str, column: str | None = None) -> pw.SQL:
    """The ids of the endpoints whose name or reference (or ``column``) is ``ILIKE``
    ``pattern``, from the trigram indexes of ``endpoint_text`` (core/pg.py)."""
    params = (pattern,) if column else (pattern, pattern)
    return pw.SQL(f"(SELECT id FROM endpoint_text WHERE {_text_where(column)})", params)


def text_probe(pattern: str, column: str | None = None) -> tuple[str, tuple[Any, ...]]:
    """``text_ids``'s matches as a probe (``endpoints.probe`` counts them, capped)."""
    params = (pattern,) if column else (pattern, pattern)
    return f"SELECT 1 FROM endpoint_text WHERE {_text_where(column)}", params


def folded_contains(pattern: str, column: str | None = None) -> pw.Expression:
    """The endpoint's name or reference (or ``column``, "name" or "reference") is
    ``ILIKE`` ``pattern`` (``%text%``, escaped): ``LIKE`` on ``pg.FOLDED``, the two in
    lower case, with the pattern in lower case too (which is how PostgreSQL's ``ILIKE``
    folds on a UTF-8 database)."""
    if column == "name":
        pattern = pattern + pg.FOLD_SEPARATOR + "%"
    elif column == "reference":
        pattern = "%" + pg.FOLD_SEPARATOR + pattern
    else:
        assert column is None
    return pw.Expression(pw.Column(Endpoint, pg.FOLDED), pw.OP.LIKE,
                         pw.NodeList((pw.fn.lower(pattern), pw.SQL("ESCAPE '\\'"))))


def unindexed_order(column: pw.Field) -> Any:
    """``column`` as a sort key no index gives in order (``iccid || ''``, ``id + 0``): the
    same values, the same collation, so the same order."""
    if isinstance(column, (pw.IntegerField, pw.BigIntegerField, pw.AutoField,
                           pw.ForeignKeyField)):
        return column + 0
    return column.concat("")


class OverBudget(Exception):
    """A walk ran past its statement timeout."""


def _timed_out(exc: Exception) -> bool:
    """True when ``exc`` is the server stopping a statement: its timeout, or a cancel
    (a statement timeout of a millisecond or two can reach the server as the cancel of
    the statement after it, which PostgreSQL then reports as a user's request)."""
    text = str(exc)
    return "statement timeout" in text or "canceling statement due to user request" in text


def _run(query: pw.Select, settings: dict[str, str], timeout_ms: int | None
         ) -> list[tuple[Any, ...]]:
    if timeout_ms is not None:
        settings = {**settings, "statement_timeout": str(timeout_ms)}
    return _under(settings, lambda: list(query.tuples()))


def _under(settings: dict[str, str], read: Callable[[], list[tuple[Any, ...]]]
           ) -> list[tuple[Any, ...]]:
    """``read()`` with ``settings`` set local to it, each put back after."""
    names = list(settings)
    with database.atomic():
        before = database.execute_sql(
            "SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names).fetchone()
        _set(names, list(settings.values()))
        rows = read()
        # A savepoint released keeps its SET LOCAL: put each back.
        _set(names, [str(v) for v in before])
    return rows


def _set(names: list[str], values: list[str]) -> None:
    pairs = ", ".join(["set_config(%s, %s, true)"] * len(names))
    database.execute_sql("SELECT " + pairs, [x for nv in zip(names, values, strict=True)
                                             for x in nv])


def walk(query: pw.Select, seconds: float | None = None,
         over: Callable[[], Exception] = OverBudget, *, parallel: bool = False
         ) -> list[tuple[Any, ...]]:
    """The rows of a walk of the sort index (``query`` orders by the sort columns), stopped
    with ``over()`` once it has run ``seconds`` (None or infinite: no limit, as on SQLite);
    ``parallel``: by the server's parallel workers too, each reading its share of the
    index's pages, their rows merged in order (``PARALLEL_WALK_SETTINGS``)."""
    timeout = (None if seconds is None or not math.isfinite(seconds)
               else max(1, int(seconds * 1000)))
    settings = {**WALK_SETTINGS, **PARALLEL_WALK_SETTINGS} if parallel else WALK_SETTINGS
    try:
        return _run(query, settings, timeout)
    except pw.OperationalError as exc:
        if timeout is not None and _timed_out(exc):
            raise over() from None
        raise


def estimate(sql: str, params: tuple[Any, ...]) -> float:
    """The server's estimate of how many rows ``sql`` yields (its plan's, from the
    table's statistics: for a ``LIKE`` pattern, the share of a sample of values it
    matches; planning only, no row read)."""
    raw = database.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return float(plan[0]["Plan"]["Plan Rows"])


def count_within(sql: str, params: tuple[Any, ...], cap: int, seconds: float) -> int:
    """``SELECT count(*)`` of ``sql``'s rows, up to ``cap``; ``cap`` when the count runs
    past ``seconds`` (a condition that dense is walked, not counted)."""
    counted = f"SELECT count(*) FROM ({sql} LIMIT {int(cap)}) AS probe"
    try:
        rows = _under({"statement_timeout": str(max(1, int(seconds * 1000)))},
                      lambda: list(database.execute_sql(counted, params).fetchall()))
    except pw.OperationalError as exc:
        if _timed_out(exc):
            return cap
        raise
    return int(rows[0][0])


def scan(query: pw.Select) -> list[tuple[Any, ...]]:
    """The rows of ``query`` read by one pass over the table, the matches sorted."""
    return _run(query, SCAN_SETTINGS, None)


def matches(query: pw.Select) -> list[tuple[Any, ...]]:
    """The rows of ``query`` (ordered by ``unindexed_order``) from the indexes of its
    conditions, then sorted."""
    return _run(query, MATCHES_SETTINGS, None)
