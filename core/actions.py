"""Lifecycle actions over a target set: preview, apply in bounded chunks, audit, record a job.

One path serves one endpoint and a million: the rules are SQL read from the transition
table (``outcome_sql``, ``to_state_sql``). More than one endpoint is a job: its ids are
recorded as job items when it starts, then taken CHUNK at a time by their primary key
range; each chunk is one IMMEDIATE transaction that sets the items' outcomes with one
``UPDATE … SET outcome = (SELECT CASE …)``, writes the audit with ``INSERT … SELECT``,
applies the change with one ``UPDATE … WHERE id IN (the chunk's applied items)`` and
moves the job's cursor: no id passes through Python. A job killed between two chunks
has every endpoint wholly before or after, and ``jobs.resume`` carries on after the
last chunk it committed (through ``carry_on``). The ids are recorded in short
transactions too, while the job is *recording* (``_record``); one killed then is
finished recording by ``carry_on`` before anything is applied. Every write of a job
first checks that this process still owns it (``beat``). Deployment settings are in
``settings``; reading and resuming recorded jobs, in ``jobs``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import ipaddress
import json
import operator
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

import peewee as pw

from . import models
from .auth import Actor
from .db import Checkpointer, bound, checkpointing, database, is_sqlite, retrying
from .errors import Busy, InputError, NotFound, Refused, SimdeckError
from .identifiers import ip_in_pool, normalize_ip_pool
from .lifecycle import (
    ACTIONS,
    RETENTION_DAYS,
    Action,
    AuditAction,
    JobStatus,
    Outcome,
    State,
    Target,
)
from .models import AuditEvent, Endpoint, EndpointGroup, EndpointTag, Imsi, Job, JobItem, Sim
from .queries import (
    Filter,
    condition,
    endpoint_ids,
    parse_state,
    target_condition,
    target_part_conditions,
    target_parts,
)
from .settings import allow_resume

#: Endpoints per transaction: small enough that another operator waits well under 0.5 s
#: (a chunk of 4,000 takes 40-120 ms on two busy cores), large enough that the fixed cost
#: of a chunk (building its statements, the commit, the gap) stays a small part of a job.
CHUNK = 4000
#: The pause after each chunk's commit: another operator's write, polling for the lock
#: every millisecond (db.LOCK_POLL_S), gets in here instead of after the whole job.
CHUNK_GAP_S = 0.003
#: Job items recorded per transaction when a job starts (each moves the recording cursor).
ITEMS_PER_TX = 10_000

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

MISSING = "no longer exists"
TOO_RECENT = f"terminated less than {RETENTION_DAYS} days ago"
TOO_OLD = f"terminated {RETENTION_DAYS} days ago or more"
OUTSIDE_POOL = "static IP outside the group's IP pool"
#: A job item's outcome when the action was applied to it (else: why it was skipped).
APPLIED = "applied"
UNKNOWN_STATE = "its state is not one simdeck knows"
#: A single endpoint's result when its state refused the action.
REFUSED = "refused"


@dataclass(frozen=True)
class Targets:
    """The endpoints an action is for: explicit ids (marks, a REF) or all a filter matches,
    less the ids in ``exclude`` and plus those in ``extra`` (both only with a filter)."""

    ids: tuple[int, ...] = ()
    filter: Filter | None = None
    exclude: tuple[int, ...] = ()
    extra: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.filter is None and (self.exclude or self.extra):
            raise InputError("targets: exclusions and additions need a filter")

    @classmethod
    def one(cls, endpoint_id: int) -> Targets:
        """Just one endpoint."""
        return cls(ids=(endpoint_id,))

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Targets:
        """The targets a job was started on, from its params (the filter kind only)."""
        return cls(filter=Filter.from_dict(params["targets"]["filter"]),
                   exclude=tuple(params.get("exclude", ())),
                   extra=tuple(params.get("extra", ())))

    def condition(self) -> Any:
        """The WHERE on Endpoint that picks exactly these endpoints (filter kind)."""
        assert self.filter is not None
        if not self.exclude and not self.extra:
            return Endpoint.id.in_(endpoint_ids(self.filter))
        return target_condition(self.filter, self.exclude, self.extra)

    def parts(self, size: int = 5000) -> list[Any]:
        """The target ids as IN operands: the filter's subquery, or bound lists of ``size``."""
        if self.filter is not None:
            return target_parts(self.filter, self.exclude, self.extra)
        return [bound(part) for part in pw.chunked(sorted(set(self.ids)), size)]

    def is_single(self) -> bool:
        """True for exactly one explicit endpoint."""
        return self.filter is None and len(self.ids) == 1

    def describe(self) -> str:
        """In words, for a preview or a job."""
        if self.filter is not None:
            out = "all matching " + self.filter.describe()
            if self.exclude:
                out += f" but {len(set(self.exclude)):,}"
            if self.extra:
                out += f", and {len(set(self.extra)):,} more"
            return out
        return f"{len(self.ids)} endpoint{'s' if len(self.ids) != 1 else ''}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, stored with the job."""
        if self.filter is not None:
            out: dict[str, Any] = {"filter": self.filter.to_dict()}
            if self.exclude:
                out["exclude"] = len(set(self.exclude))
            if self.extra:
                out["extra"] = len(set(self.extra))
            return out
        return {"ids": len(self.ids)}


