"""``simdeck network``: apply network events from a file."""

from __future__ import annotations

from pathlib import Path

import click

from simdeck.tui.cli import output as out
from simdeck.tui.cli.params import format_option
from simdeck.tui.cli.root import CONTEXT, main, session


@main.group(context_settings=CONTEXT)
def network() -> None:
    """Network events (attach, detach, session start and end)."""


@network.command("ingest")
@click.argument("file", metavar="FILE.jsonl",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option()
@click.pass_context
def network_ingest(ctx: click.Context, file: Path, fmt: str) -> None:
    """Apply network events, one JSON object a line: {"iccid", "event", "at", "imei"}."""
    from simdeck.core.network import ingest

    actor = session(ctx)
    rep = ingest(actor, file)
    out.print_report(rep.to_json(), rep.lines(), fmt, ok=not rep.errors)
