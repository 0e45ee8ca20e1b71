"""``simdeck endpoints``: list, show, create, edit and link (lifecycle actions: bulk.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import click

from simdeck.core import export as core_export
from simdeck.core import queries, records
from simdeck.tui.cli import output as out
from simdeck.tui.cli import streaming
from simdeck.tui.cli.params import (
    clearable,
    filter_options,
    format_option,
    limit_option,
    make_filter,
)
from simdeck.tui.cli.root import CONTEXT, main, session
from simdeck.tui.text import ago, state_label


@main.group(context_settings=CONTEXT)
def endpoints() -> None:
    """List, show, create, edit endpoints and apply lifecycle actions."""


ROW_HEADERS = ("ID", "ICCID", "NAME", "STATE", "GROUP", "TAGS", "LAST ACTIVITY")


def row_cells(row: queries.Row, now: float) -> tuple[Any, ...]:
    """The cells of one endpoint in the ``endpoints list`` table."""
    return (
        row.id, row.iccid, out.clip(row.name, 32), state_label(row.state),
        out.clip(row.group, 24), out.clip(", ".join(row.tags.split()), 32),
        ago(row.last_activity, now),
    )


def _row_styles(row: queries.Row) -> list[dict[str, Any] | None]:
    return [None, None, None, out.STATE_COLOURS.get(row.state), None, None, None]


def iter_rows(f: queries.Filter, sort: str, limit: int) -> Iterator[list[queries.Row]]:
    """Pages of list rows in ``sort`` order, fetched by key; ``limit`` 0 means all."""
    after: queries.Key | None = None
    seen = 0
    while True:
        size = out.STREAM_PAGE if not limit else min(out.STREAM_PAGE, limit - seen)
        if size <= 0:
            return
        rows = queries.page(f, sort, after=after, limit=size)
        if not rows:
            return
        yield rows
        seen += len(rows)
        if len(rows) < size:
            return
        after = rows[-1].key(sort)


@endpoints.command("list")
@filter_options
@click.option("--sort", type=click.Choice(queries.SORTS), default="iccid", show_default=True)
@limit_option()
@format_option(streams=True)
@click.pass_context
def endpoints_list(ctx: click.Context, states: tuple[str, ...], group_filter: str | None,
                   tag_filter: str | None, search: str, sort: str, limit: int, fmt: str) -> None:
    """List the endpoints that match the filters.

    --format csv, json or jsonl streams every field of each endpoint (its IMSIs, EID,
    SIM status…) from one query; with --limit 0, all of them, in flat memory.
    """
    session(ctx)
    f = make_filter(states, group_filter, tag_filter, search)
    if fmt != "table":
        source = core_export.endpoints(f, sort, limit)
        streaming.to_stdout(source, fmt, raw=out.raw_csv())
        return
    now = dt.datetime.now(dt.UTC).timestamp()
    shown = 0
    col_widths: list[int] = []
    for rows in iter_rows(f, sort, limit):
        cells = [row_cells(r, now) for r in rows]
        if not col_widths:
            col_widths = out.widths(ROW_HEADERS, cells)
            out.echo(out.header_line(ROW_HEADERS, col_widths))
        col_widths = out.widths(ROW_HEADERS, cells, col_widths)
        out.echo_lines(out.row_lines(cells, col_widths, [_row_styles(r) for r in rows]),
                      styled=True)
        shown += len(rows)
    if not shown:
        out.echo("No endpoints match.", err=True)
    elif limit and shown == limit:
        total = queries.count(f)
        if total > shown:
            out.echo(f"Showing {shown:,} of {total:,}; --limit 0 shows all.", err=True)


@endpoints.command("show")
@click.argument("ref")
@click.option("--history", type=click.IntRange(0, 10_000), default=10, show_default=True,
              help="How many audit events to show.")
@format_option()
@click.pass_context
def endpoints_show(ctx: click.Context, ref: str, history: int, fmt: str) -> None:
    """One endpoint (REF: ICCID or id): every field, its group, recent history."""
    session(ctx)
    obj = queries.view(ref, history=history).to_json(full=True)
    if fmt == "json":
        out.echo_json(obj)
    elif fmt == "csv":
        out.echo_csv(out.ENDPOINT_KEYS, [obj])
    else:
        out.echo_lines(out.endpoint_detail(obj))


def print_endpoint(view: queries.EndpointView, fmt: str, headline: str) -> None:
    """A created or changed endpoint: its object (json/csv) or a line and its detail."""
    if fmt == "json":
        out.echo_json(view.to_json())
    elif fmt == "csv":
        out.echo_csv(out.ENDPOINT_KEYS, [view.to_json()])
    else:
        out.echo(headline)
        out.echo_lines(out.endpoint_detail(queries.views([view.id], history=3)[0]
                                           .to_json(full=True)))


@endpoints.command("create")
@click.option("--name", default="", help="Name, for the operator's own identification.")
@click.option("--group", metavar="GROUP", help="Endpoint Group giving its network configuration.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag; repeat for several.")
@click.option("--reference", default="", help="Your own reference.")
@click.option("--activate-immediately/--no-activate-immediately", default=True,
              show_default=True,
              help="Whether linking a SIM to the grouped endpoint makes it Active or "
              "Pre-Active.")
@click.option("--sim", metavar="ICCID", help="Link this Ready to Activate SIM at once.")
@click.option("--static-ip", metavar="IP", help="Static IPv4 or IPv6 address.")
@click.option("--imei-lock", metavar="IMEI", help="The one device IMEI allowed to use the SIM.")
@format_option()
@click.pass_context
def endpoints_create(ctx: click.Context, name: str, group: str | None, tags: tuple[str, ...],
                     reference: str, activate_immediately: bool, sim: str | None,
                     static_ip: str | None, imei_lock: str | None, fmt: str) -> None:
    """Create an endpoint: Hold, or with --sim as linking that SIM makes it."""
    actor = session(ctx)
    view = records.create_endpoint(
        actor, name=name, group=group, tags=list(tags), reference=reference,
        activate_immediately=activate_immediately, sim=sim, static_ip=static_ip,
        imei_lock=imei_lock,
    )
    print_endpoint(view, fmt, f"Created endpoint {view.id} ({state_label(view.state)}).")


@endpoints.command("edit")
@click.argument("ref")
@click.option("--name", help="New name.")
@click.option("--reference", help="New reference.")
@click.option("--tag", "add_tags", multiple=True, metavar="TAG", help="Add a tag; repeatable.")
@click.option("--untag", "remove_tags", multiple=True, metavar="TAG",
              help="Remove a tag; repeatable.")
@click.option("--static-ip", metavar="IP|none", help="Set the static IP, or 'none' to clear it.")
@click.option("--imei-lock", metavar="IMEI|none", help="Set the IMEI lock, or 'none' to clear it.")
@format_option()
@click.pass_context
def endpoints_edit(ctx: click.Context, ref: str, name: str | None, reference: str | None,
                   add_tags: tuple[str, ...], remove_tags: tuple[str, ...],
                   static_ip: str | None, imei_lock: str | None, fmt: str) -> None:
    """Change an endpoint's name, tags, reference, static IP or IMEI lock."""
    if (name is None and reference is None and not add_tags and not remove_tags
            and static_ip is None and imei_lock is None):
        raise click.UsageError("nothing to change: give --name, --reference, --tag, --untag, "
                               "--static-ip or --imei-lock")
    actor = session(ctx)
    view = records.edit_endpoint(
        actor, ref, name=name, reference=reference, add_tags=add_tags,
        remove_tags=remove_tags, static_ip=clearable(static_ip), imei_lock=clearable(imei_lock),
    )
    print_endpoint(view, fmt, f"Endpoint {view.id} saved.")


@endpoints.command("link")
@click.argument("ref")
@click.argument("sim_iccid", metavar="SIM_ICCID")
@format_option()
@click.pass_context
def endpoints_link(ctx: click.Context, ref: str, sim_iccid: str, fmt: str) -> None:
    """Link a Ready to Activate SIM to an endpoint in Hold."""
    actor = session(ctx)
    view = records.link_sim(actor, ref, sim_iccid)
    print_endpoint(view, fmt, f"SIM {view.iccid} linked to endpoint {view.id}: "
                              f"now {state_label(view.state)}.")