def describe_stored(targets: dict[str, Any]) -> str:
    """A job's stored targets (``Targets.to_dict``) in words: ``all endpoints matching
    state idle but 3, and 2 more`` or ``4 endpoints chosen by id``."""
    if "filter" in targets:
        chosen = Filter.from_dict(targets["filter"])
        out = ("all endpoints" if chosen.is_empty()
               else "all endpoints matching " + chosen.describe())
        if targets.get("exclude"):
            out += f" but {int(targets['exclude']):,}"
        if targets.get("extra"):
            out += f", and {int(targets['extra']):,} more"
        return out
    if "ids" in targets:
        n = int(targets["ids"])
        return f"{n:,} endpoint{'s' if n != 1 else ''} chosen by id"
    return "—"


@dataclass
class Preview:
    """What an action would do to a target set, before it is asked for."""

    action: str
    total: int
    eligible: int
    skipped: dict[str, int]

    def lines(self) -> list[str]:
        """The preview in words."""
        act = ACTIONS[self.action]
        out = [f"{act.label}: {self.eligible:,} of {self.total:,} endpoints will change."]
        out += [f"  {n:,} skipped — {reason}" for reason, n in sorted(self.skipped.items())]
        return out


@dataclass
class Result:
    """What an action did: applied, skipped by reason, failed; the job that recorded it."""

    action: str
    applied: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    job: int | None = None
    total: int = 0
    #: A JobStatus, or REFUSED when one endpoint's action was refused.
    status: str = JobStatus.DONE
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """The interface.md result object."""
        return {
            "job": self.job,
            "applied": self.applied,
            "skipped": dict(self.skipped),
            "failed": self.failed,
        }

    def lines(self) -> list[str]:
        """The result in words."""
        label = ACTIONS[self.action].label if self.action in ACTIONS else self.action.capitalize()
        job = f" (job {self.job})" if self.job else ""
        out = [f"{label}{job}: {self.applied:,} applied, "
               f"{sum(self.skipped.values()):,} skipped, {self.failed:,} failed."]
        out += [f"  {n:,} skipped — {reason}" for reason, n in sorted(self.skipped.items())]
        if self.message:
            out.append(self.message)
        return out


# --- the transition table, in SQL ---------------------------------------------------


def _target_sql(target: Target) -> Any:
    if isinstance(target, State):
        return target.value
    if target is Outcome.SAME:
        return Endpoint.state
    ai = Endpoint.activate_immediately == True  # noqa: E712 - SQL, not Python truth
    if target is Outcome.BY_ACTIVATE_IMMEDIATELY:
        return pw.Case(None, [(ai, State.ACTIVE.value)], State.PRE_ACTIVE.value)
    if target is Outcome.BY_GROUP:
        return pw.Case(
            None,
            [(Endpoint.group.is_null(), State.PENDING.value), (ai, State.ACTIVE.value)],
            State.PRE_ACTIVE.value,
        )
    if target is Outcome.BEFORE_TERMINATION:
        return Endpoint.state_before_termination
    return None


def to_state_sql(act: Action) -> Any:
    """The new state of each row as one SQL CASE, read from the transition table."""
    return pw.Case(
        None,
        [(Endpoint.state == src.value, _target_sql(tgt)) for src, tgt in act.transitions.items()],
        Endpoint.state,
    )


# --- one chunk ----------------------------------------------------------------------


@dataclass
class _Run:
    """Everything a chunk needs to know about the action being applied."""

    act: Action
    actor: Actor
    job_id: int | None = None
    group: EndpointGroup | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=models.utcnow)
    #: ``pool_check``'s function, once made.
    _check: Callable[[str | None], bool] | None = field(default=None, repr=False)

    @property
    def cutoff(self) -> dt.datetime:
        return self.now - dt.timedelta(days=RETENTION_DAYS)

    @property
    def pool(self) -> str | None:
        """The IP pool a static IP must be in (assign to a group that has one), else None."""
        if self.act.name == "assign_group" and self.group is not None and self.group.ip_pool:
            return str(self.group.ip_pool)
        return None

    def outside_pool(self, static_ip: str | None) -> bool:
        """True when an otherwise eligible row's static IP is outside the group's pool."""
        return self.pool_check()(static_ip)

    def pool_check(self) -> Callable[[str | None], bool]:
        """``outside_pool`` as one function, with the pool read and parsed once (a bulk
        preview checks 100,000 static IPs)."""
        if self._check is not None:
            return self._check
        pool = self.pool
        if not pool:
            self._check = lambda static_ip: False
            return self._check
        network = ipaddress.ip_network(normalize_ip_pool(pool))
        v4 = (int(network.network_address), int(network.netmask)) \
            if network.version == 4 else None

        def outside(static_ip: str | None) -> bool:
            if not static_ip:
                return False
            # Stored IPs are canonical (identifiers.normalize_ip): a dotted quad is
            # compared as a number, read by the C library rather than ipaddress.
            if v4 is not None and static_ip.count(".") == 3 and ":" not in static_ip:
                try:
                    value = int.from_bytes(socket.inet_aton(static_ip), "big")
                except OSError:
                    pass
                else:
                    return (value & v4[1]) != v4[0]
            return not _in_network(static_ip, network, pool)

        self._check = outside
        return outside


