"""``simdeck sims``: import a batch of SIMs, list the inventory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from simdeck.core import export as core_export
from simdeck.core import queries
from simdeck.tui.cli import output as out
from simdeck.tui.cli import streaming
from simdeck.tui.cli.params import format_option, limit_option
from simdeck.tui.cli.root import CONTEXT, main, session


@main.group(context_settings=CONTEXT)
def sims() -> None:
    """The SIM inventory: import a batch, list the pool."""


@sims.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-endpoints", is_flag=True, help="Also create one Pending endpoint per SIM.")
@click.option("--group", metavar="GROUP", help="With --as-endpoints: the endpoints' group.")
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option("--partial", is_flag=True,
              help="Import the valid rows even when some are refused.")
@format_option()
@click.pass_context
def sims_import(ctx: click.Context, file: Path, as_endpoints: bool, group: str | None,
                dry_run: bool, partial: bool, fmt: str) -> None:
    """Import a CSV batch of SIMs (iccid, imsi, eid) into the pool."""
    from simdeck.core.importer import import_sims

    actor = session(ctx)
    rep = import_sims(actor, file, as_endpoints=as_endpoints, group=group, dry_run=dry_run,
                      partial=partial)
    out.print_report(rep.to_json(), rep.lines(), fmt, ok=rep.ok())


SIM_HEADERS = ("ICCID", "EID", "IMSI", "STATUS", "ENDPOINT")
SIM_KEYS = core_export.SIM_KEYS


@sims.command("list")
@click.option("--status", metavar="S",
              help="'ready' (Ready to Activate) or the state of the linked endpoint.")
@click.option("--search", default="", metavar="Q", help="ICCID, EID or IMSI prefix.")
@limit_option()
@format_option(streams=True)
@click.pass_context
def sims_list(ctx: click.Context, status: str | None, search: str, limit: int, fmt: str) -> None:
    """The SIM inventory by ICCID, with each SIM's status.

    --format csv, json or jsonl streams the SIMs from one query (--limit 0: all).
    """
    session(ctx)
    if fmt != "table":
        source = core_export.sims(status=status, search=search, limit=limit)
        streaming.to_stdout(source, fmt, raw=out.raw_csv())
        return

    def pages() -> Iterator[list[queries.SimRow]]:
        after: str | None = None
        seen = 0
        while True:
            size = out.STREAM_PAGE if not limit else min(out.STREAM_PAGE, limit - seen)
            if size <= 0:
                return
            rows = queries.sim_page(status=status, search=search, after_iccid=after, limit=size)
            if not rows:
                return
            yield rows
            seen += len(rows)
            if len(rows) < size:
                return
            after = rows[-1].iccid

    out.stream_table(SIM_HEADERS, ((s.iccid, s.eid, s.imsi or None, s.status, s.endpoint_id)
                                   for rows in pages() for s in rows), "No SIMs match.")
