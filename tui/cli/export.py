"""``simdeck export``: the endpoints matching a filter, as a CSV file."""

from __future__ import annotations

from pathlib import Path

import click

from simdeck.core import queries
from simdeck.tui.cli import output as out
from simdeck.tui.cli.endpoints import iter_endpoint_objects
from simdeck.tui.cli.params import filter_options, format_option, make_filter
from simdeck.tui.cli.root import main, session


@main.command("export")
@click.argument("file", metavar="FILE.csv")
@filter_options
@click.option("--sort", type=click.Choice(queries.SORTS), default="iccid", show_default=True)
@format_option()
@click.pass_context
def export(ctx: click.Context, file: str, states: tuple[str, ...], group_filter: str | None,
           tag_filter: str | None, search: str, sort: str, fmt: str) -> None:
    """Write the endpoints matching the filters to FILE.csv ('-' for stdout), page by page."""
    session(ctx)
    f = make_filter(states, group_filter, tag_filter, search)
    objects = iter_endpoint_objects(f, sort, 0)
    if file == "-":
        n = out.echo_csv(out.ENDPOINT_KEYS, objects)
        out.echo(f"Wrote {n:,} endpoints.", err=True)
        return
    target = Path(file).expanduser()
    n = out.write_csv_atomically(target, out.ENDPOINT_KEYS, objects)
    if fmt == "json":
        out.echo_json({"file": str(target), "written": n})
    else:
        out.echo(f"Wrote {n:,} endpoints to {target}.")
