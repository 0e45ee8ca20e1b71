"""How the console draws a state: its tone, a theme colour name.

The words themselves (state labels, "how long ago", counts, plurals) live in
:mod:`simdeck.tui.text`, shared with the command line; they stay importable from here.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from simdeck.core.lifecycle import State
from simdeck.core.sanitize import printable
from simdeck.tui.text import (
    ago,
    clock_time,
    number,
    parse_iso,
    passes_traffic,
    plural,
    state_label,
    state_meaning,
    when,
)

__all__ = [
    "safe", "STATE_TONE", "TONE_STYLE", "state_tone", "ago", "clock_time", "number", "parse_iso",
    "passes_traffic", "plural", "state_label", "state_meaning", "when",
]

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


def state_tone(state: str) -> str:
    """The tone a state is drawn in."""
    return STATE_TONE.get(state, "muted")


def safe(value: Any, style: str = "", *, multiline: bool = False) -> Text:
    """Stored or typed text as the console shows it: a Rich ``Text``, never read as markup
    (``[/]`` and ``[@click=…]`` are shown as written), every control character shown as an
    escape (``\\e]52``), so a name cannot act on the operator's terminal. For any widget
    (Static, Label, a DataTable cell, an Option, a Select's choice, which finds it as
    typed). ``style``: a Rich style; ``multiline``: newlines and tabs kept. Inside
    ``Content.assemble`` use ``printable`` text instead (a plain str is never markup there)."""
    return Text(printable(value, multiline=multiline), style=style, end="")
