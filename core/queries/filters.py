"""Filters and the search box: what the endpoint list shows, as one SQL condition.

An ICCID prefix is a range on the index; name and reference substrings go through the
trigram index. Every value a user types is bound as a parameter or quoted as an FTS
phrase, so it is matched literally.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee as pw

from .. import identifiers as ids
from ..db import bound, is_sqlite
from ..errors import ValidationError
from ..lifecycle import STATES, State
from ..models import ODD_TEXT, Endpoint, EndpointGroup, EndpointTag, Imsi, Sim
from . import pg_plan

TOKEN_FIELDS = ("state", "group", "tag", "imsi", "eid", "imei", "ip", "iccid", "name", "ref")

@dataclass(frozen=True)
class Filter:
    """What the list shows: the filter bar's controls and the search text."""

    states: tuple[str, ...] = ()
    group: str | None = None
    tag: str | None = None
    search: str = ""
    #: Only endpoints terminated at or before this time (the purge's targets).
    terminated_before: dt.datetime | None = None

    def is_empty(self) -> bool:
        """True when the filter matches every endpoint."""
        return not (self.states or self.group or self.tag or self.search.strip()
                    or self.terminated_before)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, as stored with a bulk job."""
        return {
            "states": list(self.states),
            "group": self.group,
            "tag": self.tag,
            "search": self.search,
            "terminated_before": self.terminated_before.isoformat()
            if self.terminated_before else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Filter:
        """The filter stored by ``to_dict``."""
        return cls(
            states=tuple(data.get("states") or ()),
            group=data.get("group"),
            tag=data.get("tag"),
            search=data.get("search") or "",
            terminated_before=dt.datetime.fromisoformat(data["terminated_before"])
            if data.get("terminated_before") else None,
        )

    def describe(self) -> str:
        """The filter in one line, for a preview or a job."""
        parts = []
        if self.states:
            parts.append("state " + "/".join(self.states))
        if self.group:
            parts.append(f"group {self.group}")
        if self.tag:
            parts.append(f"tag {self.tag}")
        if self.search.strip():
            parts.append(f'search "{self.search.strip()}"')
        if self.terminated_before:
            parts.append(f"terminated before {self.terminated_before:%Y-%m-%d %H:%M}")
        return ", ".join(parts) or "all endpoints"


@dataclass(frozen=True)
class Token:
    """One word of the search box: ``field:value`` or a free word, maybe negated."""

    field: str | None
    value: str
    negated: bool = False


def parse_state(value: str) -> State:
    """A state typed loosely (``Pre-Active``, ``preactive``, ``pre_active``)."""
    wanted = re.sub(r"[^a-z]", "", value.lower())
    for s in STATES:
        if s.value.replace("-", "") == wanted:
            return s
    names = ", ".join(s.value for s in STATES)
    raise ValidationError("state", ids.shown(value), f"is not a state; use one of {names}")


_TOKEN = re.compile(r'(-?)(?:([A-Za-z]+):)?("([^"]*)"?|\S+)')


def tokenize(search: str) -> list[Token]:
    """Split the search box into tokens (a field in any case: ``State:idle``); unknown
    ``field:`` prefixes stay free words."""
    tokens: list[Token] = []
    for m in _TOKEN.finditer(search):
        negated, fld, raw, quoted = m.group(1) == "-", m.group(2), m.group(3), m.group(4)
        value = quoted if quoted is not None else raw
        if fld is not None and fld.lower() not in TOKEN_FIELDS:
            value, fld = f"{fld}:{value}", None
        elif fld is not None:
            fld = fld.lower()
        if fld is None and negated and not value:
            continue
        if not value:
            continue
        tokens.append(Token(fld, value, negated))
    return tokens


#: A condition that matches no row.
NOTHING = pw.SQL("1 = 0")


def prefix_end(prefix: str) -> str | None:
    """The first value after every one that starts with ``prefix`` (None: no end)."""
    if prefix[-1] == chr(0x10FFFF):
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


Span = tuple[str, str | None]


def prefix_spans(prefix: str, excluded: Sequence[str] = ()) -> list[Span]:
    """The values that start with ``prefix`` and with none of ``excluded``, as ranges
    [low, high) (high None: no end): the prefix's range less each excluded one's."""
    spans: list[Span] = [(prefix, prefix_end(prefix))]
    for cut in excluded:
        end = prefix_end(cut)
        left: list[Span] = []
        for low, high in spans:  # [low, high) less [cut, end)
            if low < cut:
                left.append((low, cut if high is None or cut < high else high))
            if end is not None and (high is None or end < high):
                left.append((max(low, end), high))
        spans = left
    return spans


def in_spans(column: pw.Field, spans: Sequence[Span]) -> pw.Expression:
    """``column`` in any of ``spans``, as index ranges (NOTHING for none)."""
    if not spans:
        return NOTHING
    return any_of([(column >= low) & (column < high) if high is not None else column >= low
                   for low, high in spans])


def any_of(conds: Sequence[pw.Expression]) -> pw.Expression:
    """The disjunction of ``conds`` (at least one)."""
    out = conds[0]
    for c in conds[1:]:
        out = out | c
    return out


def _prefix_range(column: pw.Field, prefix: str) -> pw.Expression:
    """``column`` starts with ``prefix``, as an index range (no LIKE, no pattern)."""
    if not prefix or not prefix.isprintable():
        return NOTHING
    return in_spans(column, prefix_spans(prefix))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_pattern(text: str) -> str:
    """``ILIKE``'s pattern for ``text`` anywhere (``ESCAPE '\\'``)."""
    return "%" + _like_escape(text) + "%"


