"""The endpoint list: keyset pages, counts per state, positions and keys for the scrollbar.

Pages are fetched by key (``WHERE (sort, id) > (…) LIMIT n``), never by a deep
OFFSET. The one offset is ``key_at``: a scrollbar dragged into the middle of a million
rows needs the key of row *n*, read with ``LIMIT 1 OFFSET k`` over the sort columns'
index alone, from whichever end is nearer; the list pages by key from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import peewee as pw

from ..db import bound
from ..errors import ValidationError
from ..lifecycle import STATES, State
from ..models import Endpoint
from .filters import NOTHING, Filter, _where, endpoint_ids, target_condition
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
        cols = SORT_COLUMNS[sort]
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
