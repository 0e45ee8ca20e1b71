"""The lifecycle actions on endpoints: preview, confirm, run as a job, report.

``endpoints activate|suspend|resume|terminate|delink|assign-group``; purge and
``jobs resume`` use the same confirmation, progress and report.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from simdeck.core import actions, auth, queries
from simdeck.core.errors import InputError
from simdeck.core.lifecycle import ACTIONS, RETENTION_DAYS, Action, Confirm, JobStatus
from simdeck.tui.cli import output as out
from simdeck.tui.cli.endpoints import endpoints
from simdeck.tui.cli.params import filter_options, format_option, make_filter
from simdeck.tui.cli.root import Fail, fail, session
from simdeck.tui.text import plural, state_label


def can_prompt() -> bool:
    """True when a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


def confirm(act: Action, eligible: int) -> None:
    """Ask before acting as the action says: a typed ``<action> N``, or y/N."""
    if not can_prompt():
        raise InputError("add --yes to run without a prompt (stdin is not a terminal)")
    typed = act.confirm is Confirm.TYPED
    if typed or act.warning:
        out.echo(act.warn(eligible), err=True)
    if typed:
        word = f"{act.name} {eligible}"
        answer = click.prompt(f"Type '{word}' to continue", default="", show_default=False,
                              err=True)
        if answer.strip() != word:
            raise fail("the confirmation did not match; nothing was changed")
    elif not click.confirm("Proceed?", default=False, err=True):
        raise fail("nothing was changed")