def _contains(column: pw.Field, text: str) -> pw.Expression:
    """Literal substring, case-insensitive, tested on the row (no index)."""
    if not is_sqlite():
        return pg_plan.folded_contains(_like_pattern(text), column.column_name)
    pattern = _like_pattern(text)
    # Peewee writes ILIKE as LIKE on SQLite (its LIKE would become GLOB, which has no ESCAPE).
    return pw.Expression(column, pw.OP.ILIKE, pw.NodeList((pattern, pw.SQL("ESCAPE '\\'"))))


def _holds(text: str) -> pw.Expression:
    """Name or reference contains ``text``, tested on the row (no index)."""
    if not is_sqlite():
        return pg_plan.folded_contains(_like_pattern(text))
    return _contains(Endpoint.name, text) | _contains(Endpoint.reference, text)


def _text_match(text: str) -> pw.Expression:
    """Name or reference contains ``text``, through the substring index."""
    if not text.isprintable():
        # No name or reference holds a control character (validation refuses them).
        return NOTHING
    if is_sqlite() and len(text) >= 3:
        phrase = '"' + text.replace('"', '""') + '"'
        sub = pw.SQL(
            "(SELECT rowid FROM endpoint_text WHERE endpoint_text MATCH ?)", (phrase,)
        )
        return Endpoint.id.in_(sub)
    if not is_sqlite() and pg_plan.trigram_driven(text):
        return Endpoint.id.in_(pg_plan.text_ids(_like_pattern(text)))
    return _holds(text)


def _digits(text: str) -> str:
    return re.sub(r"[\s\-]", "", text)


def sim_endpoints(cond: pw.Expression) -> pw.Expression:
    """The endpoints whose SIM meets ``cond`` (a condition on ``Sim``)."""
    return Endpoint.id.in_(Sim.select(Sim.endpoint).where(cond & Sim.endpoint.is_null(False)))


def _token_condition(tok: Token) -> pw.Expression:
    fld, value = tok.field, tok.value
    if fld == "state":
        return Endpoint.state == parse_state(value).value
    if fld == "group":
        if value.lower() in ("none", "-"):
            return Endpoint.group.is_null()
        # A subquery, not the id looked up now: building a condition never reads the
        # database (the console checks each keystroke's search on its event loop).
        return Endpoint.group.in_(
            EndpointGroup.select(EndpointGroup.id).where(EndpointGroup.name == value)
        )
    if fld == "tag":
        return Endpoint.id.in_(
            EndpointTag.select(EndpointTag.endpoint).where(EndpointTag.tag == value.lower())
        )
    if fld == "imsi":
        return sim_endpoints(
            Sim.id.in_(Imsi.select(Imsi.sim).where(_prefix_range(Imsi.imsi, _digits(value))))
        )
    if fld == "eid":
        return sim_endpoints(_prefix_range(Sim.eid, _digits(value)))
    if fld == "imei":
        return _prefix_range(Endpoint.imei_lock, re.sub(r"[\s\-/]", "", value))
    if fld == "ip":
        return _prefix_range(Endpoint.static_ip, value.strip())
    if fld == "iccid":
        return _prefix_range(Endpoint.iccid, _digits(value).rstrip("Ff") or value)
    if fld == "name":
        return _text_match(value) & _contains(Endpoint.name, value)
    if fld == "ref":
        return _text_match(value) & _contains(Endpoint.reference, value)
    digits = _digits(value)
    if digits.isdigit() and digits.isascii():
        return _prefix_range(Endpoint.iccid, digits) | _text_match(value)
    return _text_match(value)


