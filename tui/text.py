"""How values read in words, the same in the console and on the command line.

State labels, "how long ago", times, counts and plurals, an audit event's change and
detail. Pure functions: no Textual, no click, no database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from simdeck.core.lifecycle import MEANING, PASSES_TRAFFIC, State


def state_label(state: str | None) -> str:
    """A stored state as the portal writes it: ``Pre-Active``; unknown values as they are."""
    if not state:
        return ""
    try:
        return State(state).label
    except ValueError:
        return state


def state_meaning(state: str) -> str:
    """What the state means, in the lifecycle's words."""
    try:
        return MEANING[State(state)]
    except ValueError:
        return ""


def passes_traffic(state: str) -> str:
    """Whether an endpoint in ``state`` passes traffic, in words."""
    try:
        return PASSES_TRAFFIC[State(state)]
    except ValueError:
        return ""


def ago(then: float | int | None, now: float) -> str:
    """``then`` (epoch seconds; 0 or None is never) relative to ``now``: ``3m ago``."""
    if not then:
        return "never"
    seconds = int(now - then)
    if seconds < 0:
        return "just now" if seconds > -60 else "in future"
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    if seconds < 86400 * 365:
        return f"{seconds // 86400}d ago"
    return f"{seconds // (86400 * 365)}y ago"


def parse_iso(value: str | None) -> float | None:
    """An ISO 8601 UTC time from core (``2025-01-01T00:00:00Z``) as epoch seconds."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def when(value: str | float | None, now: float) -> str:
    """A time as ``3m ago, 14:02 UTC`` (today) or ``5d ago, 2025-01-01``; ``—`` when absent."""
    stamp = parse_iso(value) if isinstance(value, str) or value is None else float(value)
    if not stamp:
        return "—"
    moment = dt.datetime.fromtimestamp(stamp, dt.UTC)
    shown = moment.strftime("%H:%M UTC") if abs(now - stamp) < 86400 else moment.strftime(
        "%Y-%m-%d"
    )
    return f"{ago(stamp, now)}, {shown}"


def clock_time(now: float) -> str:
    """``now`` as the wall-clock time of day, UTC, for "updated at"."""
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%H:%M:%S UTC")


def number(n: int) -> str:
    """A count with thousands separators: ``1,000,000``."""
    return f"{n:,}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 endpoint`` / ``2 endpoints``, with separators."""
    return f"{number(n)} {word if n == 1 else (many or word + 's')}"


def change(from_state: str | None, to_state: str | None) -> str:
    """``Active → Suspended``, or one side alone, or empty."""
    if from_state and to_state and from_state != to_state:
        return f"{state_label(from_state)} → {state_label(to_state)}"
    return state_label(to_state or from_state)


def detail_text(detail: Any) -> str:
    """An audit event's detail in one short line."""
    if not detail:
        return ""
    if isinstance(detail, dict):
        return ", ".join(f"{k}={_compact(v)}" for k, v in detail.items())
    return str(detail)


def _compact(value: Any) -> str:
    if isinstance(value, list) and len(value) == 2:
        return f"{_compact(value[0])}→{_compact(value[1])}"
    return "—" if value in (None, "") else str(value)
