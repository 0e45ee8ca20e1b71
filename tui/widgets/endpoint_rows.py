"""The endpoint list's columns and how one endpoint row reads in them."""

from __future__ import annotations

from collections.abc import Sequence

from simdeck.core.queries import Row
from simdeck.tui.format import ago, state_mark, state_tone
from simdeck.tui.widgets.virtual_list import Cell, Column

#: In this order; ``key`` is the core.queries sort each column stands for.
COLUMNS: tuple[Column, ...] = (
    # Identifiers and names are never cut in the middle (the part searched by is hidden
    # then, and the Name sort looks wrong): the ICCID always whole, a name whole up to 21
    # cells (VM-APAC-ETRON-0000527), longer ones cut at the end.
    Column("iccid", "ICCID", 20, min_width=20),
    Column("name", "Name", 22, min_width=21, grow=3),
    Column("state", "State", 12),
    Column("group", "Group", 19, min_width=8, grow=2, drop=2),
    Column("tags", "Tags", 16, min_width=6, grow=1, drop=3, only_from=90),
    Column("last_activity", "Last activity", 15, min_width=10, drop=1, short="Activity"),
)

#: The order ``s`` cycles through.
SORTS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
SORT_LABELS: dict[str, str] = {c.key: c.label for c in COLUMNS}


def render_endpoint(row: Row, now: float) -> Sequence[Cell]:
    """The cells of one endpoint, in ``COLUMNS`` order."""
    return (
        row.iccid or ("no SIM", "muted"),
        row.name or ("—", "muted"),
        (state_mark(row.state), state_tone(row.state)),
        row.group or ("no group", "muted"),
        row.tags,
        ago(row.last_activity, now) if row.last_activity else ("never", "muted"),
    )