# --- the planner's forms ------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One condition of a filter, in each form the planner chooses between.

    - ``where``: as the plain query states it (an ``IN`` over the trigram index, …);
    - ``row_test``: the same condition tested on one endpoint row, with no set of matches
      built first (``LIKE`` on the row, an ``EXISTS`` by key): what a walk of the sort
      order's index checks on each row it passes;
    - ``driver``: the condition as an index yields its matches (None when no index does);
    - ``probe``: SQL (and its parameters) whose rows are the index's matches, for a capped
      count of how dense the condition is (None when there is nothing cheap to count).
    """

    where: pw.Expression
    row_test: pw.Expression
    driver: pw.Expression | None = None
    probe: tuple[str, tuple[Any, ...]] | None = None
    #: True for a condition on the state and group columns, which their indexes count.
    covered: bool = False
    #: True when only an endpoint with a SIM (an ICCID) can match.
    needs_sim: bool = False
    #: True when ``row_test`` reads the name, the reference, the tags and the id alone:
    #: the covering name index (SQLite) tests it without reading the row.
    on_name_index: bool = False
    #: A free word of digits: its ICCID prefix and its text, each a term of its own (the
    #: word matches either).
    either: tuple[Term, Term] | None = None
    #: A tag token: the tag, and whether it is negated.
    tag: tuple[str, bool] | None = None
    #: An ``eid:`` token: its prefix, and whether it is negated.
    eid: tuple[str, bool] | None = None
    #: A free text tested by ``LIKE``: its test on the name, its test on the reference,
    #: and whether it is negated (``row_test`` is the two OR'd, or that negated); the
    #: planner may test the reference first.
    text_columns: tuple[pw.Expression, pw.Expression, bool] | None = None
    #: PostgreSQL: the probe's time limit, past which the condition counts as dense (an
    #: index whose dense entries cost more to count than a walk to find).
    probe_seconds: float | None = None


def _sql(query: pw.Query) -> tuple[str, tuple[Any, ...]]:
    sql, params = query.sql()
    return str(sql), tuple(params)


def _fts_probe(text: str) -> tuple[str, tuple[Any, ...]]:
    phrase = '"' + text.replace('"', '""') + '"'
    return "SELECT 1 FROM endpoint_text WHERE endpoint_text MATCH ?", (phrase,)


def _short_text_ids(text: str) -> tuple[str, tuple[Any, ...]] | None:
    """SQLite: the ids of the endpoints whose name or reference may hold ``text`` (one or
    two ASCII characters; None for any other): those holding one of the trigrams that
    contain it (``endpoint_trigram`` lists them; a MATCH of them OR'd), and the few whose
    texts have no trigram or too many (``endpoint_odd_text``). A superset, tested by
    ``LIKE`` after; no trigram holds a text nothing matches, so it is found empty at once.
    (No trigram: a phrase of fewer than three characters, which matches nothing.)"""
    if not text.isascii() or not text.isprintable():
        return None
    quoted = '"' + text.replace('"', '""') + '"'
    sql = (
        "SELECT rowid FROM endpoint_text WHERE endpoint_text MATCH (SELECT coalesce("
        "group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), ?) "
        "FROM endpoint_trigram WHERE term LIKE ? ESCAPE '\\') "
        "UNION ALL SELECT odd.id FROM endpoint AS odd INDEXED BY endpoint_odd_text "
        f"WHERE {ODD_TEXT}"
    )
    return sql, (quoted, _like_pattern(text))


def _text_term(text: str, column: pw.Field | None = None) -> Term:
    """Name or reference (or only ``column``) contains ``text``."""
    if not text.isprintable():
        return Term(NOTHING, NOTHING, on_name_index=True)
    if not is_sqlite():
        return _pg_text_term(text, column)
    columns = None
    if column is None:
        on_name, on_reference = _contains(Endpoint.name, text), _contains(Endpoint.reference, text)
        scan = on_name | on_reference
        columns = (on_name, on_reference, False)
    else:
        scan = _contains(column, text)
    if len(text) < 3:
        short = _short_text_ids(text)
        if short is None:
            return Term(scan, scan, on_name_index=True, text_columns=columns)
        sql, params = short
        driver = Endpoint.id.in_(pw.SQL(f"({sql})", params)) & scan
        return Term(scan, scan, driver, short, on_name_index=True, text_columns=columns)
    indexed = _text_match(text)
    where = indexed if column is None else indexed & scan
    # LIKE folds the case of ASCII letters only, the trigram index of every letter: a
    # text with other letters is tested through the index, row by row too.
    if not text.isascii():
        return Term(where, where, where, _fts_probe(text), on_name_index=True)
    return Term(where, scan, where, _fts_probe(text), on_name_index=True, text_columns=columns)


#: How long the probe of a two-character text may count before it is taken as dense.
PAIRS_PROBE_SECONDS = 0.01
#: How long the probe of a longer text may count (its trigrams' rows, then each tested).
TRIGRAM_PROBE_SECONDS = 0.008


def _pg_text_term(text: str, column: pw.Field | None) -> Term:
    """PostgreSQL: the ids pg_trgm's indexes over ``endpoint_text`` hold (three characters
    or more), as a driver and a probe. The test of one row is one ``LIKE`` on the name
    and reference in lower case (``pg_plan.folded_contains``), which the covering sort
    indexes hold."""
    row_test = _contains(column, text) if column is not None else _holds(text)
    if pg_plan.pairs_driven(text):
        # Two characters: the index of doubled characters yields a superset of the rows,
        # each then tested. Counting a common pair's rows costs more than walking to
        # them: the probe gives up after PAIRS_PROBE_SECONDS.
        pattern = _like_pattern(pg_plan.pairs(text))
        driver = Endpoint.id.in_(pg_plan.pairs_ids(pattern)) & row_test
        return Term(row_test, row_test, driver, pg_plan.pairs_probe(pattern),
                    probe_seconds=PAIRS_PROBE_SECONDS)
    if not pg_plan.trigram_driven(text):
        return Term(row_test, row_test)
    which = None if column is None else column.column_name
    ids = pg_plan.text_ids(_like_pattern(text), which)
    driver = Endpoint.id.in_(ids)
    # A text whose trigrams are common (``Z-05``: `` 05``) costs its probe the whole of
    # their rows: past TRIGRAM_PROBE_SECONDS it counts as dense.
    return Term(driver, row_test, driver, pg_plan.text_probe(_like_pattern(text), which),
                probe_seconds=TRIGRAM_PROBE_SECONDS)


def _prefix_term(column: pw.Field, prefix: str, indexed: bool = True) -> Term:
    cond = _prefix_range(column, prefix)
    if cond is NOTHING or not indexed:
        return Term(cond, cond)
    return Term(cond, cond, cond, _sql(Endpoint.select(pw.SQL("1")).where(cond)))


def _indexed_term(cond: pw.Expression, covered: bool = False) -> Term:
    """A condition on the endpoint's own indexed columns: it drives, and is probed, as is."""
    return Term(cond, cond, cond, _sql(Endpoint.select(pw.SQL("1")).where(cond)), covered)


