"""The one sanitiser: every string that came from storage or input passes here to be printed.

A name, a file name, a search or a network event's field may hold terminal control
sequences (OSC 52 sets the clipboard, OSC 0 the window title), console markup or a
spreadsheet formula. Printed as it is, it would act on the reader's terminal or
spreadsheet instead of being read. ``printable`` shows every control character as a
visible escape; ``csv_cell`` defuses formulas as OWASP recommends. The console never
parses stored text as markup (it builds Rich ``Text``); the command line prints only
``printable`` text.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab and newline, DEL and the C1 controls; the bidirectional
# overrides and isolates, which reorder what a reader sees; line and paragraph
# separators; and the byte-order mark / zero-width no-break space.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)
# The same, with tab and newline too: one value on one line.
_CONTROL_OR_BREAK = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: Any, *, multiline: bool = False) -> str:
    """``value`` as text safe for a terminal: every control character shown as an escape.

    With ``multiline`` a newline and a tab stay as they are (a message of several lines);
    otherwise the value stays on one line.
    """
    text = "" if value is None else str(value)
    if text.isprintable():
        # Nearly every value: no control, format or separator character (space aside),
        # so nothing to escape; str.isprintable() says so faster than the pattern.
        return text
    pattern = _CONTROL if multiline else _CONTROL_OR_BREAK
    return pattern.sub(_visible, text)


def json_text(dumped: str) -> str:
    """JSON text (from ``json.dumps``) with every control character left raw by
    ``ensure_ascii=False`` (DEL, C1, bidirectional overrides, separators) as a ``\\uXXXX``
    escape: still the same JSON, and still UTF-8 for every other character.

    Those characters occur only inside JSON strings, where the escape means the same value;
    a newline or tab of the indentation is outside the pattern and stays.
    """
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


#: A cell starting with one of these is read by a spreadsheet as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The same as a set, for a cell's first character (an empty cell has none).
_FORMULA_FIRST = frozenset(FORMULA_START)


def csv_cell(value: Any, *, raw: bool = False) -> str:
    """``value`` as a CSV cell: control characters shown as escapes (``printable``), and a
    leading formula character quoted with ``'``.

    ``raw`` keeps the exact value, for scripts that read the file back (``--raw-csv``).
    """
    # Nearly every cell of an export: text with no control, format or separator character
    # (``printable`` would keep it) that does not start a formula, or a whole number not
    # below zero; each is its own cell, and nothing (None) is an empty one: told at once,
    # before the general path below.
    cls = value.__class__
    if cls is str:
        if value.isprintable() and value[:1] not in _FORMULA_FIRST and not raw:
            return value  # type: ignore[no-any-return]
    elif value is None:
        return ""
    elif cls is int and value >= 0:
        return str(value)
    text = str(value)
    if raw:
        return text
    text = printable(text)
    return "'" + text if text.startswith(FORMULA_START) else text
