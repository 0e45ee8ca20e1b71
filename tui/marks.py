"""The marked endpoints of the list: explicit ids, or a filter ("everything matching")."""

from __future__ import annotations

from dataclasses import dataclass, field

from simdeck.core.queries import Filter
from simdeck.tui.format import number


@dataclass(frozen=True)
class Marks:
    """The marked endpoints: explicit ids, or everything a filter matches."""

    ids: frozenset[int] = field(default_factory=frozenset)
    filter: Filter | None = None

    def __bool__(self) -> bool:
        return bool(self.ids) or self.filter is not None

    def has(self, endpoint_id: int, shown: Filter) -> bool:
        """True when the endpoint is marked (a filter mark covers the rows of that filter)."""
        if self.filter is not None:
            return self.filter == shown
        return endpoint_id in self.ids

    def toggled(self, endpoint_id: int) -> Marks:
        """The marks with one endpoint added or taken away."""
        if endpoint_id in self.ids:
            return Marks(self.ids - {endpoint_id})
        return Marks(self.ids | {endpoint_id})

    def describe(self, shown: Filter, count: int | None) -> str:
        """For the status line: ``3 marked`` or ``all 1,234 matching marked``."""
        if self.filter is not None:
            if self.filter == shown and count is not None:
                return f"all {number(count)} matching marked"
            return f"marked: all matching {self.filter.describe()}"
        if self.ids:
            return f"{number(len(self.ids))} marked"
        return ""