def token_term(tok: Token, excluded: Sequence[str] = ()) -> Term:
    """The forms of one search token, not negated (``Term``); ``excluded``: the prefixes of
    the same field (``imsi:``, ``eid:``) negated elsewhere in the search, which its driver
    leaves out of its index ranges (an ``eid:8 -eid:8904903`` drives on what is left)."""
    fld, value = tok.field, tok.value
    if fld in ("state", "group"):
        return _indexed_term(_token_condition(tok), covered=True)
    if fld == "tag":
        tag = value.lower()
        cond = _token_condition(tok)
        # The tags copy on the row, space-joined: " a b c " holds " b ".
        padded = pw.NodeList((pw.Value(" "), pw.SQL("||"), Endpoint.tags, pw.SQL("||"),
                              pw.Value(" ")), glue=" ")
        # The tag anywhere first (no string built): most rows fail there.
        find = pw.fn.instr if is_sqlite() else pw.fn.strpos
        row_test = (find(Endpoint.tags, tag) > 0) & (find(padded, " " + tag + " ") > 0)
        probe = _sql(EndpointTag.select(pw.SQL("1")).where(EndpointTag.tag == tag))
        return Term(cond, row_test, cond, probe, on_name_index=True, tag=(tag, False))
    if fld == "imsi":
        rng = _prefix_range(Imsi.imsi, _digits(value))
        if rng is NOTHING:
            return Term(NOTHING, NOTHING)
        cond = _token_condition(tok)
        row_test = pw.fn.EXISTS(
            Sim.select(pw.SQL("1")).join(Imsi, on=(Imsi.sim == Sim.id))
            .where((Sim.endpoint == Endpoint.id) & rng))
        if excluded:
            left = in_spans(Imsi.imsi, prefix_spans(_digits(value), excluded))
            driver = sim_endpoints(Sim.id.in_(Imsi.select(Imsi.sim).where(left))) & row_test
            return Term(cond, row_test, driver, _sql(Imsi.select(pw.SQL("1")).where(left)),
                        needs_sim=True)
        return Term(cond, row_test, cond, _sql(Imsi.select(pw.SQL("1")).where(rng)),
                    needs_sim=True)
    if fld == "eid":
        rng = _prefix_range(Sim.eid, _digits(value))
        if rng is NOTHING:
            return Term(NOTHING, NOTHING)
        cond = _token_condition(tok)
        row_test = pw.fn.EXISTS(
            Sim.select(pw.SQL("1")).where((Sim.endpoint == Endpoint.id) & rng))
        if excluded:
            left = in_spans(Sim.eid, prefix_spans(_digits(value), excluded))
            return Term(cond, row_test, sim_endpoints(left) & row_test,
                        _sql(Sim.select(pw.SQL("1")).where(left)), needs_sim=True)
        return Term(cond, row_test, cond, _sql(Sim.select(pw.SQL("1")).where(rng)),
                    needs_sim=True, eid=(_digits(value), False))
    if fld == "imei":
        return _prefix_term(Endpoint.imei_lock, re.sub(r"[\s\-/]", "", value))
    if fld == "ip":
        # Its index leaves out terminated endpoints: no driver.
        return _prefix_term(Endpoint.static_ip, value.strip(), indexed=False)
    if fld == "iccid":
        return _prefix_term(Endpoint.iccid, _digits(value).rstrip("Ff") or value)
    if fld == "name":
        return _text_term(value, Endpoint.name)
    if fld == "ref":
        return _text_term(value, Endpoint.reference)
    text = _text_term(value)
    digits = _digits(value)
    if digits.isdigit() and digits.isascii():
        iccid = _prefix_term(Endpoint.iccid, digits)
        where = iccid.where | text.where
        row_test = iccid.row_test | text.row_test
        if text.driver is None or text.probe is None or iccid.probe is None:
            return Term(where, row_test)
        probe = (iccid.probe[0] + " UNION ALL " + text.probe[0], iccid.probe[1] + text.probe[1])
        assert iccid.driver is not None
        driver = iccid.driver | text.driver
        if not is_sqlite():
            # PostgreSQL reads an OR of two indexes' matches by neither: one set of ids.
            driver = Endpoint.id.in_(Endpoint.select(Endpoint.id).where(iccid.where)
                                     | Endpoint.select(Endpoint.id).where(text.driver))
        return Term(where, row_test, driver, probe, either=(iccid, text))
    return text


