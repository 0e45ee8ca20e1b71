"""How values read on screen: relative times, counts, states as words with a tone.

Pure functions, no Textual and no database, so every widget shows a value the same way.
"""

from __future__ import annotations

import datetime as dt

from simdeck.core.lifecycle import MEANING, PASSES_TRAFFIC, State

#: The tone of each display state: the name of a theme colour, never a colour itself.
#: The state is always written as a word too, so the tone only reinforces it.
STATE_TONE: dict[str, str] = {
    State.HOLD.value: "muted",
    State.PENDING.value: "warning",
    State.PRE_ACTIVE.value: "secondary",
    State.ACTIVE.value: "success",
    State.IDLE.value: "primary",
    State.DETACHED.value: "accent",
    State.SUSPENDED.value: "error",
    State.TERMINATED.value: "disabled",
}

#: Theme variables for each tone, as Textual content styles (Content markup, Static).
TONE_STYLE: dict[str, str] = {
    "muted": "$foreground-muted",
    "disabled": "$foreground-disabled strike",
    "warning": "$text-warning",
    "secondary": "$text-secondary",
    "success": "bold $text-success",
    "primary": "$text-primary",
    "accent": "$text-accent",
    "error": "bold $text-error",
}


def state_label(state: str) -> str:
    """A stored state as the portal writes it: ``Pre-Active``; unknown values as they are."""
    try:
        return State(state).label
    except ValueError:
        return state


def state_tone(state: str) -> str:
    """The tone a state is drawn in."""
    return STATE_TONE.get(state, "muted")


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
