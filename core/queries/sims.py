"""SIMs: the link-SIM picker's pool and the SIM inventory, keyset-paged by ICCID."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee as pw

from ..db import is_sqlite
from ..lifecycle import READY_TO_ACTIVATE, STATES, State
from ..models import Endpoint, Imsi, Sim
from .endpoints import PAGE
from .filters import NOTHING, _digits, _prefix_range, parse_state


def sim_status(state: str | None) -> str:
    """A SIM's status as the picker shows it, from its endpoint's state (None: unlinked)."""
    return READY_TO_ACTIVATE if state is None else State(state).label


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
        q = Endpoint.select()
        if join or words:
            q = q.join(Sim, on=(Sim.endpoint == Endpoint.id))
        # Without the join (a count of a state, say 450,000 Active): the endpoint's ICCID
        # is its SIM's (a copy core keeps), so the (state, iccid) index alone answers.
        q = q.where((Endpoint.state == state.value) & (Endpoint.iccid > ""))
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
