"""``simdeck support``: what only the support role may do."""

from __future__ import annotations

import click

from simdeck.core import records
from simdeck.core.lifecycle import RETENTION_DAYS
from simdeck.tui.cli.endpoints import print_endpoint
from simdeck.tui.cli.params import format_option
from simdeck.tui.cli.root import CONTEXT, main, session
from simdeck.tui.text import state_label


@main.group(context_settings=CONTEXT)
def support() -> None:
    """Support-only actions."""


@support.command("reinstate")
@click.argument("ref")
@click.option("--ticket", required=True, metavar="T", help="The support ticket reference.")
@format_option()
@click.pass_context
def support_reinstate(ctx: click.Context, ref: str, ticket: str, fmt: str) -> None:
    """Return a Terminated endpoint to its former state (see the help set below)."""
    actor = session(ctx)
    view = records.reinstate(actor, ref, ticket)
    print_endpoint(view, fmt, f"Reinstated endpoint {view.id}: now "
                              f"{state_label(view.state)} (ticket {ticket.strip()}).")


support_reinstate.help = (f"Return a Terminated endpoint (terminated less than {RETENTION_DAYS} "
                          "days ago) to the state it had, SIM included. Support role only.")
