"""Reading endpoints: filters, search tokens, keyset pages, counts per state.

Pages are fetched by key (``WHERE (sort, id) > (…) LIMIT n``), never by a deep
OFFSET; an ICCID prefix is a range on the index; name and reference substrings go
through the trigram index. Every value a user types is bound as a parameter or
quoted as an FTS phrase, so it is matched literally.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import peewee as pw

from . import identifiers as ids
from .db import is_sqlite
from .errors import NotFound, ValidationError
from .lifecycle import READY_TO_ACTIVATE, STATES, State
from .models import AuditEvent, Endpoint, EndpointGroup, EndpointTag, Imsi, Sim

PAGE = 50

SORTS = ("iccid", "name", "state", "group", "tags", "last_activity", "id")

#: Keyset columns for each sort; the index behind each is named in models.INDEXES.
_SORT_COLUMNS: dict[str, tuple[pw.Field, ...]] = {
    "iccid": (Endpoint.iccid, Endpoint.id),
    "name": (Endpoint.name, Endpoint.id),
    "state": (Endpoint.state, Endpoint.iccid, Endpoint.id),
    "tags": (Endpoint.tags, Endpoint.id),
    "last_activity": (Endpoint.last_activity, Endpoint.id),
    "id": (Endpoint.id,),
}

TOKEN_FIELDS = ("state", "group", "tag", "imsi", "eid", "imei", "ip", "iccid", "name", "ref")

Key = tuple[Any, ...]


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
        cols = _SORT_COLUMNS[sort]
        return tuple(values[c.name] for c in cols)


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


def group_names() -> dict[int, str]:
    """Every group's id and name (there are few)."""
    return dict(EndpointGroup.select(EndpointGroup.id, EndpointGroup.name).tuples())


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
) -> list[Row]:
    """Rows in ``sort`` order: the first page, the page after/before a key, or the last page."""
    if sort not in SORTS:
        raise ValidationError("sort", sort, f"is not a column; use one of {', '.join(SORTS)}")
    backwards = before is not None or last
    groups = group_names()
    if sort == "group":
        rows = _group_page(f, before if backwards else after, limit,
                           descending != backwards, groups)
    else:
        cols = _SORT_COLUMNS[sort]
        reverse = descending != backwards
        query = _where(Endpoint.select(*_ROW_COLUMNS), f)
        bound = before if backwards else after
        if bound is not None:
            lhs = pw.Tuple(*cols) if len(cols) > 1 else cols[0]
            rhs = pw.Tuple(*bound) if len(cols) > 1 else bound[0]
            query = query.where(lhs < rhs if reverse else lhs > rhs)
        order = [c.desc() if reverse else c.asc() for c in cols]
        rows = _rows(query.order_by(*order).limit(limit).tuples(), groups)
    if backwards:
        rows.reverse()
    return rows


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
    base = _where(Endpoint.select(*_ROW_COLUMNS), f)
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


def row(f: Filter, endpoint_id: int) -> Row | None:
    """One endpoint's list row as it is now, or None when gone or no longer matching ``f``."""
    query = _where(Endpoint.select(*_ROW_COLUMNS), f).where(Endpoint.id == endpoint_id)
    found = _rows(query.tuples(), group_names())
    return found[0] if found else None


def count(f: Filter) -> int:
    """How many endpoints match ``f``."""
    return int(_where(Endpoint.select(pw.fn.COUNT(Endpoint.id)), f).scalar() or 0)


def counts_by_state(f: Filter) -> dict[State, int]:
    """How many endpoints match ``f`` in each display state (every state present)."""
    query = _where(
        Endpoint.select(Endpoint.state, pw.fn.COUNT(Endpoint.id)), f
    ).group_by(Endpoint.state)
    found = dict(query.tuples())
    return {s: int(found.get(s.value, 0)) for s in STATES}


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
        cols = _SORT_COLUMNS[sort]
        lhs = pw.Tuple(*cols) if len(cols) > 1 else cols[0]
        rhs = pw.Tuple(*key) if len(cols) > 1 else key[0]
        cond = lhs > rhs if descending else lhs < rhs
    return int(_where(Endpoint.select(pw.fn.COUNT(Endpoint.id)), f).where(cond).scalar() or 0)


# --- one endpoint -----------------------------------------------------------------


