"""Single-record changes: create an endpoint, edit it, link a SIM; Endpoint Groups.

Each function checks the role, validates every value through core.identifiers, checks
the transition table, writes the change and its one audit event in one transaction,
and raises a SimdeckError in words when anything is wrong (nothing is written then).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import peewee as pw

from . import identifiers as ids
from . import models
from .auth import Actor
from .db import retrying
from .errors import Conflict, InputError, NotFound, Refused, ValidationError
from .lifecycle import ACTIONS, LIVE, AuditAction, Role, State, resolve
from .models import AuditEvent, Endpoint, EndpointGroup, EndpointTag, Sim
from .queries import EndpointView, find_endpoint, views

#: Passed for a setting that the caller does not change (None means "clear it").
UNSET: Any = object()
MAX_TAGS = 32


def _audit(
    actor: str,
    action: str,
    endpoint: Endpoint | None,
    from_state: str | None,
    to_state: str | None,
    detail: dict[str, Any] | None = None,
    iccid: str | None = None,
) -> None:
    AuditEvent.insert(
        at=models.utcnow(),
        actor=actor,
        action=action,
        endpoint_id=endpoint.id if endpoint else None,
        iccid=iccid if iccid is not None else (endpoint.iccid if endpoint else ""),
        from_state=from_state,
        to_state=to_state,
        detail=json.dumps(detail) if detail else "",
    ).execute()


def _group(name: str | None) -> EndpointGroup | None:
    if name is None or not name.strip():
        return None
    group = EndpointGroup.get_or_none(EndpointGroup.name == name.strip())
    if group is None:
        raise NotFound(f"group {name.strip()}: no Endpoint Group has this name")
    return group


def _check_static_ip(ip: str | None, group: EndpointGroup | None, self_id: int | None) -> None:
    if ip is None:
        return
    if group is not None and group.ip_pool:
        problem = ids.pool_host_problem(ip, group.ip_pool)
        if problem:
            raise ValidationError("static IP", ip, f"{problem} of group {group.name}")
    clash = Endpoint.select(Endpoint.id, Endpoint.iccid, Endpoint.name).where(
        (Endpoint.static_ip == ip) & (Endpoint.state != State.TERMINATED.value)
    )
    if self_id is not None:
        clash = clash.where(Endpoint.id != self_id)
    other = clash.first()
    if other is not None:
        who = other.iccid or other.name or f"endpoint {other.id}"
        raise ValidationError("static IP", ip, f"is already used by {who}")


def _ready_sim(iccid: str) -> Sim:
    norm = ids.normalize_iccid(iccid)
    sim = Sim.get_or_none(Sim.iccid == norm)
    if sim is None:
        raise NotFound(f"ICCID {norm}: no SIM with this ICCID is in the inventory")
    if sim.endpoint_id is not None:
        owner = Endpoint.get_or_none(Endpoint.id == sim.endpoint_id)
        status = State(owner.state).label if owner else "linked"
        raise Refused(
            f"ICCID {norm}: the SIM is {status}, linked to endpoint {sim.endpoint_id}; "
            "only a Ready to Activate SIM can be linked"
        )
    return sim


def _set_tags(endpoint_id: int, tags: list[str]) -> None:
    EndpointTag.delete().where(EndpointTag.endpoint == endpoint_id).execute()
    if tags:
        EndpointTag.insert_many(
            [(t, endpoint_id) for t in tags], fields=[EndpointTag.tag, EndpointTag.endpoint]
        ).execute()


def create_endpoint(
    actor: Actor,
    *,
    name: str = "",
    group: str | None = None,
    tags: Iterable[str] | str = (),
    reference: str = "",
    activate_immediately: bool = True,
    sim: str | None = None,
    static_ip: str | None = None,
    imei_lock: str | None = None,
) -> EndpointView:
    """Create an endpoint: Hold, or with a SIM as *link SIM* says."""
    actor.require(Role.OPERATOR, "create endpoints")
    clean_name = ids.normalize_text("name", name)
    clean_ref = ids.normalize_text("reference", reference)
    clean_tags = ids.normalize_tags(list(tags) if not isinstance(tags, str) else tags)
    ip = ids.normalize_ip(static_ip) if static_ip else None
    imei = ids.normalize_imei(imei_lock) if imei_lock else None

    def do() -> int:
        grp = _group(group)
        _check_static_ip(ip, grp, None)
        linked = _ready_sim(sim) if sim else None
        state = State.HOLD
        if linked is not None:
            state = resolve(
                ACTIONS["link"].transitions[State.HOLD], State.HOLD,
                has_group=grp is not None, activate_immediately=activate_immediately,
            ) or State.HOLD
        now = models.utcnow()
        ep = Endpoint.create(
            name=clean_name, reference=clean_ref, tags=" ".join(clean_tags),
            group=grp, state=state.value, activate_immediately=activate_immediately,
            static_ip=ip, imei_lock=imei, iccid=linked.iccid if linked else "",
            created_at=now, updated_at=now,
        )
        _set_tags(ep.id, clean_tags)
        if linked is not None:
            n = Sim.update(endpoint=ep.id).where(
                (Sim.id == linked.id) & Sim.endpoint.is_null()
            ).execute()
            if n != 1:
                raise Refused(f"ICCID {linked.iccid}: another operator linked this SIM just now")
        detail: dict[str, Any] = {"name": clean_name} if clean_name else {}
        if grp:
            detail["group"] = grp.name
        if linked:
            detail["sim"] = linked.iccid
        _audit(actor.name, AuditAction.CREATED, ep, None, state.value, detail)
        return int(ep.id)

    return views([retrying(do)])[0]


def link_sim(actor: Actor, ref: str | int, sim_iccid: str) -> EndpointView:
    """Link a Ready to Activate SIM to an endpoint in Hold."""
    act = ACTIONS["link"]
    actor.require(act.role, "link SIMs")

    def do() -> int:
        ep = find_endpoint(ref)
        if not act.allowed(ep.state):
            raise Refused(f"endpoint {ep.id}: {act.refusal(ep.state)}")
        sim = _ready_sim(sim_iccid)
        new_state = resolve(
            act.transitions[State.HOLD], State(ep.state),
            has_group=ep.group_id is not None,
            activate_immediately=bool(ep.activate_immediately),
        ) or State.HOLD
        n = Sim.update(endpoint=ep.id).where((Sim.id == sim.id) & Sim.endpoint.is_null()).execute()
        if n != 1:
            raise Refused(f"ICCID {sim.iccid}: another operator linked this SIM just now")
        n = Endpoint.update(
            state=new_state.value, iccid=sim.iccid, version=Endpoint.version + 1,
            updated_at=models.utcnow(),
        ).where((Endpoint.id == ep.id) & (Endpoint.state == State.HOLD.value)).execute()
        if n != 1:
            raise Conflict(f"endpoint {ep.id} changed meanwhile; nothing was linked")
        _audit(actor.name, "link", ep, ep.state, new_state.value, {"sim": sim.iccid},
               iccid=sim.iccid)
        return int(ep.id)

    return views([retrying(do)])[0]


def edit_endpoint(
    actor: Actor,
    ref: str | int,
    *,
    expected_version: int | None = None,
    name: str | None = None,
    reference: str | None = None,
    tags: Iterable[str] | str | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    static_ip: Any = UNSET,
    imei_lock: Any = UNSET,
) -> EndpointView:
    """Change name, tags, reference, static IP or IMEI lock; refuses a stale version."""
    act = ACTIONS["edit"]
    actor.require(act.role, "edit endpoints")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = ids.normalize_text("name", name)
    if reference is not None:
        changes["reference"] = ids.normalize_text("reference", reference)
    if static_ip is not UNSET:
        changes["static_ip"] = ids.normalize_ip(static_ip) if static_ip else None
    if imei_lock is not UNSET:
        changes["imei_lock"] = ids.normalize_imei(imei_lock) if imei_lock else None
    new_tags = None if tags is None else ids.normalize_tags(
        list(tags) if not isinstance(tags, str) else tags
    )
    adding = ids.normalize_tags(list(add_tags))
    removing = {t.strip().lower() for t in remove_tags}

    def do() -> int:
        ep = find_endpoint(ref)
        if not act.allowed(ep.state):
            raise Refused(f"endpoint {ep.id}: {act.refusal(ep.state)}")
        if expected_version is not None and ep.version != expected_version:
            raise Conflict(
                f"endpoint {ep.id} was changed by someone else since you opened it "
                f"(version {expected_version}, now {ep.version}); nothing was saved: "
                "reload it and edit again"
            )
        before = {
            "name": ep.name, "reference": ep.reference, "static_ip": ep.static_ip,
            "imei_lock": ep.imei_lock, "tags": ep.tags,
        }
        row = dict(changes)
        tag_list = new_tags if new_tags is not None else (ep.tags.split() if ep.tags else [])
        if adding or removing or new_tags is not None:
            tag_list = sorted((set(tag_list) | set(adding)) - removing)
            if len(tag_list) > MAX_TAGS:
                raise ValidationError(
                    "tag", None, f"{len(tag_list)} tags, at most {MAX_TAGS} per endpoint"
                )
            row["tags"] = " ".join(tag_list)
        if "static_ip" in row:
            group = EndpointGroup.get_or_none(EndpointGroup.id == ep.group_id)
            _check_static_ip(row["static_ip"], group, ep.id)
        diff = {k: [before[k], v] for k, v in row.items() if before[k] != v}
        if not diff:
            return int(ep.id)
        n = Endpoint.update(
            **row, version=Endpoint.version + 1, updated_at=models.utcnow()
        ).where((Endpoint.id == ep.id) & (Endpoint.version == ep.version)).execute()
        if n != 1:
            raise Conflict(f"endpoint {ep.id} was changed by someone else just now; try again")
        if "tags" in diff:
            _set_tags(ep.id, tag_list)
        _audit(actor.name, "edit", ep, ep.state, ep.state, diff)
        return int(ep.id)

    try:
        return views([retrying(do)])[0]
    except pw.IntegrityError:
        raise ValidationError(
            "static IP", changes.get("static_ip"), "is already used by another endpoint"
        ) from None


def reinstate(actor: Actor, ref: str | int, ticket: str) -> EndpointView:
    """Support: return an endpoint Terminated less than RETENTION_DAYS days ago to its state
    before termination."""
    from .actions import Targets, run

    actor.require(Role.SUPPORT, "reinstate endpoints")
    ticket = ids.normalize_text("ticket", ticket)
    if not ticket:
        raise ValidationError("ticket", ticket, "is required to reinstate an endpoint")
    ep = find_endpoint(ref)
    if ep.state == State.TERMINATED.value and ep.static_ip:
        _check_static_ip(ep.static_ip, None, ep.id)
    result = run(actor, "reinstate", Targets.one(ep.id))
    if not result.applied:
        raise Refused(result.message)

    def note() -> None:
        AuditEvent.update(detail=json.dumps({"ticket": ticket})).where(
            AuditEvent.id == AuditEvent.select(pw.fn.MAX(AuditEvent.id)).where(
                (AuditEvent.endpoint_id == ep.id) & (AuditEvent.action == "reinstate")
            )
        ).execute()

    retrying(note)
    return views([ep.id])[0]


# --- Endpoint Groups ----------------------------------------------------------------


def create_group(
    actor: Actor, name: str, *, description: str = "", apn: str = "", ip_pool: str | None = None
) -> dict[str, Any]:
    """Create an Endpoint Group (admins)."""
    actor.require(Role.ADMIN, "manage Endpoint Groups")
    clean = ids.normalize_group_name(name)
    desc = ids.normalize_text("description", description, 256)
    apn_ = ids.normalize_text("APN", apn, 100)
    pool = ids.normalize_ip_pool(ip_pool) if ip_pool else None

    def do() -> None:
        if EndpointGroup.select().where(EndpointGroup.name == clean).exists():
            raise ValidationError("group name", clean, "is already taken")
        EndpointGroup.create(name=clean, description=desc, apn=apn_, ip_pool=pool)
        _audit(actor.name, AuditAction.GROUP_CREATED, None, None, None,
               {"group": clean, "apn": apn_, "ip_pool": pool})

    retrying(do)
    return _group_dict(clean)


def edit_group(
    actor: Actor,
    name: str,
    *,
    new_name: str | None = None,
    description: str | None = None,
    apn: str | None = None,
    ip_pool: Any = UNSET,
) -> dict[str, Any]:
    """Change an Endpoint Group's name, description, APN or IP pool (admins)."""
    actor.require(Role.ADMIN, "manage Endpoint Groups")
    row: dict[str, Any] = {}
    if new_name is not None:
        row["name"] = ids.normalize_group_name(new_name)
    if description is not None:
        row["description"] = ids.normalize_text("description", description, 256)
    if apn is not None:
        row["apn"] = ids.normalize_text("APN", apn, 100)
    if ip_pool is not UNSET:
        row["ip_pool"] = ids.normalize_ip_pool(ip_pool) if ip_pool else None

    def do() -> str:
        group = _group(name)
        assert group is not None
        if "name" in row and row["name"] != group.name and EndpointGroup.select().where(
            EndpointGroup.name == row["name"]
        ).exists():
            raise ValidationError("group name", row["name"], "is already taken")
        if row.get("ip_pool"):
            outside = [
                ip for (ip,) in Endpoint.select(Endpoint.static_ip).where(
                    (Endpoint.group == group.id) & Endpoint.static_ip.is_null(False)
                    & (Endpoint.state.in_([s.value for s in LIVE]))
                ).tuples() if not ids.ip_in_pool(ip, row["ip_pool"])
            ]
            if outside:
                raise ValidationError(
                    "IP pool", row["ip_pool"],
                    f"leaves {len(outside)} static IPs of the group outside (e.g. {outside[0]})",
                )
        if row:
            EndpointGroup.update(**row).where(EndpointGroup.id == group.id).execute()
            _audit(actor.name, AuditAction.GROUP_EDITED, None, None, None,
                   {"group": group.name, **row})
        return str(row.get("name", group.name))

    return _group_dict(retrying(do))


def delete_group(actor: Actor, name: str) -> None:
    """Delete an Endpoint Group that no endpoint uses (admins)."""
    actor.require(Role.ADMIN, "manage Endpoint Groups")

    def do() -> None:
        group = _group(name)
        assert group is not None
        used = Endpoint.select().where(Endpoint.group == group.id).count()
        if used:
            raise Refused(
                f"group {group.name} still has {used:,} endpoints (terminated ones included); "
                "assign them to another group first"
            )
        EndpointGroup.delete().where(EndpointGroup.id == group.id).execute()
        _audit(actor.name, AuditAction.GROUP_DELETED, None, None, None, {"group": group.name})

    retrying(do)


def _group_dict(name: str) -> dict[str, Any]:
    from .queries import groups_with_counts

    for g in groups_with_counts():
        if g["name"] == name:
            return g
    raise InputError(f"group {name} vanished")