def _outside_range(column: pw.Field, prefix: str, *, set_only: bool) -> pw.Expression:
    """``column`` does not start with ``prefix`` (a printable one), as two index ranges;
    ``set_only`` leaves out the empty value (an endpoint without a SIM has ICCID '')."""
    low = (column > "") & (column < prefix) if set_only else column < prefix
    end = prefix_end(prefix)
    return low if end is None else low | (column >= end)


def _iccid_prefix(tok: Token) -> str | None:
    """The ICCID prefix a token names (``iccid:…``, or a free word of digits)."""
    if tok.field == "iccid":
        return _digits(tok.value).rstrip("Ff") or tok.value
    digits = _digits(tok.value)
    if tok.field is None and digits.isdigit() and digits.isascii():
        return digits
    return None


def negated_term(tok: Token, *, sim_only: bool = False) -> Term:
    """The forms of a negated token: tested on each row (NOT EXISTS, NOT LIKE), its
    matches never built as a set (PostgreSQL's NOT IN over a large subquery that does not
    fit in memory runs the subquery again for every row). A negated ICCID prefix also
    drives, as the two ranges of the ICCID index around it (``sim_only``: another
    condition needs a SIM, so the empty ICCID is left out of them)."""
    term = token_term(tok)
    test = ~term.row_test
    prefix = _iccid_prefix(tok)
    if prefix is None or not prefix.isprintable():
        columns = term.text_columns
        return Term(test, test, covered=term.covered, on_name_index=term.on_name_index,
                    tag=(term.tag[0], True) if term.tag else None,
                    eid=(term.eid[0], True) if term.eid else None,
                    text_columns=(columns[0], columns[1], True) if columns else None)
    outside = _outside_range(Endpoint.iccid, prefix, set_only=sim_only)
    driver = outside & test
    return Term(test, test, driver, _sql(Endpoint.select(pw.SQL("1")).where(outside)))


