"""``simdeck purge``: delete what was terminated long enough ago."""

from __future__ import annotations

import click

from simdeck.core import actions
from simdeck.core.lifecycle import ACTIONS, RETENTION_DAYS
from simdeck.tui.cli import output as out
from simdeck.tui.cli.bulk import confirm, nothing_eligible_json, preview_json, report, run_job
from simdeck.tui.cli.params import format_option
from simdeck.tui.cli.root import main, session


@main.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask (for a scheduled run).")
@format_option()
@click.pass_context
def purge(ctx: click.Context, dry_run: bool, yes: bool, fmt: str) -> None:
    """Delete endpoints terminated long enough ago (see the help set below)."""
    actor = session(ctx)
    act = ACTIONS["purge"]
    targets = actions.purge_targets()
    pv = actions.preview(actor, act.name, targets)
    out.echo_lines(pv.lines(), err=True)
    if dry_run:
        if fmt == "json":
            out.echo_json(preview_json(pv))
        return
    if pv.eligible == 0:
        if fmt == "json":
            out.echo_json(nothing_eligible_json(pv))
        else:
            out.echo("Nothing to purge.")
        return
    if not yes:
        confirm(act, pv.eligible)
    report(run_job(actor, act, targets, None), fmt)


purge.help = (f"Delete endpoints terminated {RETENTION_DAYS} days ago or more, with their SIMs "
              "(admins). The audit trail keeps a 'purged' event.")
