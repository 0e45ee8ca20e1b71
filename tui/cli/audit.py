"""``simdeck audit``: the audit trail, newest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import click

from simdeck.core import export as core_export
from simdeck.core import queries
from simdeck.core.errors import NotFound
from simdeck.tui.cli import output as out
from simdeck.tui.cli import streaming
from simdeck.tui.cli.params import When, format_option, limit_option
from simdeck.tui.cli.root import main, session

AUDIT_KEYS = core_export.AUDIT_KEYS


def _audit_endpoint_id(ref: str) -> int:
    """The endpoint id for --endpoint; a bare id still works once the endpoint was purged."""
    try:
        return int(queries.find_endpoint(ref).id)
    except NotFound:
        text = ref.strip()
        if text.isdigit() and len(text) < 18:
            return int(text)
        raise


@main.command("audit")
@click.option("--endpoint", "endpoint_ref", metavar="REF", help="Only this endpoint (ICCID or id).")
@click.option("--actor", metavar="USER", help="Only what this operator (or 'network') did.")
@click.option("--action", metavar="ACTION", help="Only this action (suspend, edit, link, …).")
@click.option("--since", type=When(), help="From this time: ISO (UTC unless it says) or 2h, 3d.")
@click.option("--until", type=When(), help="Before this time, same forms as --since.")
@limit_option(50)
@format_option(streams=True)
@click.pass_context
def audit(ctx: click.Context, endpoint_ref: str | None, actor: str | None, action: str | None,
          since: dt.datetime | None, until: dt.datetime | None, limit: int, fmt: str) -> None:
    """The audit trail, newest first: who did what, when, to which endpoint.

    --format csv, json or jsonl streams the events from one query (--limit 0: all).
    """
    session(ctx)
    af = queries.AuditFilter(
        endpoint_id=_audit_endpoint_id(endpoint_ref) if endpoint_ref else None,
        actor=actor, action=action.replace("-", "_") if action else None,
        since=since, until=until,
    )

    def events() -> Iterator[dict[str, Any]]:
        before: int | None = None
        seen = 0
        while True:
            size = out.STREAM_PAGE if not limit else min(out.STREAM_PAGE, limit - seen)
            if size <= 0:
                return
            page = queries.audit_page(af, before_id=before, limit=size)
            yield from page
            seen += len(page)
            if len(page) < size:
                return
            before = page[-1]["id"]

    if fmt != "table":
        streaming.to_stdout(core_export.audit(af, limit), fmt, raw=out.raw_csv())
    else:
        rows = list(events()) if limit else None
        if rows is not None:
            if rows:
                out.echo_lines(out.audit_table(rows))
            else:
                out.echo("No audit events match.", err=True)
            return
        batch: list[dict[str, Any]] = []
        for e in events():
            batch.append(e)
            if len(batch) >= out.STREAM_PAGE:
                out.echo_lines(out.audit_table(batch))
                batch.clear()
        if batch:
            out.echo_lines(out.audit_table(batch))
