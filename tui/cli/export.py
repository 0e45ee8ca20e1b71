"""``simdeck export``: the endpoints matching a filter, as a CSV, JSON or JSON Lines file."""

from __future__ import annotations

import time
from pathlib import Path

import click

from simdeck.core import export as core_export
from simdeck.core import queries
from simdeck.tui.cli import output as out
from simdeck.tui.cli import streaming
from simdeck.tui.cli.params import filter_options, make_filter, raw_csv_option
from simdeck.tui.cli.root import main, session


@main.command("export")
@click.argument("file", metavar="FILE")
@filter_options
@click.option("--sort", type=click.Choice(queries.SORTS), default="iccid", show_default=True)
@raw_csv_option
@click.option("--as", "file_format", type=click.Choice(core_export.FORMATS),
              help="The file's format: csv, json (an array, one object a line) or jsonl "
              "(JSON Lines). Default: from FILE's extension (.json, .jsonl), else csv.")
@click.option("--format", "fmt", type=click.Choice(out.FORMATS), default="table",
              show_default=True,
              help="How the result is reported (the file's own format is --as): a line, "
              "or with json an object {file, format, written, seconds}.")
@click.pass_context
def export(ctx: click.Context, file: str, states: tuple[str, ...], group_filter: str | None,
           tag_filter: str | None, search: str, sort: str, file_format: str | None,
           fmt: str) -> None:
    """Write the endpoints matching the filters to FILE ('-' for stdout).

    One row per endpoint with its IMSIs, EID and group, streamed from one query: a
    million endpoints in seconds, in flat memory. The file appears only when complete
    (an interrupted export leaves none, and an existing FILE as it was). --format json
    prints the result as JSON.
    """
    session(ctx)
    f = make_filter(states, group_filter, tag_filter, search)
    kind = file_format or core_export.format_of(file)
    source = core_export.endpoints(f, sort)
    if file == "-":
        started = time.monotonic()
        n = streaming.to_stdout(source, kind, raw=out.raw_csv())
        click.echo(streaming.summary(n, source.noun, "stdout", time.monotonic() - started),
                   err=True)
        return
    target = Path(file).expanduser()
    n, seconds = streaming.to_file(source, kind, target, raw=out.raw_csv())
    if fmt == "json":
        out.echo_json({"file": str(target), "format": kind, "written": n,
                       "seconds": round(seconds, 3)})
    else:
        click.echo(streaming.summary(n, source.noun, str(target), seconds))
