"""Where a virtual list's rows come from: keyset pages of one query, read on the reader thread.

A *source* is one query frozen in time: a filter, a sort and a direction. The
virtual list asks it for pages by key and never by a deep OFFSET; it is replaced (not
changed) when the filter or the sort changes. Its methods run on the reader thread
only (they touch the database); the widget only holds rows and keys.

The one exception to "by key" is ``key_at``: when the operator drags the scrollbar
into the middle of a million rows, the list needs the key of row *n*. It reads that
one key with an index-only ``LIMIT 1 OFFSET k`` over the sort columns, from whichever
end is nearer (about 10 ms at 1,000,000 rows, on the index alone), then pages by key
from there as usual.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Protocol, TypeVar

import peewee as pw

from core import queries
from core.errors import SimdeckError
from core.lifecycle import State
from core.models import Endpoint, EndpointGroup, Sim
from core.queries import TOKEN_FIELDS, Filter, Key, Row

R = TypeVar("R")


class Source(Protocol[R]):
    """What the virtual list needs from a query; every method may touch the database."""

    def first(self, limit: int) -> list[R]:
        """The first ``limit`` rows."""
        ...

    def after(self, key: Key, limit: int) -> list[R]:
        """Up to ``limit`` rows just after ``key``."""
        ...

    def before(self, key: Key, limit: int) -> list[R]:
        """Up to ``limit`` rows just before ``key``, in list order."""
        ...

    def last(self, limit: int) -> list[R]:
        """The last ``limit`` rows, in list order."""
        ...

    def count(self) -> int:
        """How many rows the query has."""
        ...

    def position(self, key: Key) -> int:
        """How many rows come before ``key``."""
        ...

    def key_at(self, index: int, count: int) -> Key | None:
        """The key of row ``index`` (``count`` rows in all), for a jump into the middle."""
        ...

    def key(self, row: R) -> Key:
        """A row's place in the order."""
        ...

    def ident(self, row: R) -> Hashable:
        """What stays the same about a row when it changes (its id)."""
        ...

    def fetch(self, ident: Hashable) -> R | None:
        """The row ``ident`` as it is now, or None when gone or no longer matching."""
        ...


# --- endpoints -------------------------------------------------------------------

#: The keyset columns of each sort, in core.queries' order (tests check they agree).
SORT_COLUMNS: dict[str, tuple[pw.Field, ...]] = {
    "iccid": (Endpoint.iccid, Endpoint.id),
    "name": (Endpoint.name, Endpoint.id),
    "state": (Endpoint.state, Endpoint.iccid, Endpoint.id),
    "tags": (Endpoint.tags, Endpoint.id),
    "last_activity": (Endpoint.last_activity, Endpoint.id),
    "id": (Endpoint.id,),
}

