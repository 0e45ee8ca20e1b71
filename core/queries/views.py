"""One endpoint: named by id or ICCID, and its full view (SIM, group, history)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import identifiers as ids
from ..errors import NotFound, ValidationError
from ..models import Endpoint, EndpointGroup, Imsi, Sim
from .audit import audit_for, iso
from .endpoints import PAGE, page
from .filters import Filter
from .sims import sim_status


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


def audit_endpoint_id(ref: str) -> int:
    """The endpoint an audit filter names (ICCID or id); a bare id still works once purged."""
    try:
        return int(find_endpoint(ref).id)
    except NotFound:
        text = ref.strip()
        if text.isascii() and text.isdigit() and len(text) < 18:
            return int(text)
        raise


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
