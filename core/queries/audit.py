"""The audit trail: an endpoint's history, the audit log's pages by id, typed times."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import peewee as pw

from .. import identifiers as ids
from ..errors import ValidationError
from ..models import AuditEvent, Endpoint
from .endpoints import PAGE


def iso(value: dt.datetime | int | None) -> str | None:
    """A stored time as ISO 8601 UTC, or None."""
    if value is None or value == 0:
        return None
    if isinstance(value, int):
        value = dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def _event(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": iso(row.at),
        "actor": row.actor,
        "action": row.action,
        "endpoint_id": row.endpoint_id,
        "iccid": row.iccid or None,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "detail": json.loads(row.detail) if row.detail else None,
        "job": row.job,
    }


def audit_for(endpoint_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The latest audit events of one endpoint, newest first."""
    q = (
        AuditEvent.select()
        .where(AuditEvent.endpoint_id == endpoint_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [_event(r) for r in q]


_AGE = re.compile(r"(\d{1,6})\s*([smhdw])(?:\s+ago)?")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(field: str, text: str, now: dt.datetime | None = None) -> dt.datetime:
    """A moment typed by an operator: an ISO date or time (UTC unless it says) or an age.

    ``2h``, ``3d``, ``30m ago`` count back from ``now`` (naive UTC, default the clock).
    The result is naive UTC, as stored; a bad value raises a ValidationError naming
    ``field``.
    """
    value = text.strip()
    if not value:
        raise ValidationError(field, None, "is empty; give an ISO date or time, or an age")
    m = _AGE.fullmatch(value.lower())
    try:
        if m:
            base = now if now is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)
            return base - dt.timedelta(**{_AGE_UNITS[m.group(2)]: int(m.group(1))})
        parsed = dt.datetime.fromisoformat(value)
    except OverflowError:
        raise ValidationError(field, ids.shown(value), "is too far from today to be a time") \
            from None
    except ValueError:
        raise ValidationError(
            field, ids.shown(value),
            "is not a time: give an ISO date or time (2024-05-01, 2024-05-01T08:30Z) "
            "or an age such as 30m, 2h, 3d, 1w",
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit log."""

    endpoint_id: int | None = None
    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    #: Only the events a bulk job wrote (the Jobs screen's drill-down).
    job: int | None = None

    def with_endpoint(self, endpoint_id: int | None) -> AuditFilter:
        """The same filter for one endpoint."""
        return replace(self, endpoint_id=endpoint_id)

    def is_empty(self) -> bool:
        """True when every event matches."""
        return (self.endpoint_id is None and not self.actor and not self.action
                and self.since is None and self.until is None and self.job is None)


def _audit_where(q: pw.Select, f: AuditFilter) -> pw.Select:
    if f.endpoint_id is not None:
        q = q.where(AuditEvent.endpoint_id == f.endpoint_id)
    if f.actor:
        q = q.where(AuditEvent.actor == f.actor)
    if f.action:
        q = q.where(AuditEvent.action == f.action)
    if f.since:
        q = q.where(AuditEvent.at >= f.since)
    if f.until:
        q = q.where(AuditEvent.at < f.until)
    if f.job is not None:
        q = q.where(AuditEvent.job == f.job)
    return q


def audit_page(
    f: AuditFilter,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    oldest: bool = False,
    limit: int = PAGE,
) -> list[dict[str, Any]]:
    """Audit events matching ``f``, newest first, keyset-paged by event id.

    ``before_id``: the page of older events; ``after_id``: the newer events just above
    it; ``oldest``: the oldest ``limit`` events. Every page comes back newest first.
    """
    q = _audit_where(AuditEvent.select(), f)
    if before_id is not None:
        q = q.where(AuditEvent.id < before_id)
    if after_id is not None:
        q = q.where(AuditEvent.id > after_id)
    upward = after_id is not None or oldest
    q = q.order_by(AuditEvent.id.asc() if upward else AuditEvent.id.desc()).limit(limit)
    found = [_event(r) for r in q]
    if upward:
        found.reverse()
    return found


def audit_count(f: AuditFilter, *, newer_than: int | None = None) -> int:
    """How many events match ``f`` (only those newer than event ``newer_than`` if given)."""
    q = _audit_where(AuditEvent.select(pw.fn.COUNT(AuditEvent.id)), f)
    if newer_than is not None:
        q = q.where(AuditEvent.id > newer_than)
    return int(q.scalar() or 0)


def audit_id_at(f: AuditFilter, index: int, count: int) -> int | None:
    """The id of the ``index``-th matching event, newest first (``count`` in all).

    Read with one ``LIMIT 1 OFFSET`` on the id order from whichever end is nearer:
    the list's one jump into the middle of a long trail (a scrollbar drag).
    """
    backwards = index > count // 2
    offset = max(0, count - 1 - index if backwards else index)
    q = _audit_where(AuditEvent.select(AuditEvent.id), f)
    q = q.order_by(AuditEvent.id.asc() if backwards else AuditEvent.id.desc())
    found = list(q.limit(1).offset(offset).tuples())
    return int(found[0][0]) if found else None


def endpoint_names(endpoint_ids: Iterable[int]) -> dict[int, str]:
    """The names of these endpoints (those that have one and still exist)."""
    wanted = sorted({i for i in endpoint_ids if i is not None})
    if not wanted:
        return {}
    return {
        eid: name
        for eid, name in Endpoint.select(Endpoint.id, Endpoint.name)
        .where(Endpoint.id.in_(wanted) & (Endpoint.name != ""))
        .tuples()
    }