class EndpointSource:
    """The endpoint list for one filter and sort, through core.queries."""

    def __init__(self, filter: Filter, sort: str = "iccid", descending: bool = False) -> None:
        self.filter = filter
        self.sort = sort
        self.descending = descending
        #: Set by ``count``: the matching endpoints in each state (the status counts).
        self.state_counts: dict[State, int] | None = None
        self._group_counts: list[tuple[str, int | None, int]] | None = None

    def __repr__(self) -> str:
        return f"EndpointSource({self.filter!r}, {self.sort!r}, descending={self.descending})"

    def first(self, limit: int) -> list[Row]:
        """The first page."""
        return queries.page(self.filter, self.sort, limit=limit, descending=self.descending)

    def after(self, key: Key, limit: int) -> list[Row]:
        """The page after ``key``."""
        return queries.page(
            self.filter, self.sort, after=key, limit=limit, descending=self.descending
        )

    def before(self, key: Key, limit: int) -> list[Row]:
        """The page before ``key``."""
        return queries.page(
            self.filter, self.sort, before=key, limit=limit, descending=self.descending
        )

    def last(self, limit: int) -> list[Row]:
        """The last page."""
        return queries.page(
            self.filter, self.sort, last=True, limit=limit, descending=self.descending
        )

    def count(self) -> int:
        """Matching endpoints; the counts per state come with it, in one query."""
        counts = queries.counts_by_state(self.filter)
        self.state_counts = counts
        self._group_counts = None
        return sum(counts.values())

    def position(self, key: Key) -> int:
        """Matching endpoints before ``key``."""
        if self.sort == "group" and self.descending:
            return self._group_position_descending(key)
        return queries.position(self.filter, self.sort, key, descending=self.descending)

    def _group_position_descending(self, key: Key) -> int:
        # core.queries.position counts the key's own group as "before" when sorted by
        # group descending (see the note to core); this is the same count, corrected:
        # the groups named after the key's, then the key's group above its id.
        name, ident = key
        names = queries.group_names()
        later = [gid for gid, n in names.items() if n > name]
        same = [gid for gid, n in names.items() if n == name]
        cond = Endpoint.group.in_(later) if later else pw.SQL("0 = 1")
        same_cond = Endpoint.group.in_(same) if same else Endpoint.group.is_null()
        cond = cond | (same_cond & (Endpoint.id > ident))
        query = Endpoint.select(pw.fn.COUNT(Endpoint.id)).where(cond)
        where = queries.condition(self.filter)
        if where is not None:
            query = query.where(where)
        return int(query.scalar() or 0)

    def key(self, row: Row) -> Key:
        """The row's sort key."""
        return row.key(self.sort)

    def ident(self, row: Row) -> Hashable:
        """The endpoint id."""
        return row.id

    def fetch(self, ident: Hashable) -> Row | None:
        """The endpoint's list row now, if it still matches the filter."""
        return queries.row(self.filter, int(str(ident)))

    def key_at(self, index: int, count: int) -> Key | None:
        """The key of row ``index``, read from the sort index alone, from the nearer end."""
        if self.sort == "group":
            return self._group_key_at(index)
        cols = SORT_COLUMNS[self.sort]
        backwards = index > count // 2
        offset = count - 1 - index if backwards else index
        reverse = self.descending != backwards
        query = Endpoint.select(*cols)
        cond = queries.condition(self.filter)
        if cond is not None:
            query = query.where(cond)
        query = query.order_by(*[c.desc() if reverse else c.asc() for c in cols])
        found = list(query.limit(1).offset(max(0, offset)).tuples())
        return tuple(found[0]) if found else None

    def _group_key_at(self, index: int) -> Key | None:
        # Sorted by group the list walks the groups by name; count each group once,
        # then find the row by its id inside the group holding ``index``.
        if self._group_counts is None:
            names = queries.group_names()
            query = Endpoint.select(Endpoint.group, pw.fn.COUNT(Endpoint.id))
            cond = queries.condition(self.filter)
            if cond is not None:
                query = query.where(cond)
            per_group = dict(query.group_by(Endpoint.group).tuples())
            segments = [("", None, int(per_group.get(None, 0)))] + sorted(
                (name, gid, int(per_group.get(gid, 0))) for gid, name in names.items()
            )
            self._group_counts = segments
        segments = list(self._group_counts)
        if self.descending:
            segments.reverse()
        for name, gid, n in segments:
            if index < n:
                query = Endpoint.select(Endpoint.id).where(
                    Endpoint.group.is_null() if gid is None else Endpoint.group == gid
                )
                cond = queries.condition(self.filter)
                if cond is not None:
                    query = query.where(cond)
                order = Endpoint.id.desc() if self.descending else Endpoint.id.asc()
                found = list(query.order_by(order).limit(1).offset(index).tuples())
                return (name, found[0][0]) if found else None
            index -= n
        return None


# --- choices and checks ----------------------------------------------------------


def group_choices() -> list[str]:
    """The Endpoint Group names, for the group filter."""
    return [
        name
        for (name,) in EndpointGroup.select(EndpointGroup.name)
        .order_by(EndpointGroup.name)
        .tuples()
    ]


def tag_choices() -> list[str]:
    """The tags in use, for the tag filter."""
    return queries.tags()


_FIELD = re.compile(r"^([A-Za-z_]+):.")


def check_search(f: Filter) -> tuple[str | None, str | None]:
    """``(error, warning)`` for a filter, without touching the database.

    An error (``state:bogus``) means the filter cannot run; a warning (``colour:red``, a
    field the search does not know) means it runs, with the token taken as a word.
    """
    try:
        queries.condition(f)
    except SimdeckError as exc:
        return str(exc), None
    unknown = sorted(
        {
            m.group(1)
            for tok in queries.tokenize(f.search)
            if tok.field is None and (m := _FIELD.match(tok.value))
        }
    )
    if unknown:
        fields = " ".join(f"{name}:" for name in TOKEN_FIELDS)
        shown = ", ".join(f"{u}:" for u in unknown)
        return None, f"{shown} is not a search field, so it is searched as a word; fields: {fields}"
    return None, None