def find_endpoint(ref: str | int) -> Endpoint:
    """The endpoint an operator names: its id, or the ICCID of its SIM."""
    text = str(ref).strip()
    if not text:
        raise ValidationError("endpoint", text, "is empty; give an ICCID or an endpoint id")
    if text.isascii() and text.isdigit() and len(text) < 18:
        found = Endpoint.get_or_none(Endpoint.id == int(text))
        if found is None:
            raise NotFound(f"endpoint {text}: no endpoint has this id")
        return found
    iccid = ids.normalize_iccid(text)
    sim = Sim.get_or_none(Sim.iccid == iccid)
    if sim is None:
        raise NotFound(f"ICCID {iccid}: no SIM with this ICCID is in the inventory")
    if sim.endpoint_id is None:
        raise NotFound(f"ICCID {iccid}: this SIM is Ready to Activate, linked to no endpoint")
    return Endpoint.get_by_id(sim.endpoint_id)


def iso(value: dt.datetime | int | None) -> str | None:
    """A stored time as ISO 8601 UTC, or None."""
    if value is None or value == 0:
        return None
    if isinstance(value, int):
        value = dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def sim_status(state: str | None) -> str:
    """A SIM's status as the picker shows it, from its endpoint's state (None: unlinked)."""
    return READY_TO_ACTIVATE if state is None else State(state).label


@dataclass
class EndpointView:
    """Every field of one endpoint, its SIM and its group, as the detail pane shows it."""

    id: int
    iccid: str | None
    name: str
    state: str
    group: str | None
    tags: list[str]
    reference: str
    imsis: list[str]
    eid: str | None
    sim_status: str | None
    static_ip: str | None
    imei_lock: str | None
    activate_immediately: bool
    last_activity: str | None
    version: int = 0
    created_at: str | None = None
    updated_at: str | None = None
    terminated_at: str | None = None
    state_before_termination: str | None = None
    group_config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    JSON_KEYS = (
        "id", "iccid", "name", "state", "group", "tags", "reference", "imsis", "eid",
        "sim_status", "static_ip", "imei_lock", "activate_immediately", "last_activity",
    )

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        """The interface.md JSON object (with ``full``, also history and group config)."""
        out = {k: getattr(self, k) for k in self.JSON_KEYS}
        if full:
            out.update(
                version=self.version,
                created_at=self.created_at,
                updated_at=self.updated_at,
                terminated_at=self.terminated_at,
                group_config=self.group_config or None,
                history=self.history,
            )
        return out


def views(endpoint_ids: Sequence[int], *, history: int = 0) -> list[EndpointView]:
    """Full views of the given endpoints, in the given order, fetched in a few queries."""
    if not endpoint_ids:
        return []
    eps = {e.id: e for e in Endpoint.select().where(Endpoint.id.in_(list(endpoint_ids)))}
    sims = {
        s.endpoint_id: s
        for s in Sim.select().where(Sim.endpoint.in_(list(eps)))
    }
    imsis: dict[int, list[str]] = {}
    if sims:
        for sim_id, imsi in (
            Imsi.select(Imsi.sim, Imsi.imsi)
            .where(Imsi.sim.in_([s.id for s in sims.values()]))
            .order_by(Imsi.sim, Imsi.position)
            .tuples()
        ):
            imsis.setdefault(sim_id, []).append(imsi)
    groups = {g.id: g for g in EndpointGroup.select()}
    out = []
    for eid_ in endpoint_ids:
        e = eps.get(eid_)
        if e is None:
            continue
        sim = sims.get(e.id)
        g = groups.get(e.group_id) if e.group_id else None
        view = EndpointView(
            id=e.id,
            iccid=sim.iccid if sim else None,
            name=e.name,
            state=e.state,
            group=g.name if g else None,
            tags=e.tags.split() if e.tags else [],
            reference=e.reference,
            imsis=imsis.get(sim.id, []) if sim else [],
            eid=sim.eid if sim else None,
            sim_status=sim_status(e.state) if sim else None,
            static_ip=e.static_ip,
            imei_lock=e.imei_lock,
            activate_immediately=bool(e.activate_immediately),
            last_activity=iso(e.last_activity),
            version=e.version,
            created_at=iso(e.created_at),
            updated_at=iso(e.updated_at),
            terminated_at=iso(e.terminated_at),
            state_before_termination=e.state_before_termination,
            group_config=(
                {"name": g.name, "description": g.description, "apn": g.apn,
                 "ip_pool": g.ip_pool}
                if g else {}
            ),
        )
        if history:
            view.history = audit_for(e.id, limit=history)
        out.append(view)
    return out


def view(ref: str | int, *, history: int = 10) -> EndpointView:
    """The full view of one endpoint named by id or ICCID."""
    return views([find_endpoint(ref).id], history=history)[0]


def list_views(f: Filter, sort: str = "iccid", limit: int = PAGE) -> list[EndpointView]:
    """Full views of the first ``limit`` endpoints matching ``f``."""
    rows = page(f, sort, limit=limit)
    return views([r.id for r in rows])


