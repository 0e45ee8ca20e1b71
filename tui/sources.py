"""Where a virtual list's rows come from: keyset pages of one query, read on the reader thread.

A *source* is one query frozen in time: a filter, a sort and a direction. The
virtual list asks it for pages by key and never by a deep OFFSET; it is replaced (not
changed) when the filter or the sort changes. Its methods run on the reader thread
only (they touch the database); the widget only holds rows and keys.

The one exception to "by key" is ``key_at``: when the operator drags the scrollbar
into the middle of a million rows, the list needs the key of row *n*. Core's
``queries.key_at`` reads that one key with an index-only ``LIMIT 1 OFFSET k`` over the
sort columns, from whichever end is nearer (about 10 ms at 1,000,000 rows, on the index
alone); the list pages by key from there as usual. Every query is core's: a source
only remembers what it asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Any, Protocol, TypeVar

from simdeck.core import queries
from simdeck.core.errors import SimdeckError
from simdeck.core.lifecycle import State
from simdeck.core.queries import TOKEN_FIELDS, Filter, Key, Row, Segment

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


class EndpointSource:
    """The endpoint list for one filter and sort, through core.queries."""

    def __init__(
        self,
        filter: Filter,
        sort: str = "iccid",
        descending: bool = False,
        *,
        on_estimate: Callable[[EndpointSource, queries.StateCounts], None] | None = None,
    ) -> None:
        self.filter = filter
        self.sort = sort
        self.descending = descending
        #: Set by ``count``: the matching endpoints in each state (the status counts).
        self.state_counts: dict[State, int] | None = None
        #: Told (on the reader thread) of counts estimated while the exact ones are read.
        self.on_estimate = on_estimate
        self._group_counts: list[Segment] | None = None

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
        """Matching endpoints; the counts per state come with it. When counting exactly is
        slow, an estimate goes to ``on_estimate`` first (the next keystroke interrupts the
        exact count, as it interrupts any read it makes useless)."""
        first = queries.counts_by_state_estimate(self.filter)
        if first.approximate:
            if self.on_estimate is not None:
                self.on_estimate(self, first)
            counts = queries.counts_by_state(self.filter)
        else:
            counts = first.counts
        self.state_counts = counts
        self._group_counts = None
        return sum(counts.values())

    def position(self, key: Key) -> int:
        """Matching endpoints before ``key``."""
        return queries.position(self.filter, self.sort, key, descending=self.descending)

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
        if self.sort == "group" and self._group_counts is None:
            # Counted once per count(): a scrollbar drag asks for many keys in a row.
            self._group_counts = queries.group_segments(self.filter)
        return queries.key_at(
            self.filter, self.sort, index, count, descending=self.descending,
            segments=self._group_counts,
        )


# --- choices and checks ----------------------------------------------------------


def group_choices() -> list[str]:
    """The Endpoint Group names, for the group filter."""
    return queries.group_list()


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


# --- SIMs (the link-SIM picker, the SIM inventory) -----------------------------------

#: Sorts after every ICCID (they are digits), for the last page.
_AFTER_ALL = "~"


class SimSource:
    """SIMs whose ICCID, EID or IMSI starts with ``search``, by ICCID.

    By default the SIMs in ``Ready to Activate`` (the link-SIM picker); with
    ``ready_only=False`` every SIM, narrowed by ``status`` (``Ready to Activate`` or a
    linked endpoint's state) — the SIM inventory. Rows, counts, positions and the keys
    of a jump all come from ``core.queries`` (``sim_page``, ``sim_count``,
    ``sim_iccid_at``), keyed by ICCID.
    """

    def __init__(
        self, search: str = "", *, ready_only: bool = True, status: str | None = None,
        totals: bool = False,
    ) -> None:
        self.search = search.strip()
        self.ready_only = ready_only
        self.status = status or None
        #: When asked for, ``count`` also reads the inventory's totals (in the pool, linked).
        self.want_totals = totals
        self.totals: dict[str, int] | None = None

    def __repr__(self) -> str:
        if self.ready_only:
            return f"SimSource({self.search!r})"
        return f"SimSource({self.search!r}, ready_only=False, status={self.status!r})"

    def _where(self) -> dict[str, Any]:
        return {"ready_only": self.ready_only, "search": self.search, "status": self.status}

    def _page(self, **kw: Any) -> list[queries.SimRow]:
        return queries.sim_page(**self._where(), **kw)

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

    def count(self) -> int:
        """Matching SIMs (and the inventory's totals, when asked for)."""
        if self.want_totals:
            self.totals = queries.sim_counts()
        return queries.sim_count(**self._where())

    def position(self, key: Key) -> int:
        """Matching SIMs before ``key``."""
        return queries.sim_count(**self._where(), below_iccid=key[0])

    def key_at(self, index: int, count: int) -> Key | None:
        """The ICCID of row ``index``, for a jump into the middle."""
        found = queries.sim_iccid_at(index, count, **self._where())
        return (found,) if found is not None else None

    def key(self, row: queries.SimRow) -> Key:
        """The row's ICCID."""
        return (row.iccid,)

    def ident(self, row: queries.SimRow) -> Hashable:
        """The ICCID."""
        return row.iccid

    def fetch(self, ident: Hashable) -> queries.SimRow | None:
        """The SIM as it is now, while it still matches (for the picker: is in the pool)."""
        rows = self._page(after_iccid=_before(str(ident)), limit=1)
        return rows[0] if rows and rows[0].iccid == ident else None


def _before(iccid: str) -> str:
    """A string sorting just before ``iccid`` (so ``after`` it is ``iccid`` itself)."""
    return iccid[:-1] + chr(ord(iccid[-1]) - 1) + "~" if iccid else ""