# --- SIMs (the link-SIM picker) ----------------------------------------------------

#: How many SIMs one counting read takes when a search is typed.
_SIM_CHUNK = 5000
#: Sorts after every ICCID (they are digits), for the last page.
_AFTER_ALL = "~"


class SimSource:
    """The SIMs in ``Ready to Activate`` whose ICCID, EID or IMSI starts with ``search``.

    Rows come from ``core.queries.sim_page``, keyed by ICCID. Counting and positions
    page through ``sim_page`` when a search is typed (a prefix narrows the pool fast);
    without one they read the pool's size on the ICCID index.
    """

    def __init__(self, search: str = "") -> None:
        self.search = search.strip()

    def __repr__(self) -> str:
        return f"SimSource({self.search!r})"

    def _page(self, **kw: object) -> list[queries.SimRow]:
        return queries.sim_page(ready_only=True, search=self.search, **kw)  # type: ignore[arg-type]

    def first(self, limit: int) -> list[queries.SimRow]:
        """The first page."""
        return self._page(limit=limit)

    def after(self, key: Key, limit: int) -> list[queries.SimRow]:
        """The page after ``key``."""
        return self._page(after_iccid=key[0], limit=limit)

    def before(self, key: Key, limit: int) -> list[queries.SimRow]:
        """The page before ``key``."""
        return self._page(before_iccid=key[0], limit=limit)

    def last(self, limit: int) -> list[queries.SimRow]:
        """The last page."""
        return self._page(before_iccid=_AFTER_ALL, limit=limit)

    def _walk(self, stop: str | None = None) -> int:
        """Rows with an ICCID below ``stop`` (all when None), a chunk at a time."""
        n, after = 0, None
        while True:
            rows = self._page(after_iccid=after, limit=_SIM_CHUNK)
            if stop is not None:
                below = [r for r in rows if r.iccid < stop]
                n += len(below)
                if len(below) < len(rows):
                    return n
            else:
                n += len(rows)
            if len(rows) < _SIM_CHUNK:
                return n
            after = rows[-1].iccid

    def _ready(self) -> pw.Select:
        return Sim.select().where(Sim.endpoint.is_null())

    def count(self) -> int:
        """SIMs in the pool matching the search."""
        if not self.search:
            return int(queries.sim_counts()["ready"])
        return self._walk()

    def position(self, key: Key) -> int:
        """Matching SIMs before ``key``."""
        if not self.search:
            return int(self._ready().where(Sim.iccid < key[0]).count())
        return self._walk(key[0])

    def key_at(self, index: int, count: int) -> Key | None:
        """The ICCID of row ``index`` (the index alone, without a search)."""
        if self.search:
            after, left = None, index
            while True:
                rows = self._page(after_iccid=after, limit=_SIM_CHUNK)
                if left < len(rows):
                    return (rows[left].iccid,)
                if len(rows) < _SIM_CHUNK:
                    return None
                left -= len(rows)
                after = rows[-1].iccid
        found = list(
            self._ready().select(Sim.iccid).order_by(Sim.iccid).limit(1).offset(index).tuples()
        )
        return (found[0][0],) if found else None

    def key(self, row: queries.SimRow) -> Key:
        """The row's ICCID."""
        return (row.iccid,)

    def ident(self, row: queries.SimRow) -> Hashable:
        """The ICCID."""
        return row.iccid

    def fetch(self, ident: Hashable) -> queries.SimRow | None:
        """The SIM, while it is still in the pool and matches the search."""
        rows = self._page(after_iccid=_before(str(ident)), limit=1)
        return rows[0] if rows and rows[0].iccid == ident else None


def _before(iccid: str) -> str:
    """A string sorting just before ``iccid`` (so ``after`` it is ``iccid`` itself)."""
    return iccid[:-1] + chr(ord(iccid[-1]) - 1) + "~" if iccid else ""