def terms(f: Filter) -> list[Term]:
    """The conditions of ``f`` (all of them must hold), each in the planner's forms."""
    out: list[Term] = []
    if f.states:
        out.append(_indexed_term(
            Endpoint.state.in_([parse_state(s).value for s in f.states]), covered=True))
    if f.group:
        out.append(token_term(Token("group", f.group)))
    if f.tag:
        out.append(token_term(Token("tag", f.tag)))
    if f.terminated_before:
        out.append(_indexed_term(Endpoint.terminated_at <= f.terminated_before))
    tokens = tokenize(f.search)
    negated = {fld: [p for t in tokens if t.negated and t.field == fld
                     and (p := _digits(t.value)) and p.isprintable()]
               for fld in ("imsi", "eid")}
    positive = [token_term(tok, negated.get(tok.field or "", [])) if not tok.negated
                else None for tok in tokens]
    sim_only = any(t is not None and t.needs_sim for t in positive)
    for tok, term in zip(tokens, positive, strict=True):
        out.append(term if term is not None else negated_term(tok, sim_only=sim_only))
    return out


def all_of(conds: list[pw.Expression]) -> pw.Expression | None:
    """The conjunction of ``conds``; None when there are none."""
    if not conds:
        return None
    out = conds[0]
    for c in conds[1:]:
        out = out & c
    return out


def condition(f: Filter) -> pw.Expression | None:
    """The WHERE clause for a filter; None when it matches everything."""
    return all_of([t.where for t in terms(f)])


def _where(query: pw.Select, f: Filter) -> pw.Select:
    cond = condition(f)
    return query.where(cond) if cond is not None else query


def endpoint_ids(f: Filter) -> pw.Select:
    """A subquery of the ids of the endpoints that match ``f``."""
    return _where(Endpoint.select(Endpoint.id), f)


#: Ids per bound IN list of a target set's exclusions and additions.
ID_CHUNK = 5000


def target_condition(f: Filter, exclude: Any = (), extra: Any = ()) -> pw.Expression:
    """The endpoints ``f`` matches, less ``exclude``, plus ``extra`` (ids): a mark-all
    with some rows left out and others marked one by one."""
    matched = condition(f)
    cond: pw.Expression = matched if matched is not None else Endpoint.id.is_null(False)
    left_out = sorted(set(exclude))
    for start in range(0, len(left_out), ID_CHUNK):
        cond = cond & Endpoint.id.not_in(bound(left_out[start:start + ID_CHUNK]))
    added = sorted(set(extra) - set(left_out))
    for start in range(0, len(added), ID_CHUNK):
        cond = cond | Endpoint.id.in_(bound(added[start:start + ID_CHUNK]))
    return cond


def target_part_conditions(f: Filter, exclude: Any = (), extra: Any = ()) -> list[Any]:
    """The same set as ``target_condition``, as WHERE clauses that do not overlap: what
    ``f`` matches less ``exclude``, then the ``extra`` ids it does not match (None: every
    endpoint). Each is as quick as the filter alone (an OR across them would cost the
    filter its index), and counts per state add up over them."""
    main = condition(f)
    left_out = sorted(set(exclude))
    for start in range(0, len(left_out), ID_CHUNK):
        out = Endpoint.id.not_in(bound(left_out[start:start + ID_CHUNK]))
        main = out if main is None else main & out
    parts = [main]
    added = sorted(set(extra) - set(left_out))
    matched = condition(f)
    if matched is None:
        return parts  # the filter matches every endpoint: nothing to add
    for start in range(0, len(added), ID_CHUNK):
        # NULL-safe: an endpoint in no group is not matched by group:x, and must be added.
        parts.append(Endpoint.id.in_(bound(added[start:start + ID_CHUNK]))
                     & ~pw.fn.COALESCE(matched, False))
    return parts


def target_parts(f: Filter, exclude: Any = (), extra: Any = ()) -> list[pw.Select]:
    """``target_part_conditions`` as id subqueries."""
    ids = Endpoint.select(Endpoint.id)
    return [ids if c is None else ids.where(c)
            for c in target_part_conditions(f, exclude, extra)]
