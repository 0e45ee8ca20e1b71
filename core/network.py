"""Network events: attach, detach, session start and end, applied to active endpoints.

Events come from the network (a JSONL feed read by a cron job, one event per line:
``{"iccid", "event", "at", "imei"}``) and are applied in order, as the actor
``network``, in transactions of at most 1,000 events.

Decisions:
- Events are facts reported by the network, not an operator's all-or-nothing batch.
  A line that is not JSON, names an unknown ICCID or carries an invalid value is
  reported as a line error and skipped; the other events are still applied.
- An event for an endpoint that is not in lifecycle ``active`` (Active, Idle,
  Detached) is never applied: it is audited as ``rejected`` and counted under the
  endpoint's state (a suspended SIM's traffic is blocked).
- ``attach`` with an IMEI lock set and another IMEI (or none) is audited as
  ``imei_mismatch`` and not applied.
- Events may arrive out of order. An event older than the endpoint's
  ``last_activity`` changes nothing (neither presence nor last_activity, which never
  moves backwards); it is audited as ``stale``.
- ``at`` is ISO 8601 with ``Z`` or an offset (a time without a zone is ambiguous and
  refused), or epoch seconds; missing means now. A time more than a day ahead of this
  host's clock is refused: one event from a device with a wrong clock would otherwise
  make every later event stale.
- The audit ``at`` is when the event was applied; the event's own time is the
  endpoint's ``last_activity``.
- Each applied event is one plain ``UPDATE endpoint … WHERE id = ?`` (its SQL built
  once); the chunk's audit rows are one multi-row INSERT, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import peewee as pw

from . import identifiers as ids
from . import models
from .auth import NETWORK, Actor
from .db import database, retrying
from .errors import InputError, ValidationError
from .importer import insert_rows, stored_time
from .lifecycle import LIVE_ACTIVE, NETWORK_EVENTS, AuditAction, Role, State
from .models import AuditEvent, Endpoint, Sim

#: Events per write transaction.
CHUNK = 1000
#: How far ahead of this host's clock an event's time may be.
FUTURE_TOLERANCE = 24 * 3600


@dataclass
class IngestReport:
    """What an ingest read, applied and rejected."""

    events: int = 0
    applied: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)

    def lines(self, max_errors: int = 50) -> list[str]:
        """A summary in words, then the line errors (at most ``max_errors``)."""
        n_rejected = sum(self.rejected.values())
        head = (
            f"{self.events:,} events: {self.applied:,} applied, {n_rejected:,} rejected, "
            f"{len(self.errors):,} with errors."
        )
        out = [head]
        out += [f"  {n:,} rejected — {why}" for why, n in sorted(self.rejected.items())]
        out += [f"line {line}: {message}" for line, message in self.errors[:max_errors]]
        if len(self.errors) > max_errors:
            out.append(f"… and {len(self.errors) - max_errors} more errors")
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for ``--format json``."""
        return {
            "events": self.events,
            "applied": self.applied,
            "rejected": dict(self.rejected),
            "errors": [{"line": line, "message": message} for line, message in self.errors],
        }


@dataclass(frozen=True)
class _Event:
    """One event, validated."""

    line: int
    iccid: str
    name: str
    at: int
    imei: str | None


# --- validating ---------------------------------------------------------------------


def _parse_at(raw: Any, now: float) -> int:
    """Epoch seconds of an ISO 8601 time with a zone (or epoch seconds); missing → now."""
    if raw is None or raw == "":
        return int(now)
    if isinstance(raw, bool):
        raise ValidationError("at", raw, "is not a time")
    if isinstance(raw, int | float):
        seconds = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                "at", text[:64], "is not an ISO 8601 time such as 2024-05-01T12:00:00Z"
            ) from None
        if when.tzinfo is None:
            raise ValidationError(
                "at", text, "has no time zone: add Z (UTC) or an offset such as +02:00"
            )
        try:
            seconds = when.timestamp()
        except (OverflowError, ValueError, OSError):
            raise ValidationError("at", text, "is not a time after 1970") from None
    else:
        raise ValidationError("at", None, f"must be text, not {type(raw).__name__}")
    if seconds != seconds or seconds < 0:
        raise ValidationError("at", raw, "is not a time after 1970")
    if seconds > now + FUTURE_TOLERANCE:
        raise ValidationError("at", raw, "is more than a day in the future")
    return int(seconds)


def _validate(line: int, obj: Any, now: float) -> _Event:
    """The event of one line, or a ValidationError naming the field."""
    if not isinstance(obj, dict):
        raise ValidationError("event", None, f"must be a JSON object, not {type(obj).__name__}")
    raw_iccid = obj.get("iccid")
    iccid = ids.normalize_iccid("" if raw_iccid is None else raw_iccid)
    raw_name = obj.get("event")
    name = raw_name.strip().lower().replace("-", "_") if isinstance(raw_name, str) else ""
    if name not in NETWORK_EVENTS:
        known = ", ".join(NETWORK_EVENTS)
        shown = raw_name if isinstance(raw_name, str) else json.dumps(raw_name)
        raise ValidationError("event", str(shown)[:64], f"is not one of {known}")
    at = _parse_at(obj.get("at"), now)
    imei_raw = obj.get("imei")
    imei = ids.normalize_imei(imei_raw) if imei_raw not in (None, "") else None
    return _Event(line, iccid, name, at, imei)


def _items(events: Iterable[tuple[int, Any, str]]) -> Iterator[tuple[int, _Event | None, str]]:
    """(line, event or None, error) for each (line, object, read error)."""
    for line, obj, problem in events:
        if problem:
            yield line, None, problem
            continue
        try:
            yield line, _validate(line, obj, time.time()), ""
        except ValidationError as exc:
            yield line, None, str(exc)


