"""The marked endpoints of the list: explicit ids, or a filter ("everything matching")
less the rows left out of it, plus rows marked one by one."""

from __future__ import annotations

from dataclasses import dataclass, field

from simdeck.core.queries import Filter
from simdeck.tui.format import number


@dataclass(frozen=True)
class Marks:
    """The marked endpoints: explicit ``ids``; or everything ``filter`` matches, less
    ``exclude``, plus ``ids`` (marked one by one, under another filter or before ``*``)."""

    ids: frozenset[int] = field(default_factory=frozenset)
    filter: Filter | None = None
    exclude: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.ids) or self.filter is not None

    def has(self, endpoint_id: int, shown: Filter) -> bool:
        """True when the endpoint is marked (a filter mark covers the rows of that filter)."""
        if endpoint_id in self.ids:
            return True
        if self.filter is not None:
            return self.filter == shown and endpoint_id not in self.exclude
        return False

    def toggled(self, endpoint_id: int, shown: Filter) -> Marks:
        """The marks with one endpoint added or taken away (left out of a mark-all)."""
        if endpoint_id in self.ids:
            return Marks(self.ids - {endpoint_id}, self.filter, self.exclude)
        if self.filter is not None and self.filter == shown:
            if endpoint_id in self.exclude:
                return Marks(self.ids, self.filter, self.exclude - {endpoint_id})
            return Marks(self.ids, self.filter, self.exclude | {endpoint_id})
        return Marks(self.ids | {endpoint_id}, self.filter, self.exclude)

    def with_all(self, shown: Filter) -> Marks:
        """``*``: everything ``shown`` matches, added to the rows marked one by one.
        (A mark-all of another filter is replaced: the screen asks first.)"""
        return Marks(self.ids, shown)

    def count(self) -> int | None:
        """How many are marked, when known without the database (explicit marks)."""
        return len(self.ids) if self.filter is None else None

    def describe(self, shown: Filter, count: int | None) -> str:
        """For the status line: ``3 marked``, ``all 1,234 matching marked``,
        ``all 709,826 matching but 3 marked, and 2 more``."""
        if self.filter is not None:
            but = f" but {number(len(self.exclude))}" if self.exclude else ""
            more = f", and {number(len(self.ids))} more" if self.ids else ""
            if self.filter == shown and count is not None:
                return f"all {number(count)} matching{but} marked{more}"
            return f"marked: all matching {self.filter.describe()}{but}{more}"
        if self.ids:
            return f"{number(len(self.ids))} marked"
        return ""