class Progress:
    """Progress of a job on stderr, for jobs larger than one chunk, on a terminal only."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if total <= actions.CHUNK or not sys.stderr.isatty():
            return
        pct = 100 * done // total if total else 100
        # Padded: the line it overwrites may have been longer (the recording phase's).
        click.echo(f"\r{self.label}: {done:,}/{total:,} ({pct}%)".ljust(60), err=True, nl=False)
        self.shown = True

    def end(self) -> None:
        if self.shown:
            out.echo("", err=True)


@contextmanager
def interruptible() -> Iterator[Callable[[], bool]]:
    """Ctrl+C stops a job cleanly after its current chunk; a second one aborts at once."""
    stop = {"asked": False}

    def handler(signum: int, frame: Any) -> None:
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True
        out.echo("\nStopping after the current chunk (Ctrl+C again to abort)…", err=True)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl+C as it is
        previous = None
    try:
        yield lambda: stop["asked"]
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def run_job(actor: auth.Actor, act: Action, targets: actions.Targets,
            group: str | None) -> actions.Result:
    """Run an action with progress and Ctrl+C handling."""
    progress = Progress(act.label)
    recording = Progress(f"{act.label}: recording targets")
    with interruptible() as cancelled:
        try:
            return actions.run(actor, act.name, targets, group=group, progress=progress,
                               cancelled=cancelled, recording=recording)
        finally:
            progress.end()


def report(result: actions.Result, fmt: str) -> None:
    """Print a result (summary on stdout, reasons on stderr); exit 1 unless all applied."""
    lines = result.lines()
    if fmt == "json":
        out.echo_json(result.to_json())
    elif fmt == "csv":
        out.echo_csv(("job", "applied", "skipped", "failed"), [result.to_json()])
    else:
        out.echo(lines[0])
    out.echo_lines(lines[1:], err=True)
    if result.status != JobStatus.DONE or result.skipped or result.failed:
        raise Fail(1)


def preview_json(pv: actions.Preview) -> dict[str, Any]:
    """A preview as ``--dry-run --format json`` prints it."""
    return {"action": pv.action, "total": pv.total, "eligible": pv.eligible,
            "skipped": dict(pv.skipped)}


def nothing_eligible_json(pv: actions.Preview) -> dict[str, Any]:
    """The JSON result of a run that found nothing to change."""
    return {"job": None, "applied": 0, "skipped": dict(pv.skipped), "failed": 0}


def bulk(ctx: click.Context, name: str, refs: Sequence[str], filters: dict[str, Any],
         every: bool, yes: bool, dry_run: bool, fmt: str, group: str | None = None) -> None:
    """REFs or a filter → preview on stderr → confirm → run → result; one REF runs directly."""
    given = not queries.Filter(states=filters["states"], group=filters["group"],
                               tag=filters["tag"], search=filters["search"] or "").is_empty()
    if refs and (given or every):
        raise click.UsageError("give either REFs or filter options (or --all), not both")
    if not refs and not given and not every:
        raise click.UsageError(
            "which endpoints? Give REFs (ICCIDs or ids), filter options "
            "(--state, --group, --tag, --search), or --all for every endpoint"
        )
    actor = session(ctx)
    act = ACTIONS[name]
    if refs:
        ids = tuple(dict.fromkeys(queries.find_endpoint(r).id for r in refs))
        targets = actions.Targets(ids=ids)
    else:
        f = make_filter(filters["states"], filters["group"], filters["tag"], filters["search"])
        targets = actions.Targets(filter=f)
    if targets.is_single() and act.confirm is not Confirm.TYPED and not dry_run:
        _single(actor, act, targets.ids[0], group, fmt)
        return
    pv = actions.preview(actor, name, targets, group=group)
    if dry_run:
        out.echo_lines(pv.lines(), err=True)
        if fmt == "json":
            out.echo_json(preview_json(pv))
        return
    if targets.is_single():
        # One endpoint (here: a typed-confirmation action): ask only when it would change;
        # otherwise the run refuses with the endpoint's own reason.
        if pv.eligible and not yes:
            out.echo_lines(pv.lines(), err=True)
            confirm(act, pv.eligible)
        _single(actor, act, targets.ids[0], group, fmt)
        return
    out.echo_lines(pv.lines(), err=True)
    if pv.eligible == 0:
        if fmt == "json":
            out.echo_json(nothing_eligible_json(pv))
        raise fail(f"nothing to {act.label.lower()}: none of the "
                   f"{plural(pv.total, 'endpoint')} is eligible")
    if not yes:
        confirm(act, pv.eligible)
    report(run_job(actor, act, targets, group), fmt)


def _single(actor: auth.Actor, act: Action, endpoint_id: int, group: str | None,
            fmt: str) -> None:
    """One endpoint: run at once; a refusal exits 1 with the reason."""
    result = actions.run(actor, act.name, actions.Targets.one(endpoint_id), group=group)
    if fmt == "json":
        out.echo_json(result.to_json())
    elif fmt == "csv":
        out.echo_csv(("job", "applied", "skipped", "failed"), [result.to_json()])
    if not result.applied:
        raise fail(result.message or f"endpoint {endpoint_id}: not applied")
    if fmt == "table":
        view = queries.views([endpoint_id])[0]
        who = f"endpoint {view.id}" + (f" ({view.iccid})" if view.iccid else "")
        out.echo(f"{act.label}: {who} is now {state_label(view.state)}.")


def bulk_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """REF… plus the filter options, --all, --yes, --dry-run, --format."""
    fn = format_option()(fn)
    fn = click.option("--dry-run", is_flag=True, help="Only show the preview.")(fn)
    fn = click.option("--yes", "-y", is_flag=True, help="Do not ask before acting.")(fn)
    fn = click.option("--all", "every", is_flag=True,
                      help="Act on every endpoint (needed when no REF or filter is given).")(fn)
    fn = filter_options(fn)
    return click.argument("refs", nargs=-1, metavar="[REF]...")(fn)


def _lifecycle_command(act: Action) -> None:
    extra = ""
    if act.confirm is Confirm.TYPED:
        extra = (f" Asks for a typed confirmation ('{act.name} N'); the record is kept "
                 f"{RETENTION_DAYS} days, then deleted.")
    if act.policy:
        extra = " Only when the deployment allows it (see: simdeck settings)."

    @bulk_options
    @click.pass_context
    def command(ctx: click.Context, refs: tuple[str, ...], states: tuple[str, ...],
                group_filter: str | None, tag_filter: str | None, search: str, every: bool,
                yes: bool, dry_run: bool, fmt: str) -> None:
        filters = {"states": states, "group": group_filter, "tag": tag_filter, "search": search}
        bulk(ctx, act.name, refs, filters, every, yes, dry_run, fmt)

    command.__doc__ = (f"{act.description}. REF is an ICCID or an endpoint id; or choose "
                       f"endpoints with the filter options.{extra}")
    endpoints.command(act.name.replace("_", "-"))(command)


for _name in ("activate", "suspend", "resume", "terminate", "delink"):
    _lifecycle_command(ACTIONS[_name])


@endpoints.command("assign-group")
@click.argument("group")
@bulk_options
@click.pass_context
def endpoints_assign_group(ctx: click.Context, group: str, refs: tuple[str, ...],
                           states: tuple[str, ...], group_filter: str | None,
                           tag_filter: str | None, search: str, every: bool, yes: bool,
                           dry_run: bool, fmt: str) -> None:
    """Give endpoints GROUP's network configuration (Pending ones become Active/Pre-Active)."""
    filters = {"states": states, "group": group_filter, "tag": tag_filter, "search": search}
    bulk(ctx, "assign_group", refs, filters, every, yes, dry_run, fmt, group=group)
