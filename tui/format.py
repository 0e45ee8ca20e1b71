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
    "safe", "STATE_GLYPH", "STATE_TONE", "TONE_STYLE", "SIXTEEN_COLOURS", "state_glyph",
    "state_mark", "state_tone", "ago", "clock_time", "number", "parse_iso",
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


#: A mark before each state's word, so the states differ where colours do not (a
#: 16-colour terminal, a monochrome one, an operator who does not tell red from green):
#: filled when traffic may pass, hollow when it may not yet or no more.
STATE_GLYPH: dict[str, str] = {
    State.HOLD.value: "□",
    State.PENDING.value: "◇",
    State.PRE_ACTIVE.value: "▷",
    State.ACTIVE.value: "●",
    State.IDLE.value: "○",
    State.DETACHED.value: "◌",
    State.SUSPENDED.value: "‖",
    State.TERMINATED.value: "×",
}

#: The tones' colours at 16 colours: each state's its own bright ANSI colour (the theme's
#: colours fall to bold white for Active and Suspended alike there). Given as the RGB
#: values of those ANSI colours: Textual draws ``ansi_*`` names through its own palette,
#: whose bright red falls to magenta at 16 colours.
SIXTEEN_COLOURS: dict[str, str] = {
    "text-success": "#55ff55",  # bright green
    "text-error": "#ff5555",  # bright red
    "text-warning": "#ffff55",  # bright yellow
    "text-accent": "#ff55ff",  # bright magenta
    "text-primary": "#55ffff",  # bright cyan
    "text-secondary": "#5555ff",  # bright blue
}


def state_glyph(state: str) -> str:
    """The mark drawn before a state's word (a space for an unknown state)."""
    return STATE_GLYPH.get(state, " ")


def state_mark(state: str) -> str:
    """A state as the console writes it: its mark and its word (``● Active``)."""
    return f"{state_glyph(state)} {state_label(state)}"


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
