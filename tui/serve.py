"""``simdeck serve``: the same console in a browser, through textual-serve.

Each browser tab runs its own ``simdeck`` process as the OS user who started the
server, so roles apply exactly as in a terminal. It binds to 127.0.0.1 unless told
otherwise: publish it through an SSH tunnel or an authenticating proxy, never bare.
"""

from __future__ import annotations

import shlex
import sys


def console_command(db_url: str | None, read_only: bool) -> str:
    """The command each browser session runs: this Python, this database."""
    parts = [sys.executable, "-m", "simdeck.tui.cli"]
    if db_url:
        parts += ["--db", db_url]
    if read_only:
        parts.append("--read-only")
    return shlex.join(parts)


def serve(db_url: str | None, *, host: str = "127.0.0.1", port: int = 8000,
          read_only: bool = False) -> None:
    """Serve the console at http://host:port until interrupted."""
    from textual_serve.server import Server

    Server(console_command(db_url, read_only), host=host, port=port, title="simdeck").serve()
