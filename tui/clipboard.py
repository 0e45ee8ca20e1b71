"""Copying an identifier to the terminal's clipboard (OSC 52), where the terminal has one.

Only our own value is sent: an ICCID, EID or IMSI read from the database, kept to its
letters and digits, so nothing stored can reach the terminal as a control sequence.
Terminals known to ignore OSC 52 (Apple's Terminal, the Linux console, a dumb terminal)
or an operator's ``SIMDECK_CLIPBOARD=off`` turn it off: the value is then shown instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: TERM_PROGRAM values of terminals without OSC 52.
NO_OSC52_PROGRAMS = {"Apple_Terminal": "Apple's Terminal"}
#: TERM values of terminals without OSC 52.
NO_OSC52_TERMS = {"linux": "the Linux console", "dumb": "a dumb terminal"}


def clipboard_off(env: Mapping[str, str] | None = None) -> str | None:
    """Why copying is off here, in words; None when OSC 52 can be sent."""
    env = os.environ if env is None else env
    if env.get("SIMDECK_CLIPBOARD", "").lower() in ("off", "0", "no", "false"):
        return "SIMDECK_CLIPBOARD is off"
    program = NO_OSC52_PROGRAMS.get(env.get("TERM_PROGRAM", ""))
    if program:
        return f"{program} does not take OSC 52"
    term = NO_OSC52_TERMS.get(env.get("TERM", ""))
    if term:
        return f"{term} does not take OSC 52"
    return None


def clean(value: str) -> str:
    """The identifier with anything but ASCII letters and digits taken out."""
    return "".join(c for c in value if c.isascii() and c.isalnum())