def _in_network(
    ip: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network, pool: str
) -> bool:
    """``identifiers.ip_in_pool`` with the pool parsed once: a bulk job checks 10,000s."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip_in_pool(ip, pool)  # not as stored: its own words for what is wrong
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.version == network.version and address in network


def outcome_sql(run: _Run) -> Any:
    """Each row's outcome as one SQL CASE: APPLIED, or why it is skipped, in words.

    Read from the transition table like ``to_state_sql``; only the IP-pool check of
    assign-group is left to Python (``_Run.outside_pool``), on the few rows with a
    static IP.
    """
    act = run.act
    cases: list[tuple[Any, Any]] = [
        (Endpoint.state == s.value, act.refusal(s)) for s in State if not act.allowed(s)
    ]
    if act.name == "purge":
        recent = Endpoint.terminated_at.is_null() | (Endpoint.terminated_at > run.cutoff)
        cases.append((recent, TOO_RECENT))
    elif act.name == "reinstate":
        old = Endpoint.terminated_at.is_null(False) & (Endpoint.terminated_at <= run.cutoff)
        cases.append((old, TOO_OLD))
    cases.append((Endpoint.state.in_([s.value for s in act.sources]), APPLIED))
    return pw.Case(None, cases, UNKNOWN_STATE)


def _apply_chunk(run: _Run, chunk: Sequence[int]) -> tuple[list[int], Counter[str]]:
    """Apply the action to the eligible endpoints of explicit ids (no job to record them)."""
    rows = list(
        Endpoint.select(Endpoint.id, outcome_sql(run), Endpoint.static_ip)
        .where(Endpoint.id.in_(bound(list(chunk))))
        .tuples()
    )
    skipped: Counter[str] = Counter()
    eligible: list[int] = []
    for eid, outcome, static_ip in rows:
        if outcome == APPLIED and run.outside_pool(static_ip):
            outcome = OUTSIDE_POOL
        if outcome == APPLIED:
            eligible.append(eid)
        else:
            skipped[outcome] += 1
    missing = len(set(chunk)) - len(rows)
    if missing:
        skipped[MISSING] += missing
    if eligible:
        _write(run, bound(eligible))
    return eligible, skipped


def _apply_range(run: _Run, job_id: int, lo: int, hi: int) -> tuple[int, Counter[str]]:
    """Apply the action to the job's items with ``lo < endpoint_id <= hi``; in a transaction.

    Nothing goes through Python but the counts: the items' outcomes are set by one
    ``UPDATE … SET outcome = (SELECT CASE … FROM endpoint)``, then the audit and the change
    are written for the items marked applied, joined by the job's primary key range.
    """
    in_range = (
        (JobItem.job == job_id) & (JobItem.endpoint_id > lo) & (JobItem.endpoint_id <= hi)
    )
    # Outcomes first: they are read from the states before the change.
    # An aggregate over the one row (or none, once purged: then MISSING).
    current = Endpoint.select(pw.fn.COALESCE(pw.fn.MAX(outcome_sql(run)), MISSING)).where(
        Endpoint.id == JobItem.endpoint_id
    )
    JobItem.update(outcome=current).where(in_range).execute()
    if run.pool is not None:
        with_ip = (
            JobItem.select(JobItem.endpoint_id, Endpoint.static_ip)
            .join(Endpoint, on=(Endpoint.id == JobItem.endpoint_id))
            .where(in_range & (JobItem.outcome == APPLIED) & Endpoint.static_ip.is_null(False))
            .tuples()
        )
        outside = [eid for eid, ip in with_ip if run.outside_pool(ip)]
        if outside:
            JobItem.update(outcome=OUTSIDE_POOL).where(
                in_range & JobItem.endpoint_id.in_(bound(outside))
            ).execute()
    counts: Counter[str] = Counter(
        {
            str(outcome): int(n)
            for outcome, n in JobItem.select(JobItem.outcome, pw.fn.COUNT(JobItem.endpoint_id))
            .where(in_range)
            .group_by(JobItem.outcome)
            .tuples()
        }
    )
    applied = counts.pop(APPLIED, 0)
    if applied:
        _write(run, JobItem.select(JobItem.endpoint_id).where(
            in_range & (JobItem.outcome == APPLIED)
        ))
    return applied, counts


def _write(run: _Run, ids: Any) -> None:
    """The set-based statements of one action on rows known to be eligible.

    ``ids`` is an IN operand: a bound list or a subquery of the job's applied items.
    """
    act, now = run.act, run.now
    audit_action = AuditAction.PURGED if act.name == "purge" else act.name
    detail = json.dumps(run.detail) if run.detail else ""
    in_set = Endpoint.id.in_(ids)
    audit_rows = Endpoint.select(
        pw.Value(now),
        pw.Value(run.actor.name),
        pw.Value(audit_action),
        Endpoint.id,
        Endpoint.iccid,
        Endpoint.state,
        to_state_sql(act),
        pw.Value(detail),
        pw.Value(run.job_id),
    ).where(in_set)
    AuditEvent.insert_from(
        audit_rows,
        fields=[
            AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.endpoint_id,
            AuditEvent.iccid, AuditEvent.from_state, AuditEvent.to_state, AuditEvent.detail,
            AuditEvent.job,
        ],
    ).execute()

    if act.name == "purge":
        sims = Sim.select(Sim.id).where(Sim.endpoint.in_(ids))
        Imsi.delete().where(Imsi.sim.in_(sims)).execute()
        Sim.delete().where(Sim.endpoint.in_(ids)).execute()
        EndpointTag.delete().where(EndpointTag.endpoint.in_(ids)).execute()
        Endpoint.delete().where(in_set).execute()
        return

    changes: dict[Any, Any] = {
        Endpoint.state: to_state_sql(act),
        Endpoint.version: Endpoint.version + 1,
        Endpoint.updated_at: now,
    }
    if act.name == "assign_group" and run.group is not None:
        changes[Endpoint.group] = run.group.id
    elif act.name == "delink":
        Sim.update(endpoint=None).where(Sim.endpoint.in_(ids)).execute()
        changes[Endpoint.iccid] = ""
    elif act.name == "terminate":
        changes[Endpoint.state_before_termination] = Endpoint.state
        changes[Endpoint.terminated_at] = now
    elif act.name == "reinstate":
        changes[Endpoint.state_before_termination] = None
        changes[Endpoint.terminated_at] = None
    Endpoint.update(changes).where(in_set).execute()


# --- preview and run ----------------------------------------------------------------


def _prepare(actor: Actor, name: str, group: str | None) -> _Run:
    try:
        act = ACTIONS[name.replace("-", "_")]
    except KeyError:
        raise InputError(f"action {name!r} does not exist") from None
    actor.require(act.role, act.label.lower())
    run = _Run(act, actor)
    if act.name == "resume" and not allow_resume():
        raise Refused(
            "resume is not allowed by this deployment's policy (allow_resume is off): a "
            "Suspended endpoint stays Suspended or is terminated. An admin can change the "
            "policy with: simdeck settings set allow_resume true"
        )
    if act.name == "assign_group":
        if not group:
            raise InputError("assign to group needs a group name")
        run.group = EndpointGroup.get_or_none(EndpointGroup.name == group.strip())
        if run.group is None:
            raise NotFound(f"group {group}: no Endpoint Group has this name")
        run.detail = {"group": run.group.name}
    return run


def preview(actor: Actor, name: str, targets: Targets, *, group: str | None = None) -> Preview:
    """How many of ``targets`` the action would change, and why the others are skipped.

    Whether an endpoint changes depends on its state alone (and, for assign to a group
    with an IP pool, its static IP; for purge and reinstate, when it was terminated), so
    the preview counts the targets per state — the ``(state, iccid)`` index answers that
    for a filter of 700,000 in a few tenths of a second — and reads only the static IPs
    of eligible endpoints that have one. Purge and reinstate classify each row in SQL.
    """
    run = _prepare(actor, name, group)
    if run.act.name in ("purge", "reinstate"):
        return _preview_by_row(run, targets)
    skipped: Counter[str] = Counter()
    total = eligible = 0
    sources = sorted(s.value for s in run.act.sources)
    for where in _target_conditions(targets):
        q = Endpoint.select(Endpoint.state, pw.fn.COUNT(Endpoint.id)).group_by(Endpoint.state)
        for state, n in (q.where(where) if where is not None else q).tuples():
            why = _state_outcome(run, str(state))
            total += n
            if why == APPLIED:
                eligible += n
            else:
                skipped[why] += n
        if run.pool is not None:
            outside = _outside_pool(run, where, sources, only=_states_only(targets))
            if outside:
                eligible -= outside
                skipped[OUTSIDE_POOL] += outside
    if targets.filter is None and total < len(set(targets.ids)):
        skipped[MISSING] += len(set(targets.ids)) - total
        total = len(set(targets.ids))
    return Preview(run.act.name, total, eligible, dict(skipped))


def target_states(targets: Targets) -> dict[str, int]:
    """How many of ``targets`` are in each state (what decides which actions a marked
    set is offered: ``offers.on_marks``), counted as the preview counts them."""
    found: Counter[str] = Counter()
    for where in _target_conditions(targets):
        q = Endpoint.select(Endpoint.state, pw.fn.COUNT(Endpoint.id)).group_by(Endpoint.state)
        for state, n in (q.where(where) if where is not None else q).tuples():
            found[str(state)] += int(n)
    return dict(found)


def _state_outcome(run: _Run, state: str) -> str:
    """What the action does to an endpoint in ``state``: APPLIED, or why it is skipped
    (``outcome_sql``'s CASE for actions that look at nothing but the state)."""
    try:
        known = State(state)
    except ValueError:
        return UNKNOWN_STATE
    if not run.act.allowed(known):
        return run.act.refusal(known)
    return APPLIED if known in run.act.sources else UNKNOWN_STATE


def _states_only(targets: Targets) -> tuple[str, ...] | None:
    """The states, when the targets are every endpoint in them (a filter by state alone,
    or no filter): then the static-IP index answers the pool count by itself."""
    f = targets.filter
    if f is None or targets.exclude or targets.extra or f != Filter(states=f.states):
        return None
    return tuple(parse_state(s).value for s in f.states) or tuple(s.value for s in State)


def _outside_pool(run: _Run, where: Any, sources: list[str], *,
                  only: tuple[str, ...] | None = None) -> int:
    """How many targets (``where``) in ``sources`` states have a static IP outside the
    group's pool.

    An IPv4 pool is a few text prefixes of the stored (canonical) addresses, so one
    count answers it in SQL: the static IPs are walked on ``endpoint_static_ip_state``
    alone (a tenth of the endpoints have one), and only those outside the pool are
    looked up to see whether they are targets (on SQLite ``CROSS JOIN`` keeps the
    planner on those rather than on the filter's state index). Any other pool is
    checked in Python (``_outside_pool_in_python``).
    """
    with_ip = Endpoint.alias("with_ip")
    in_pool = pool_sql(with_ip.static_ip, run.pool or "")
    if in_pool is None:
        return _outside_pool_in_python(run, where, sources)
    if only is not None:
        # Targets chosen by state alone: the index holds all the count needs. The state
        # is compared as an expression (``state || ''``) so that SQLite keeps to the
        # static-IP index rather than walking the state index's 700,000 entries.
        wanted = sorted(set(sources) & set(only))
        if not wanted:
            return 0
        count = with_ip.select(pw.fn.COUNT(pw.SQL("*"))).where(
            with_ip.static_ip.is_null(False) & ~in_pool
            & with_ip.state.concat("").in_(wanted))
        return int(count.scalar() or 0)
    # The states are asked of the row looked up, not of the walk: a condition on
    # ``with_ip.state`` would send the planner down the state index, 700,000 entries.
    cond = (with_ip.static_ip.is_null(False) & ~in_pool & (Endpoint.id == with_ip.id)
            & Endpoint.state.in_(sources))
    if where is not None:
        cond &= where
    q = with_ip.select(pw.fn.COUNT(pw.SQL("*"))).join(Endpoint, pw.JOIN.CROSS).where(cond)
    return int(q.scalar() or 0)


def pool_sql(column: Any, pool: str) -> Any | None:
    """``column`` (a stored static IP) inside the IPv4 ``pool``, as SQL text comparisons:
    a /16 is one prefix (``10.28.``), a /15 two (``10.28.`` ``10.29.``), a /28 sixteen
    addresses. None for a pool that is not IPv4, or is all of it (/0)."""
    try:
        network = ipaddress.ip_network(normalize_ip_pool(pool))
    except (ValueError, SimdeckError):
        return None
    if network.version != 4 or network.prefixlen == 0:
        return None
    octets = str(network.network_address).split(".")
    full, rest = divmod(network.prefixlen, 8)
    if rest == 0:
        if full == 4:
            return column == str(network.network_address)
        prefix = ".".join(octets[:full]) + "."
        return pw.fn.SUBSTR(column, 1, len(prefix)) == prefix
    head = octets[:full]
    first = int(octets[full])
    values = [str(v) for v in range(first, first + 2 ** (8 - rest))]
    if full == 3:
        return column.in_([".".join([*head, v]) for v in values])
    by_length: dict[int, list[str]] = {}
    for v in values:
        prefix = ".".join([*head, v]) + "."
        by_length.setdefault(len(prefix), []).append(prefix)
    parts = [pw.fn.SUBSTR(column, 1, n).in_(found) for n, found in sorted(by_length.items())]
    return reduce(operator.or_, parts)


def _outside_pool_in_python(run: _Run, where: Any, sources: list[str]) -> int:
    """``_outside_pool`` for a pool SQL cannot compare as text (IPv6): every static IP is
    read with its state and id, checked in Python, and those outside are then looked up
    in id order to see whether they are targets."""
    with_ip = Endpoint.alias("with_ip")
    every = (
        Endpoint.select(Endpoint.id, Endpoint.static_ip, Endpoint.state)
        .where(Endpoint.static_ip.is_null(False))
    )
    wanted = set(sources)
    outside_pool = run.pool_check()
    # The driver's rows as they are: peewee's row objects cost more than the check.
    candidates = sorted(
        eid for eid, ip, state in database.execute(every).fetchall()
        if state in wanted and outside_pool(ip)
    )
    outside = 0
    for part in pw.chunked(candidates, 5000):
        q = (
            with_ip.select(pw.fn.COUNT(pw.SQL("*")))
            .join(Endpoint, pw.JOIN.CROSS)
            .where(with_ip.id.in_(bound(part)) & (Endpoint.id == with_ip.id))
        )
        outside += int((q.where(where) if where is not None else q).scalar() or 0)
    return outside


def _target_conditions(targets: Targets) -> list[Any]:
    """The targets as WHERE clauses on the endpoint table: the filter's own condition
    (its indexes, not an ``IN`` of its ids), or ``id IN`` bound lists of explicit ids."""
    if targets.filter is not None:
        return target_part_conditions(targets.filter, targets.exclude, targets.extra)
    return [Endpoint.id.in_(part) for part in targets.parts()]


def _preview_by_row(run: _Run, targets: Targets) -> Preview:
    """The preview with each row classified by ``outcome_sql`` (purge, reinstate)."""
    skipped: Counter[str] = Counter()
    total = eligible = 0
    outcome = outcome_sql(run)
    # With an IP pool, group by static IP too: only those rows need Python's check.
    ip = Endpoint.static_ip if run.pool is not None else pw.Value(None)
    for part in targets.parts():
        q = (
            Endpoint.select(outcome, ip, pw.fn.COUNT(Endpoint.id))
            .where(Endpoint.id.in_(part))
            # By position: PostgreSQL sees a repeated CASE with its own parameters as new.
            .group_by(pw.SQL("1"), pw.SQL("2"))
        )
        for why, static_ip, n in q.tuples():
            total += n
            if why == APPLIED and run.outside_pool(static_ip):
                why = OUTSIDE_POOL
            if why == APPLIED:
                eligible += n
            else:
                skipped[why] += n
    if targets.filter is None and total < len(set(targets.ids)):
        skipped[MISSING] += len(set(targets.ids)) - total
        total = len(set(targets.ids))
    return Preview(run.act.name, total, eligible, dict(skipped))


def run(
    actor: Actor,
    name: str,
    targets: Targets,
    *,
    group: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    recording: Progress | None = None,
) -> Result:
    """Apply action ``name`` to ``targets``; more than one endpoint runs as a recorded job.

    ``recording`` is told how many targets are recorded of how many expected while the
    job records them; ``progress`` how many are processed of the total after that;
    ``cancelled`` is asked between any two transactions of either phase.
    """
    prepared = _prepare(actor, name, group)
    if targets.is_single():
        return _run_single(prepared, targets.ids[0])
    with checkpointing() as checkpointer:
        try:
            job, owner = _start_job(prepared, targets, recording, cancelled)
        except _CancelledWhileRecording as stopped:
            return _cancelled_result(prepared, stopped.job)
        return _process(job, owner, prepared, progress, cancelled, checkpointer)


def _run_single(prepared: _Run, endpoint_id: int) -> Result:
    def do() -> tuple[list[int], Counter[str]]:
        prepared.now = models.utcnow()
        return _apply_chunk(prepared, [endpoint_id])

    applied, skipped = retrying(do)
    result = Result(prepared.act.name, len(applied), dict(skipped), total=1)
    if not applied:
        reason = next(iter(skipped), "not applied")
        result.status = REFUSED
        result.message = f"endpoint {endpoint_id}: {reason}"
    return result


def _insert_items_sql(n: int) -> str:
    """``INSERT INTO job_item … SELECT … WHERE id IN (n marks)``, written out once per size.

    Plain SQL with plain parameters: the driver binds 10,000 ids in C, where the query
    builder would visit each one in Python.
    """
    mark = database.param
    return (
        f"INSERT INTO {JobItem._meta.table_name} (job_id, endpoint_id, iccid)"  # type: ignore[attr-defined]
        f" SELECT {mark}, id, iccid FROM {Endpoint._meta.table_name}"  # type: ignore[attr-defined]
        f" WHERE id IN ({', '.join([mark] * n)})"
    )


#: PostgreSQL's form: the ids as one array parameter (10,000 separate ones cost the
#: server more to plan than the insert itself).
_INSERT_ITEMS_PG = (
    "INSERT INTO job_item (job_id, endpoint_id, iccid)"
    " SELECT %s, id, iccid FROM endpoint WHERE id = ANY(%s::bigint[])"
)


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """What tells this process apart from any other, even one that reuses its pid later:
    the pid, its start time (``/proc/PID/stat`` field 22, clock ticks since boot; None
    where there is no /proc) and the host."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "started": process_started(pid), "host": socket.gethostname()}


def process_started(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot, or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


class TakenOver(Refused):
    """The job was claimed by another process (``jobs resume --force``) while this one ran."""


def _owned(job_id: int, owner: str) -> Any:
    """The WHERE of a job row this process still owns (its params, token included, unchanged)."""
    return (Job.id == job_id) & (Job.params == owner)


def beat(job_id: int, owner: str, **changes: Any) -> None:
    """Inside a write transaction: the heartbeat (and ``changes``) of a job this process
    owns; TakenOver, rolling the transaction back, when another process claimed it."""
    changes.setdefault("heartbeat", models.utcnow())
    if not Job.update(**changes).where(_owned(job_id, owner)).execute():
        holder = json.loads(Job.get_by_id(job_id).params or "{}")
        raise TakenOver(
            f"job {job_id} was taken over by {holder.get('resumed_by', 'another operator')} "
            f"(pid {holder.get('pid')} on {holder.get('host')}); this process stopped"
        )


def job_params(prepared: _Run, targets: Targets) -> dict[str, Any]:
    """The job's params: its targets, group, owner process and a token of that claim."""
    params: dict[str, Any] = {
        "targets": targets.to_dict(),
        "group": prepared.group.name if prepared.group else None,
        **process_identity(),
        "token": uuid.uuid4().hex,
        "recording": True,
    }
    if targets.filter is None:
        # Kept until recording ends, so a recording cut short can be finished.
        params["ids"] = sorted(set(targets.ids))
    else:
        if targets.exclude:
            params["exclude"] = sorted(set(targets.exclude))
        if targets.extra:
            params["extra"] = sorted(set(targets.extra))
    return params


def _start_job(
    prepared: _Run,
    targets: Targets,
    recorded: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> tuple[Job, str]:
    """Create the job, then record the ids it acts on (``_record``); (job, owner params)."""
    params = json.dumps(job_params(prepared, targets))
    job: Job = retrying(
        lambda: Job.create(
            action=prepared.act.name, actor=prepared.actor.name, params=params,
            status=JobStatus.RECORDING,
        )
    )
    prepared.job_id = job.id
    return _record(job.id, params, recorded, cancelled)


def _record_part(
    job_id: int, owner: str, params: dict[str, Any], after: int
) -> tuple[int, int, bool] | None:
    """Record the next ITEMS_PER_TX targets after endpoint id ``after``, with the cursor and
    the heartbeat, in one transaction; (the new cursor, how many were recorded, whether
    more may follow), or None when all are recorded."""

    def do() -> tuple[int, int, bool] | None:
        if "ids" in params:
            ids = params["ids"]
            start = bisect.bisect_right(ids, after)
            part = ids[start:start + ITEMS_PER_TX]
            if not part:
                return None
            if is_sqlite():
                added = database.execute_sql(_insert_items_sql(len(part)),
                                             [job_id, *part]).rowcount
            else:
                added = database.execute_sql(_INSERT_ITEMS_PG, [job_id, part]).rowcount
            top = part[-1]
            more = len(part) == ITEMS_PER_TX
        else:
            rows = _next_targets(job_id, Targets.from_params(params).condition(), after)
            added = database.execute(JobItem.insert_from(
                rows, [JobItem.job, JobItem.endpoint_id, JobItem.iccid])).rowcount
            top = JobItem.select(pw.fn.MAX(JobItem.endpoint_id)).where(
                JobItem.job == job_id
            ).scalar()
            if top is None or top <= after:
                return None
            more = added == ITEMS_PER_TX
        beat(job_id, owner, last_id=top)
        return int(top), max(0, int(added)), more

    return retrying(do)


def _next_targets(job_id: int, cond: pw.Expression | None, after: int) -> pw.Select:
    """The next ITEMS_PER_TX endpoints matching ``cond`` (a target set's condition) after
    id ``after``, by id, as job item rows.

    Walked in id order from ``after`` (``CROSS JOIN`` keeps SQLite's planner on that walk:
    by a state index it would read and sort every match — 700,000 — for each 10,000),
    each endpoint checked against the filter; an ``IN`` of the filter's ids would be
    built again by every transaction.
    """
    walk = Endpoint.alias("walk")
    q = (
        walk.select(pw.Value(job_id), Endpoint.id, Endpoint.iccid)
        .join(Endpoint, pw.JOIN.CROSS)
        .where((Endpoint.id == walk.id) & (walk.id > after))
        .order_by(walk.id)
        .limit(ITEMS_PER_TX)
    )
    return q.where(cond) if cond is not None else q


def _record(
    job_id: int,
    owner: str,
    recorded: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> tuple[Job, str]:
    """Record the job's targets from its cursor (``job.last_id``), ITEMS_PER_TX per
    transaction, then, in one last transaction, its total, its cursor back to 0 for the
    processing, and its params without the recording flag.

    Until that last transaction the job is *recording*: its total is not trusted, and
    a recording cut short (kill -9, a busy database) is finished by ``jobs resume``
    before anything is applied, from the last id it recorded.
    """
    params = json.loads(owner)
    after = int(Job.get_by_id(job_id).last_id)
    expected = _expected(params)
    done = JobItem.select().where(JobItem.job == job_id).count() if after else 0
    if recorded:
        recorded(done, expected)
    while True:
        part = _record_part(job_id, owner, params, after)
        if part is None:
            break
        after, added, more = part
        done += added
        if recorded:
            recorded(done, max(expected, done))
        if not more:
            break
        if cancelled is not None and cancelled():
            # Still recording: a resume records the rest from the cursor, then applies.
            _finish(job_id, owner, JobStatus.CANCELLED,
                    "cancelled by the operator while recording its targets; resume to "
                    "finish it")
            raise _CancelledWhileRecording(Job.get_by_id(job_id))
    wanted = len(params.pop("ids", ())) if "ids" in params else None
    params.pop("recording", None)
    params.pop("exclude", None)
    params.pop("extra", None)
    done = json.dumps(params)

    def finish() -> None:
        total = JobItem.select().where(JobItem.job == job_id).count()
        changes: dict[str, Any] = {"total": total, "last_id": 0, "params": done,
                                   "status": JobStatus.RUNNING}
        if wanted is not None and total < wanted:
            changes["skipped"] = wanted - total
            changes["message"] = (
                f"{wanted - total} endpoints no longer existed when the job started"
            )
        beat(job_id, owner, **changes)

    retrying(finish)
    return Job.get_by_id(job_id), done


class _CancelledWhileRecording(Exception):
    """Cancel was pressed before every target was recorded (``_record``)."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


def _expected(params: dict[str, Any]) -> int:
    """How many targets a recording job is expected to record (the filter's count now)."""
    if "ids" in params:
        return len(params["ids"])
    cond = condition(Filter.from_dict(params["targets"]["filter"]))
    q = Endpoint.select()
    return int((q.where(cond) if cond is not None else q).count())


def _cancelled_result(prepared: _Run, job: Job) -> Result:
    """The result of a job cancelled while it recorded its targets: nothing applied."""
    result = Result(prepared.act.name, job.applied, {}, job.failed, job.id, job.total)
    result.status = JobStatus.CANCELLED
    result.message = f"Cancelled: resume with simdeck jobs resume {job.id}"
    return result


def _chunk_end(job_id: int, after: int) -> int | None:
    """The endpoint id that closes the next chunk of the job after ``after``; None at the end."""
    pending = (JobItem.job == job_id) & (JobItem.endpoint_id > after)
    end = (
        JobItem.select(JobItem.endpoint_id).where(pending)
        .order_by(JobItem.endpoint_id).limit(1).offset(CHUNK - 1).scalar()
    )
    if end is None:  # the last, shorter chunk
        end = JobItem.select(pw.fn.MAX(JobItem.endpoint_id)).where(pending).scalar()
    return int(end) if end is not None else None


def _process(
    job: Job,
    owner: str,
    prepared: _Run,
    progress: Progress | None,
    cancelled: Cancelled | None,
    checkpointer: Checkpointer | None = None,
) -> Result:
    """Apply the job chunk after chunk from its cursor; stop cleanly when cancelled."""
    prepared.job_id = job.id
    done = job.applied + job.skipped + job.failed
    skipped: Counter[str] = Counter(skipped_reasons(job.id))
    result = Result(prepared.act.name, job.applied, dict(skipped), job.failed, job.id, job.total)
    if progress:
        progress(done, job.total)
    while True:
        if cancelled is not None and cancelled():
            _finish(job.id, owner, JobStatus.CANCELLED,
                    "cancelled by the operator; resume to finish it")
            result.status = JobStatus.CANCELLED
            result.message = f"Cancelled: resume with simdeck jobs resume {job.id}"
            break
        hi = _chunk_end(job.id, job.last_id)
        if hi is None:
            _finish(job.id, owner, JobStatus.DONE, "")
            result.status = JobStatus.DONE
            break

        def do(lo: int = job.last_id, hi: int = hi) -> tuple[int, Counter[str]]:
            prepared.now = models.utcnow()
            # Ownership first: a job taken over by another process changes nothing here.
            beat(job.id, owner, heartbeat=prepared.now)
            applied, why = _apply_range(prepared, job.id, lo, hi)
            Job.update(
                applied=Job.applied + applied,
                skipped=Job.skipped + sum(why.values()),
                last_id=hi,
                status=JobStatus.RUNNING,
            ).where(Job.id == job.id).execute()
            return applied, why

        try:
            applied, why = retrying(do)
        except TakenOver as exc:
            result.status = JobStatus.INTERRUPTED
            result.message = str(exc)
            break
        except Busy as exc:
            _finish(job.id, owner, JobStatus.INTERRUPTED, str(exc))
            result.status = JobStatus.INTERRUPTED
            result.message = f"{exc} (resume with simdeck jobs resume {job.id})"
            break
        if checkpointer is not None:
            checkpointer.committed()
        job.last_id = hi
        result.applied += applied
        skipped.update(why)
        done += applied + sum(why.values())
        if progress:
            progress(done, job.total)
        time.sleep(CHUNK_GAP_S)
    result.skipped = dict(skipped)
    return result


def _finish(job_id: int, owner: str, status: JobStatus, message: str) -> None:
    retrying(
        lambda: Job.update(
            status=status, finished_at=models.utcnow(), message=message,
            heartbeat=models.utcnow(),
        ).where(_owned(job_id, owner)).execute()
    )


def skipped_reasons(job_id: int) -> dict[str, int]:
    """How many endpoints the job skipped so far, by reason."""
    q = (
        JobItem.select(JobItem.outcome, pw.fn.COUNT(JobItem.endpoint_id))
        .where((JobItem.job == job_id) & JobItem.outcome.is_null(False)
               & (JobItem.outcome != APPLIED))
        .group_by(JobItem.outcome)
    )
    return {reason: int(n) for reason, n in q.tuples()}


def purge_targets(now: dt.datetime | None = None) -> Targets:
    """The endpoints due for purge: terminated RETENTION_DAYS days ago or more."""
    cutoff = (now or models.utcnow()) - dt.timedelta(days=RETENTION_DAYS)
    return Targets(filter=Filter(states=(State.TERMINATED.value,), terminated_before=cutoff))


def carry_on(
    actor: Actor,
    job_id: int,
    owner: str,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    recording: Progress | None = None,
) -> Result:
    """Finish recording a job's targets if that was cut short, then apply the rest from
    its cursor, as ``actor``. ``owner`` is the job's params as ``jobs.resume`` wrote them
    when it claimed the job for this process (the claim decides whether it may)."""
    params = json.loads(owner)
    prepared = _prepare(actor, Job.get_by_id(job_id).action, params.get("group"))
    prepared.job_id = job_id
    with checkpointing() as checkpointer:
        if params.get("recording"):
            try:
                job, owner = _record(job_id, owner, recording, cancelled)
            except _CancelledWhileRecording as stopped:
                return _cancelled_result(prepared, stopped.job)
        else:
            job = Job.get_by_id(job_id)
        return _process(job, owner, prepared, progress, cancelled, checkpointer)


#: Names that moved to ``jobs`` and ``settings``, still found here until every caller
#: imports them from their new module.
__all__ = ["Targets", "describe_stored", "Preview", "Result", "preview", "run", "carry_on",
           "purge_targets", "process_identity", "TakenOver", "beat"]
