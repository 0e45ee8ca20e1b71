"""Filters and the search box: what the endpoint list shows, as one SQL condition.

An ICCID prefix is a range on the index; name and reference substrings go through the
trigram index. Every value a user types is bound as a parameter or quoted as an FTS
phrase, so it is matched literally.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import peewee as pw

from .. import identifiers as ids
from ..db import bound, is_sqlite
from ..errors import ValidationError
from ..lifecycle import STATES, State
from ..models import Endpoint, EndpointGroup, EndpointTag, Imsi, Sim

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


_TOKEN = re.compile(r'(-?)(?:([a-z]+):)?("([^"]*)"?|\S+)')


def tokenize(search: str) -> list[Token]:
    """Split the search box into tokens; unknown ``field:`` prefixes stay free words."""
    tokens: list[Token] = []
    for m in _TOKEN.finditer(search):
        negated, fld, raw, quoted = m.group(1) == "-", m.group(2), m.group(3), m.group(4)
        value = quoted if quoted is not None else raw
        if fld is not None and fld not in TOKEN_FIELDS:
            value, fld = f"{fld}:{value}", None
        if fld is None and negated and not value:
            continue
        if not value:
            continue
        tokens.append(Token(fld, value, negated))
    return tokens


#: A condition that matches no row.
NOTHING = pw.SQL("1 = 0")


def _prefix_range(column: pw.Field, prefix: str) -> pw.Expression:
    """``column`` starts with ``prefix``, as an index range (no LIKE, no pattern)."""
    if not prefix or not prefix.isprintable():
        return NOTHING
    if prefix[-1] == chr(0x10FFFF):
        return column >= prefix
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (column >= prefix) & (column < upper)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: pw.Field, text: str) -> pw.Expression:
    """Literal substring, case-insensitive, by a scan (for 1 or 2 characters)."""
    pattern = "%" + _like_escape(text) + "%"
    # Peewee writes ILIKE as LIKE on SQLite (its LIKE would become GLOB, which has no ESCAPE).
    return pw.Expression(column, pw.OP.ILIKE, pw.NodeList((pattern, pw.SQL("ESCAPE '\\'"))))


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
    return _contains(Endpoint.name, text) | _contains(Endpoint.reference, text)


def _digits(text: str) -> str:
    return re.sub(r"[\s\-]", "", text)


def _sim_endpoints(cond: pw.Expression) -> pw.Expression:
    return Endpoint.id.in_(Sim.select(Sim.endpoint).where(cond & Sim.endpoint.is_null(False)))


def _token_condition(tok: Token) -> pw.Expression:
    fld, value = tok.field, tok.value
    if fld == "state":
        return Endpoint.state == parse_state(value).value
    if fld == "group":
        if value.lower() in ("none", "-"):
            return Endpoint.group.is_null()
        return Endpoint.group.in_(
            EndpointGroup.select(EndpointGroup.id).where(EndpointGroup.name == value)
        )
    if fld == "tag":
        return Endpoint.id.in_(
            EndpointTag.select(EndpointTag.endpoint).where(EndpointTag.tag == value.lower())
        )
    if fld == "imsi":
        return _sim_endpoints(
            Sim.id.in_(Imsi.select(Imsi.sim).where(_prefix_range(Imsi.imsi, _digits(value))))
        )
    if fld == "eid":
        return _sim_endpoints(_prefix_range(Sim.eid, _digits(value)))
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


def condition(f: Filter) -> pw.Expression | None:
    """The WHERE clause for a filter; None when it matches everything."""
    conds: list[pw.Expression] = []
    if f.states:
        conds.append(Endpoint.state.in_([parse_state(s).value for s in f.states]))
    if f.group:
        conds.append(_token_condition(Token("group", f.group)))
    if f.tag:
        conds.append(_token_condition(Token("tag", f.tag)))
    if f.terminated_before:
        conds.append(Endpoint.terminated_at <= f.terminated_before)
    for tok in tokenize(f.search):
        cond = _token_condition(tok)
        conds.append(~cond if tok.negated else cond)
    if not conds:
        return None
    out = conds[0]
    for c in conds[1:]:
        out = out & c
    return out


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


def target_parts(f: Filter, exclude: Any = (), extra: Any = ()) -> list[pw.Select]:
    """The same set as ``target_condition``, as id subqueries that do not overlap: what
    ``f`` matches less ``exclude``, then the ``extra`` ids it does not match. Each part
    is as quick as the filter alone (an OR across them would cost the filter its index)."""
    main = endpoint_ids(f)
    left_out = sorted(set(exclude))
    for start in range(0, len(left_out), ID_CHUNK):
        main = main.where(Endpoint.id.not_in(bound(left_out[start:start + ID_CHUNK])))
    parts = [main]
    added = sorted(set(extra) - set(left_out))
    matched = condition(f)
    if matched is None:
        return parts  # the filter matches every endpoint: nothing to add
    for start in range(0, len(added), ID_CHUNK):
        # NULL-safe: an endpoint in no group is not matched by group:x, and must be added.
        parts.append(Endpoint.select(Endpoint.id).where(
            Endpoint.id.in_(bound(added[start:start + ID_CHUNK]))
            & ~pw.fn.COALESCE(matched, False)))
    return parts