# --- applying -----------------------------------------------------------------------


@dataclass
class _Endpoint:
    id: int
    state: str
    imei_lock: str | None
    last_activity: int


def _endpoints(iccids: list[str]) -> dict[str, _Endpoint]:
    """ICCID → its endpoint, for the SIMs linked to one."""
    q = (
        Sim.select(Sim.iccid, Endpoint.id, Endpoint.state, Endpoint.imei_lock,
                   Endpoint.last_activity)
        .join(Endpoint, on=(Sim.endpoint == Endpoint.id))
        .where(Sim.iccid.in_(iccids))
        .tuples()
    )
    return {iccid: _Endpoint(eid, state, lock, int(last or 0))
            for iccid, eid, state, lock, last in q}


def _update_sql() -> str:
    """The one plain UPDATE each applied event runs: state, last_activity, version, time."""
    q, p = database.quote, database.param

    def name(text: str) -> str:
        return f"{q[0]}{text}{q[1]}"

    return (
        f"UPDATE {name(Endpoint._meta.table_name)} SET {name('state')} = {p}, "
        f"{name('last_activity')} = {p}, {name('version')} = {name('version')} + 1, "
        f"{name('updated_at')} = {p} WHERE {name('id')} = {p}"
    )


def _apply_chunk(chunk: list[_Event]) -> tuple[int, Counter[str], list[tuple[int, str]]]:
    """Apply one chunk of events in order; inside a write transaction.

    Returns what it did (applied, rejected by reason, line errors) rather than adding
    to the report, so a transaction retried after a busy database counts once.
    """
    endpoints = _endpoints(sorted({e.iccid for e in chunk}))
    audit: list[tuple[Any, ...]] = []
    now = stored_time(models.utcnow())
    update = _update_sql()
    applied = 0
    rejected: Counter[str] = Counter()
    errors: list[tuple[int, str]] = []
    for ev in chunk:
        ep = endpoints.get(ev.iccid)
        if ep is None:
            errors.append((ev.line, f"ICCID {ev.iccid}: no endpoint has this SIM"))
            continue
        state = ep.state
        with_imei = {"imei": ev.imei} if ev.imei else {}
        if State(state) not in LIVE_ACTIVE:
            label = State(state).label
            rejected[label] += 1
            audit.append((ep.id, ev.iccid, AuditAction.REJECTED, state, state,
                          {"event": ev.name, "reason": f"endpoint is {label}"}))
            continue
        if ev.name == "attach" and ep.imei_lock and ev.imei != ep.imei_lock:
            rejected[AuditAction.IMEI_MISMATCH] += 1
            audit.append((ep.id, ev.iccid, AuditAction.IMEI_MISMATCH, state, state,
                          {"imei": ev.imei, "lock": ep.imei_lock}))
            continue
        if ev.at < ep.last_activity:
            rejected[AuditAction.STALE] += 1
            audit.append((ep.id, ev.iccid, AuditAction.STALE, state, state,
                          {"event": ev.name, "at": _iso(ev.at), **with_imei}))
            continue
        new_state = NETWORK_EVENTS[ev.name].result.value
        database.execute_sql(update, [new_state, ev.at, now, ep.id])
        audit.append((ep.id, ev.iccid, ev.name, state, new_state, with_imei))
        ep.state, ep.last_activity = new_state, ev.at
        applied += 1
    insert_rows(
        AuditEvent,
        [AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.endpoint_id,
         AuditEvent.iccid, AuditEvent.from_state, AuditEvent.to_state, AuditEvent.detail],
        [(now, NETWORK, action, eid, iccid, a, b, json.dumps(d) if d else "")
         for eid, iccid, action, a, b, d in audit],
    )
    return applied, rejected, errors


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(actor: Actor, items: Iterable[tuple[int, Any, str]]) -> IngestReport:
    actor.require(Role.OPERATOR, "apply network events")
    report = IngestReport()

    def valid() -> Iterator[_Event]:
        for line, event, problem in _items(items):
            report.events += 1
            if event is None:
                report.errors.append((line, problem))
            else:
                yield event

    for chunk in pw.chunked(valid(), CHUNK):
        applied, rejected, errors = retrying(partial(_apply_chunk, chunk))
        report.applied += applied
        for key, n in rejected.items():
            report.rejected[key] = report.rejected.get(key, 0) + n
        report.errors.extend(errors)
    report.errors.sort(key=lambda e: e[0])
    return report


def apply_events(actor: Actor, events: Iterable[dict[str, Any]]) -> IngestReport:
    """Apply network events given as dicts; the n-th event's errors are reported as line n."""
    return _run(actor, ((n, obj, "") for n, obj in enumerate(events, start=1)))


def _lines(path: Path, shown: str) -> Iterator[tuple[int, Any, str]]:
    """(line number, parsed JSON, error) for each non-blank line of a JSONL file."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{shown}: cannot read the file: {exc.strerror or exc}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, (
                    f"is not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
                )
                continue
            if not text.strip():
                continue
            try:
                yield number, json.loads(text), ""
            except json.JSONDecodeError as exc:
                yield number, None, f"is not JSON: {exc.msg} at column {exc.colno}"
            except RecursionError:
                yield number, None, "is not JSON: nested too deeply"


def ingest(actor: Actor, path: str | Path) -> IngestReport:
    """Apply the network events of a JSONL file, one event per line."""
    actor.require(Role.OPERATOR, "apply network events")
    shown = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{shown}: no such file")
    return _run(actor, _lines(p, shown))


__all__ = ["IngestReport", "apply_events", "ingest"]
