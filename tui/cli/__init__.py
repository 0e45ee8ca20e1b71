"""The ``simdeck`` command line: parses, calls core, formats. It holds no rule of its own.

One module per command group; importing them registers their commands on ``main``.
"""

from __future__ import annotations

from simdeck.tui.cli import (  # noqa: F401
    audit,
    bulk,
    demo,
    endpoints,
    export,
    groups,
    jobs,
    network,
    purge,
    serve,
    settings,
    sims,
    support,
    upkeep,
    users,
)
from simdeck.tui.cli.root import main

__all__ = ["main"]
