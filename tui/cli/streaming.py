"""Long outputs streamed from core's exports: to stdout or to a file, with progress.

The rows are read and formatted by :mod:`simdeck.core.export`; this module says where
they go and what the operator sees meanwhile: the rows so far and their rate on stderr
when stderr is a terminal (and not the terminal the rows go to), then one line.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from simdeck.core import export
from simdeck.core.sanitize import printable


def _tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Rows so far and the rate, on stderr, redrawn at most a few times a second."""

    EVERY_S = 0.25

    def __init__(self, noun: str, *, shown: bool) -> None:
        self.noun = noun
        self.shown = shown
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, rows: int) -> None:
        if not self.shown:
            return
        now = time.monotonic()
        if now - self.last < self.EVERY_S:
            return
        self.last = now
        rate = rows / max(now - self.started, 1e-6)
        click.echo(f"\r{rows:,} {self.noun} · {rate:,.0f}/s ", err=True, nl=False)
        self.drawn = True

    def end(self) -> None:
        """Clear the progress line."""
        if self.drawn:
            click.echo("\r\x1b[K", err=True, nl=False, color=True)
            self.drawn = False

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


def _seconds(s: float) -> str:
    return f"{s:,.1f} s" if s < 120 else f"{int(s) // 60} min {int(s) % 60} s"


def summary(n: int, noun: str, where: str, seconds: float) -> str:
    """``Exported 1,000,000 endpoints to all.csv in 7.1 s``."""
    return f"Exported {n:,} {noun} to {printable(where)} in {_seconds(seconds)}"


def to_stdout(source: export.Source, fmt: str, *, raw: bool = False) -> int:
    """Print every row of ``source`` as ``fmt`` on stdout; returns the number of rows.

    Progress shows on stderr only when stderr is a terminal and stdout is not (rows on
    the screen are their own progress). On a terminal, CSV cells are shown printable.
    """
    stdout = sys.stdout
    on_screen = _tty(stdout)
    progress = Progress(source.noun, shown=_tty(sys.stderr) and not on_screen)

    def emit(text: str) -> None:
        stdout.write(printable(text, multiline=True) if on_screen else text)

    try:
        n = export.write(source, fmt, emit, raw=raw, progress=progress)
        stdout.flush()
    except BrokenPipeError:
        # The reader stopped reading (``| head``): that is not an error of ours.
        _quiet_stdout()
        raise click.exceptions.Exit(0) from None
    finally:
        progress.end()
    return n


def _quiet_stdout() -> None:
    """Send what is left for stdout to nowhere, so the exit does not fail flushing it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def to_file(source: export.Source, fmt: str, target: Path, *,
            raw: bool = False) -> tuple[int, float]:
    """Write ``source`` to ``target`` atomically; returns the rows and the seconds taken.

    Interrupted (Ctrl+C), it leaves no file behind and an existing ``target`` as it was.
    """
    progress = Progress(source.noun, shown=_tty(sys.stderr))
    try:
        n = export.write_file(source, fmt, target, raw=raw, progress=progress)
    except KeyboardInterrupt:
        progress.end()
        click.echo(f"Interrupted: {printable(str(target))} was not written.", err=True)
        raise click.exceptions.Exit(130) from None
    finally:
        progress.end()
    return n, progress.seconds