# --- audit ------------------------------------------------------------------------


def _event(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": iso(row.at),
        "actor": row.actor,
        "action": row.action,
        "endpoint_id": row.endpoint_id,
        "iccid": row.iccid or None,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "detail": json.loads(row.detail) if row.detail else None,
        "job": row.job,
    }


def audit_for(endpoint_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The latest audit events of one endpoint, newest first."""
    q = (
        AuditEvent.select()
        .where(AuditEvent.endpoint_id == endpoint_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [_event(r) for r in q]



_AGE = re.compile(r"(\d{1,6})\s*([smhdw])(?:\s+ago)?")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(field: str, text: str, now: dt.datetime | None = None) -> dt.datetime:
    """A moment typed by an operator: an ISO date or time (UTC unless it says) or an age.

    ``2h``, ``3d``, ``30m ago`` count back from ``now`` (naive UTC, default the clock).
    The result is naive UTC, as stored; a bad value raises a ValidationError naming
    ``field``.
    """
    value = text.strip()
    if not value:
        raise ValidationError(field, None, "is empty; give an ISO date or time, or an age")
    m = _AGE.fullmatch(value.lower())
    try:
        if m:
            base = now if now is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)
            return base - dt.timedelta(**{_AGE_UNITS[m.group(2)]: int(m.group(1))})
        parsed = dt.datetime.fromisoformat(value)
    except OverflowError:
        raise ValidationError(field, ids.shown(value), "is too far from today to be a time") \
            from None
    except ValueError:
        raise ValidationError(
            field, ids.shown(value),
            "is not a time: give an ISO date or time (2024-05-01, 2024-05-01T08:30Z) "
            "or an age such as 30m, 2h, 3d, 1w",
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def audit_endpoint_id(ref: str) -> int:
    """The endpoint an audit filter names (ICCID or id); a bare id still works once purged."""
    try:
        return int(find_endpoint(ref).id)
    except NotFound:
        text = ref.strip()
        if text.isascii() and text.isdigit() and len(text) < 18:
            return int(text)
        raise


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit log."""

    endpoint_id: int | None = None
    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def with_endpoint(self, endpoint_id: int | None) -> AuditFilter:
        """The same filter for one endpoint."""
        return replace(self, endpoint_id=endpoint_id)

    def is_empty(self) -> bool:
        """True when every event matches."""
        return (self.endpoint_id is None and not self.actor and not self.action
                and self.since is None and self.until is None)


def _audit_where(q: pw.Select, f: AuditFilter) -> pw.Select:
    if f.endpoint_id is not None:
        q = q.where(AuditEvent.endpoint_id == f.endpoint_id)
    if f.actor:
        q = q.where(AuditEvent.actor == f.actor)
    if f.action:
        q = q.where(AuditEvent.action == f.action)
    if f.since:
        q = q.where(AuditEvent.at >= f.since)
    if f.until:
        q = q.where(AuditEvent.at < f.until)
    return q


def audit_page(
    f: AuditFilter,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    oldest: bool = False,
    limit: int = PAGE,
) -> list[dict[str, Any]]:
    """Audit events matching ``f``, newest first, keyset-paged by event id.

    ``before_id``: the page of older events; ``after_id``: the newer events just above
    it; ``oldest``: the oldest ``limit`` events. Every page comes back newest first.
    """
    q = _audit_where(AuditEvent.select(), f)
    if before_id is not None:
        q = q.where(AuditEvent.id < before_id)
    if after_id is not None:
        q = q.where(AuditEvent.id > after_id)
    upward = after_id is not None or oldest
    q = q.order_by(AuditEvent.id.asc() if upward else AuditEvent.id.desc()).limit(limit)
    found = [_event(r) for r in q]
    if upward:
        found.reverse()
    return found


def audit_count(f: AuditFilter, *, newer_than: int | None = None) -> int:
    """How many events match ``f`` (only those newer than event ``newer_than`` if given)."""
    q = _audit_where(AuditEvent.select(pw.fn.COUNT(AuditEvent.id)), f)
    if newer_than is not None:
        q = q.where(AuditEvent.id > newer_than)
    return int(q.scalar() or 0)


def audit_id_at(f: AuditFilter, index: int, count: int) -> int | None:
    """The id of the ``index``-th matching event, newest first (``count`` in all).

    Read with one ``LIMIT 1 OFFSET`` on the id order from whichever end is nearer:
    the list's one jump into the middle of a long trail (a scrollbar drag).
    """
    backwards = index > count // 2
    offset = max(0, count - 1 - index if backwards else index)
    q = _audit_where(AuditEvent.select(AuditEvent.id), f)
    q = q.order_by(AuditEvent.id.asc() if backwards else AuditEvent.id.desc())
    found = list(q.limit(1).offset(offset).tuples())
    return int(found[0][0]) if found else None


def endpoint_names(endpoint_ids: Iterable[int]) -> dict[int, str]:
    """The names of these endpoints (those that have one and still exist)."""
    wanted = sorted({i for i in endpoint_ids if i is not None})
    if not wanted:
        return {}
    return {
        eid: name
        for eid, name in Endpoint.select(Endpoint.id, Endpoint.name)
        .where(Endpoint.id.in_(wanted) & (Endpoint.name != ""))
        .tuples()
    }


# --- SIMs -------------------------------------------------------------------------


@dataclass(frozen=True)
class SimRow:
    """One SIM as the picker and the inventory show it."""

    id: int
    iccid: str
    eid: str | None
    imsi: str
    status: str
    endpoint_id: int | None
    #: Every IMSI of the SIM, in order (``imsi`` is the first).
    imsis: tuple[str, ...] = ()
    #: The linked endpoint's name and stored state (None: Ready to Activate).
    endpoint_name: str | None = None
    state: str | None = None


#: The inventory's Status choices: the pool, then each state a linked endpoint can be in.
SIM_STATUSES: tuple[str, ...] = (READY_TO_ACTIVATE,) + tuple(
    s.label for s in STATES if s is not State.HOLD
)


def _sim_status_filter(status: str | None, ready_only: bool) -> tuple[bool, State | None]:
    """``(pool only, linked endpoint's state)`` for a Status typed loosely."""
    if ready_only:
        return True, None
    if not status or not status.strip():
        return False, None
    if status.lower().replace(" ", "") in ("ready", "readytoactivate"):
        return True, None
    return False, parse_state(status)


def _unindexed(column: pw.Field) -> Any:
    """``column`` as SQLite's planner may not use an index for (``+column``)."""
    return pw.NodeList((pw.SQL("+"), column), glue="") if is_sqlite() else column


def _sim_search(words: list[str], iccid: pw.Field) -> pw.Expression | None:
    """Every word is a prefix of the SIM's ICCID, EID or one of its IMSIs."""
    cond: pw.Expression | None = None
    for word in words:
        digits = _digits(word)
        if digits.isdigit() and digits.isascii():
            term = (
                _prefix_range(iccid, digits)
                | _prefix_range(Sim.eid, digits)
                | Sim.id.in_(Imsi.select(Imsi.sim).where(_prefix_range(Imsi.imsi, digits)))
            )
        else:
            term = NOTHING
        cond = term if cond is None else cond & term
    return cond


#: A search matching at most this many SIMs is read through the ICCID, EID and IMSI
#: indexes and sorted; one matching more walks an ICCID index, where a page is soon found.
_SIM_SORT_AT_MOST = 20_000


def _narrow(words: list[str]) -> bool:
    """True when the search matches few enough SIMs to read them all and sort them."""
    cond = _sim_search(words, Sim.iccid)
    probe = Sim.select(Sim.id).where(cond).limit(_SIM_SORT_AT_MOST + 1)
    return len(list(probe.tuples())) <= _SIM_SORT_AT_MOST


def _sim_query(
    *, ready_only: bool, search: str, status: str | None, join: bool = True
) -> tuple[pw.Select, Any]:
    """The SIMs matching a status and a search, and the ICCID column that orders them.

    SIMs linked to endpoints in one state are read from the endpoint side, through the
    ``endpoint (state, iccid)`` index: ``endpoint.iccid`` is its SIM's ICCID (a copy core
    keeps), so the order and the keys are the same and a rare state is found at once
    among a million SIMs. Other SIMs are read by ICCID (the pool through its partial
    index). A search that matches few SIMs (a whole IMSI or EID, say) is read through
    the ICCID, EID and IMSI indexes instead and sorted: walking the ICCID order would
    pass a million SIMs to fill one page. The ordering column may then be ``+iccid``,
    which keeps SQLite's planner from choosing the walk.
    """
    pool, state = _sim_status_filter(status, ready_only)
    words = search.split()
    narrow = bool(words) and _narrow(words)
    key: Any
    if state is not None and not narrow:
        q = (Endpoint.select().join(Sim, on=(Sim.endpoint == Endpoint.id))
             .where((Endpoint.state == state.value) & (Endpoint.iccid > "")))
        key = Endpoint.iccid
    else:
        q = Sim.select()
        if state is not None:
            q = q.join(Endpoint, on=(Sim.endpoint == Endpoint.id)).where(
                _unindexed(Endpoint.state) == state.value
            )
        elif join:
            q = q.join(Endpoint, pw.JOIN.LEFT_OUTER, on=(Sim.endpoint == Endpoint.id))
        if pool:
            q = q.where(Sim.endpoint.is_null())
        key = Sim.iccid
    cond = _sim_search(words, key if isinstance(key, pw.Field) else Sim.iccid)
    if cond is not None:
        q = q.where(cond)
    if narrow:
        key = _unindexed(Sim.iccid)
    return q, key


def sim_page(
    *,
    ready_only: bool = False,
    search: str = "",
    status: str | None = None,
    after_iccid: str | None = None,
    before_iccid: str | None = None,
    limit: int = PAGE,
) -> list[SimRow]:
    """SIMs by ICCID, keyset-paged; ``ready_only`` is the link-SIM picker's pool."""
    q, key = _sim_query(ready_only=ready_only, search=search, status=status)
    q = q.select(Sim.id, Sim.iccid, Sim.eid, Sim.endpoint, Endpoint.state, Endpoint.name)
    backwards = before_iccid is not None
    if after_iccid is not None:
        q = q.where(key > after_iccid)
    if backwards:
        q = q.where(key < before_iccid)
    q = q.order_by(key.desc() if backwards else key.asc()).limit(limit)
    found = list(q.tuples())
    if backwards:
        found.reverse()
    imsis: dict[int, list[str]] = {}
    if found:
        for sim_id, imsi in (
            Imsi.select(Imsi.sim, Imsi.imsi)
            .where(Imsi.sim.in_([r[0] for r in found]))
            .order_by(Imsi.sim, Imsi.position)
            .tuples()
        ):
            imsis.setdefault(sim_id, []).append(imsi)
    return [
        SimRow(sid, iccid, eid, (imsis.get(sid) or [""])[0],
               sim_status(state) if ep else READY_TO_ACTIVATE, ep,
               imsis=tuple(imsis.get(sid, ())), endpoint_name=name if ep else None,
               state=state if ep else None)
        for sid, iccid, eid, ep, state, name in found
    ]


def sim_count(
    *,
    ready_only: bool = False,
    search: str = "",
    status: str | None = None,
    below_iccid: str | None = None,
) -> int:
    """How many SIMs match (only those with an ICCID below ``below_iccid``, when given)."""
    q, key = _sim_query(ready_only=ready_only, search=search, status=status, join=False)
    q = q.select(pw.fn.COUNT(pw.SQL("*")))
    if below_iccid is not None:
        q = q.where(key < below_iccid)
    return int(q.scalar() or 0)


def sim_iccid_at(
    index: int, count: int, *, ready_only: bool = False, search: str = "",
    status: str | None = None,
) -> str | None:
    """The ICCID of row ``index`` of ``count`` matching SIMs, read from the nearer end."""
    q, key = _sim_query(ready_only=ready_only, search=search, status=status, join=False)
    backwards = index > count // 2
    offset = count - 1 - index if backwards else index
    q = q.select(key).order_by(key.desc() if backwards else key.asc())
    found = list(q.limit(1).offset(max(0, offset)).tuples())
    return str(found[0][0]) if found else None


def sim_counts() -> dict[str, int]:
    """How many SIMs are in the pool and how many are linked."""
    total = Sim.select().count()
    ready = Sim.select().where(Sim.endpoint.is_null()).count()
    return {"ready": ready, "linked": total - ready, "total": total}


def groups_with_counts() -> list[dict[str, Any]]:
    """Every Endpoint Group with its configuration and how many live endpoints it has."""
    counts = dict(
        Endpoint.select(Endpoint.group, pw.fn.COUNT(Endpoint.id))
        .where(Endpoint.group.is_null(False) & (Endpoint.state != State.TERMINATED.value))
        .group_by(Endpoint.group)
        .tuples()
    )
    return [
        {
            "id": g.id,
            "name": g.name,
            "description": g.description,
            "apn": g.apn,
            "ip_pool": g.ip_pool,
            "endpoints": int(counts.get(g.id, 0)),
        }
        for g in EndpointGroup.select().order_by(EndpointGroup.name)
    ]


def tags(prefix: str = "", limit: int = 200) -> list[str]:
    """Tags in use, by name (for the tag filter's choices)."""
    q = EndpointTag.select(EndpointTag.tag).distinct().order_by(EndpointTag.tag).limit(limit)
    if prefix:
        q = q.where(_prefix_range(EndpointTag.tag, prefix.lower()))
    return [t for (t,) in q.tuples()]
