"""The ``simdeck`` command line: parses, calls core, formats. It holds no rule of its own.

Exit codes (interface.md): 0 done; 1 refused or partly applied; 2 invalid input or
usage; 3 permission denied. A core error is printed as ``simdeck: <message>``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import peewee
from click.core import ParameterSource

from simdeck.core import actions, auth, queries, records
from simdeck.core.db import default_url, describe, open_database
from simdeck.core.errors import InputError, NotFound, PermissionDenied, SimdeckError
from simdeck.core.lifecycle import ACTIONS, RETENTION_DAYS, Action, Role, State
from simdeck.core.models import has_schema, utcnow
from simdeck.core.store import open_store
from simdeck.tui import output as out

#: Rows fetched per query when a command streams a long list.
STREAM_PAGE = 500
DEFAULT_LIMIT = 100


# --- the database and the operator -------------------------------------------------


@dataclass
class Options:
    """The global options, and the session once a command has opened it."""

    url: str | None
    read_only: bool
    db_on_command_line: bool
    actor: auth.Actor | None = None
    db: peewee.Database | None = None

    @property
    def resolved_url(self) -> str:
        return self.url or default_url()


def session(ctx: click.Context) -> auth.Actor:
    """The operator for this command, the database opened once per process."""
    opts: Options = ctx.find_root().obj
    if opts.actor is None:
        opts.db = open_store(opts.resolved_url, opts.read_only)
        ctx.find_root().call_on_close(opts.db.close)
        opts.actor = auth.login(read_only=opts.read_only)
    return opts.actor


def _can_prompt() -> bool:
    """True when a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


# --- the top-level group -------------------------------------------------------------


class SimdeckGroup(click.Group):
    """The root group: turns a core error into ``simdeck: <message>`` and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SimdeckError as exc:
            click.echo(f"simdeck: {exc}", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None


class Fail(click.exceptions.Exit):
    """Stop with an exit code after the reason was printed."""


def fail(message: str, code: int = 1) -> Fail:
    """Print ``simdeck: message`` on stderr and return the exit to raise."""
    click.echo(f"simdeck: {message}", err=True)
    return Fail(code)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=SimdeckGroup, invoke_without_command=True, context_settings=CONTEXT)
@click.option(
    "--db", "db_url", envvar="SIMDECK_DB", show_envvar=True, metavar="URL",
    help="SQLite path or URL, or postgresql://… (default: simdeck.db in the user's data "
    "directory).",
)
@click.option("--read-only", is_flag=True, help="Open the database read-only: nothing can change.")
@click.version_option(package_name="simdeck", prog_name="simdeck")
@click.pass_context
def main(ctx: click.Context, db_url: str | None, read_only: bool) -> None:
    """A keyboard-driven console for the endpoints and SIMs of an IoT connectivity account.

    Without a command, opens the console. Exit codes: 0 done, 1 refused or partly
    applied, 2 invalid input, 3 permission denied.
    """
    from_cli = ctx.get_parameter_source("db_url") == ParameterSource.COMMANDLINE
    ctx.obj = Options(db_url, read_only, from_cli)
    if ctx.invoked_subcommand is None:
        session(ctx)  # refuses an unknown user with the CLI's exit codes, before the screen
        ctx.obj.db.close()
        if not _open_console(ctx.obj.resolved_url, read_only):
            raise Fail(1)


def _open_console(url: str, read_only: bool) -> bool:
    """Run the console; False (with a line saying so) when it is not installed."""
    try:
        from simdeck.tui.app import run_console
    except ImportError as exc:
        click.echo(f"simdeck: the console is not available in this installation ({exc})", err=True)
        return False
    run_console(url, read_only)
    return True


# --- shared options -----------------------------------------------------------------


def format_option(default: str = "table") -> Callable[[Any], Any]:
    return click.option(
        "--format", "fmt", type=click.Choice(out.FORMATS), default=default, show_default=True,
        help="Output: aligned table, CSV or JSON.",
    )


def _states(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> tuple[str, ...]:
    try:
        return tuple(queries.parse_state(v).value for v in values)
    except SimdeckError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


STATE_NAMES = "|".join(s.value for s in State)


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The filters of ``endpoints list``: --state (repeatable), --group, --tag, --search."""
    for option in reversed([
        click.option("--state", "states", multiple=True, callback=_states, metavar="STATE",
                     help=f"Only this state ({STATE_NAMES}); repeat for several."),
        click.option("--group", "group_filter", metavar="GROUP",
                     help="Only this Endpoint Group ('none' for endpoints without one)."),
        click.option("--tag", "tag_filter", metavar="TAG", help="Only endpoints with this tag."),
        click.option("--search", default="", metavar="Q",
                     help="ICCID prefix, name or reference; also field:value tokens "
                     "(state: group: tag: imsi: eid: imei: ip:), '-' negates."),
    ]):
        fn = option(fn)
    return fn


def make_filter(
    states: tuple[str, ...], group: str | None, tag: str | None, search: str
) -> queries.Filter:
    """The Filter for the options; a --group that names no group is an input error."""
    if group and group.strip().lower() not in ("none", "-"):
        if group.strip() not in queries.group_names().values():
            raise NotFound(f"group {group.strip()}: no Endpoint Group has this name")
        group = group.strip()
    return queries.Filter(states=states, group=group or None, tag=tag or None,
                          search=search or "")


#: The most rows a --limit may ask for (beyond it, use 0: all, streamed).
MAX_ROWS = 100_000_000


class When(click.ParamType):
    """A moment: an ISO date or time (UTC unless it says otherwise), or an age like 2h."""

    name = "TIME"
    UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        m = re.fullmatch(r"(\d{1,6})\s*([smhdw])(?:\s+ago)?", text.lower())
        try:
            if m:
                return utcnow() - dt.timedelta(**{self.UNITS[m.group(2)]: int(m.group(1))})
            parsed = dt.datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
            return parsed
        except OverflowError:
            self.fail(f"{text!r} is too far from today to be a time", param, ctx)
        except ValueError:
            self.fail(
                f"{text!r} is not a time: give an ISO date or time (2024-05-01, "
                "2024-05-01T08:30Z) or an age such as 30m, 2h, 3d, 1w", param, ctx,
            )


def _limit_option(default: int = DEFAULT_LIMIT) -> Callable[[Any], Any]:
    return click.option("--limit", type=click.IntRange(0, MAX_ROWS), default=default,
                        show_default=True, help="At most N rows; 0 for all (streamed).")


# --- endpoints: reading ---------------------------------------------------------------


@main.group(context_settings=CONTEXT)
def endpoints() -> None:
    """List, show, create, edit endpoints and apply lifecycle actions."""


ROW_HEADERS = ("ID", "ICCID", "NAME", "STATE", "GROUP", "TAGS", "LAST ACTIVITY")


def _row_cells(row: queries.Row, now: float) -> tuple[Any, ...]:
    return (
        row.id, row.iccid, out.clip(row.name, 32), out.state_label(row.state),
        out.clip(row.group, 24), out.clip(", ".join(row.tags.split()), 32),
        out.relative(row.last_activity, now),
    )


def _row_styles(row: queries.Row) -> list[dict[str, Any] | None]:
    return [None, None, None, out.STATE_COLOURS.get(row.state), None, None, None]


def iter_rows(f: queries.Filter, sort: str, limit: int) -> Iterator[list[queries.Row]]:
    """Pages of list rows in ``sort`` order, fetched by key; ``limit`` 0 means all."""
    after: queries.Key | None = None
    seen = 0
    while True:
        size = STREAM_PAGE if not limit else min(STREAM_PAGE, limit - seen)
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


def iter_endpoint_objects(f: queries.Filter, sort: str, limit: int) -> Iterator[dict[str, Any]]:
    """The interface.md object of each matching endpoint, page by page."""
    for rows in iter_rows(f, sort, limit):
        for v in queries.views([r.id for r in rows]):
            yield v.to_json()


@endpoints.command("list")
@filter_options
@click.option("--sort", type=click.Choice(queries.SORTS), default="iccid", show_default=True)
@_limit_option()
@format_option()
@click.pass_context
def endpoints_list(ctx: click.Context, states: tuple[str, ...], group_filter: str | None,
                   tag_filter: str | None, search: str, sort: str, limit: int, fmt: str) -> None:
    """List the endpoints that match the filters."""
    session(ctx)
    f = make_filter(states, group_filter, tag_filter, search)
    if fmt == "json":
        out.echo_json_array(iter_endpoint_objects(f, sort, limit))
        return
    if fmt == "csv":
        out.echo_csv(out.ENDPOINT_KEYS, iter_endpoint_objects(f, sort, limit))
        return
    now = dt.datetime.now(dt.UTC).timestamp()
    shown = 0
    col_widths: list[int] = []
    for rows in iter_rows(f, sort, limit):
        cells = [_row_cells(r, now) for r in rows]
        if not col_widths:
            col_widths = out.widths(ROW_HEADERS, cells)
            click.echo(out.header_line(ROW_HEADERS, col_widths))
        col_widths = out.widths(ROW_HEADERS, cells, col_widths)
        out.echo_lines(out.row_lines(cells, col_widths, [_row_styles(r) for r in rows]))
        shown += len(rows)
    if not shown:
        click.echo("No endpoints match.", err=True)
    elif limit and shown == limit:
        total = queries.count(f)
        if total > shown:
            click.echo(f"Showing {shown:,} of {total:,}; --limit 0 shows all.", err=True)


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


def _print_endpoint(view: queries.EndpointView, fmt: str, headline: str) -> None:
    """A created or changed endpoint: its object (json/csv) or a line and its detail."""
    if fmt == "json":
        out.echo_json(view.to_json())
    elif fmt == "csv":
        out.echo_csv(out.ENDPOINT_KEYS, [view.to_json()])
    else:
        click.echo(headline)
        out.echo_lines(out.endpoint_detail(queries.views([view.id], history=3)[0]
                                           .to_json(full=True)))


# --- endpoints: single-record changes --------------------------------------------------


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
    _print_endpoint(view, fmt, f"Created endpoint {view.id} ({out.state_label(view.state)}).")


def _setting(value: str | None) -> Any:
    """An option that may clear a setting: absent → unchanged, 'none' → cleared."""
    if value is None:
        return records.UNSET
    return None if value.strip().lower() in ("none", "") else value


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
        remove_tags=remove_tags, static_ip=_setting(static_ip), imei_lock=_setting(imei_lock),
    )
    _print_endpoint(view, fmt, f"Endpoint {view.id} saved.")


@endpoints.command("link")
@click.argument("ref")
@click.argument("sim_iccid", metavar="SIM_ICCID")
@format_option()
@click.pass_context
def endpoints_link(ctx: click.Context, ref: str, sim_iccid: str, fmt: str) -> None:
    """Link a Ready to Activate SIM to an endpoint in Hold."""
    actor = session(ctx)
    view = records.link_sim(actor, ref, sim_iccid)
    _print_endpoint(view, fmt, f"SIM {view.iccid} linked to endpoint {view.id}: "
                               f"now {out.state_label(view.state)}.")


# --- bulk actions ---------------------------------------------------------------------

#: What the typed confirmation of each dangerous action says before asking.
WARNINGS = {
    "terminate": "Terminate is irreversible: {n} will be disabled permanently, SIMs "
    "included. Each record is kept {days} days, then deleted.",
    "purge": "Purge deletes {n} terminated {days} days ago or more permanently, with their "
    "SIMs; only the audit trail keeps a 'purged' event.",
}


def _endpoints_word(n: int) -> str:
    return f"{n:,} endpoint{'s' if n != 1 else ''}"


def confirm(act: Action, eligible: int) -> None:
    """Ask before acting: y/N, or a typed ``<action> N`` for the irreversible ones."""
    if not _can_prompt():
        raise InputError("add --yes to run without a prompt (stdin is not a terminal)")
    if act.dangerous:
        warning = WARNINGS.get(act.name, "{n}: " + act.description)
        click.echo(warning.format(n=_endpoints_word(eligible), days=RETENTION_DAYS), err=True)
        word = f"{act.name} {eligible}"
        answer = click.prompt(f"Type '{word}' to continue", default="", show_default=False,
                              err=True)
        if answer.strip() != word:
            raise fail("the confirmation did not match; nothing was changed")
    elif not click.confirm("Proceed?", default=False, err=True):
        raise fail("nothing was changed")


class _Progress:
    """Progress of a job on stderr, for jobs larger than one chunk, on a terminal only."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if total <= actions.CHUNK or not sys.stderr.isatty():
            return
        pct = 100 * done // total if total else 100
        click.echo(f"\r{self.label}: {done:,}/{total:,} ({pct}%)", err=True, nl=False)
        self.shown = True

    def end(self) -> None:
        if self.shown:
            click.echo("", err=True)


@contextmanager
def interruptible() -> Iterator[Callable[[], bool]]:
    """Ctrl+C stops a job cleanly after its current chunk; a second one aborts at once."""
    stop = {"asked": False}

    def handler(signum: int, frame: Any) -> None:
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True
        click.echo("\nStopping after the current chunk (Ctrl+C again to abort)…", err=True)

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
    progress = _Progress(act.label)
    with interruptible() as cancelled:
        try:
            return actions.run(actor, act.name, targets, group=group, progress=progress,
                               cancelled=cancelled)
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
        click.echo(lines[0])
    out.echo_lines(lines[1:], err=True)
    if result.status != "done" or result.skipped or result.failed:
        raise Fail(1)


def _preview_json(pv: actions.Preview) -> dict[str, Any]:
    return {"action": pv.action, "total": pv.total, "eligible": pv.eligible,
            "skipped": dict(pv.skipped)}


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
    if targets.is_single() and not act.dangerous and not dry_run:
        _single(actor, act, targets.ids[0], group, fmt)
        return
    pv = actions.preview(actor, name, targets, group=group)
    if dry_run:
        out.echo_lines(pv.lines(), err=True)
        if fmt == "json":
            out.echo_json(_preview_json(pv))
        return
    if targets.is_single():
        # One endpoint (here: a dangerous action): ask only when it would change;
        # otherwise the run refuses with the endpoint's own reason.
        if pv.eligible and not yes:
            out.echo_lines(pv.lines(), err=True)
            confirm(act, pv.eligible)
        _single(actor, act, targets.ids[0], group, fmt)
        return
    out.echo_lines(pv.lines(), err=True)
    if pv.eligible == 0:
        if fmt == "json":
            out.echo_json({"job": None, "applied": 0, "skipped": dict(pv.skipped), "failed": 0})
        raise fail(f"nothing to {act.label.lower()}: none of the "
                   f"{_endpoints_word(pv.total)} is eligible")
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
        click.echo(f"{act.label}: {who} is now {out.state_label(view.state)}.")


def bulk_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """REF… plus the filter options, --all, --yes, --dry-run, --format."""
    fn = format_option()(fn)
    fn = click.option("--dry-run", is_flag=True, help="Only show the preview.")(fn)
    fn = click.option("--yes", "-y", is_flag=True, help="Do not ask before acting.")(fn)
    fn = click.option("--all", "every", is_flag=True,
                      help="Act on every endpoint (needed when no REF or filter is given).")(fn)
    fn = filter_options(fn)
    return click.argument("refs", nargs=-1, metavar="[REF]...")(fn)


def _lifecycle_command(name: str) -> None:
    act = ACTIONS[name]
    extra = ""
    if act.dangerous:
        extra = (f" Asks for a typed confirmation ('{name} N'); the record is kept "
                 f"{RETENTION_DAYS} days, then deleted.")
    if name == "resume":
        extra = " Only when the deployment allows it (see: simdeck settings)."

    @bulk_options
    @click.pass_context
    def command(ctx: click.Context, refs: tuple[str, ...], states: tuple[str, ...],
                group_filter: str | None, tag_filter: str | None, search: str, every: bool,
                yes: bool, dry_run: bool, fmt: str) -> None:
        filters = {"states": states, "group": group_filter, "tag": tag_filter, "search": search}
        bulk(ctx, name, refs, filters, every, yes, dry_run, fmt)

    command.__doc__ = (f"{act.description}. REF is an ICCID or an endpoint id; or choose "
                       f"endpoints with the filter options.{extra}")
    endpoints.command(name.replace("_", "-"))(command)


for _name in ("activate", "suspend", "resume", "terminate", "delink"):
    _lifecycle_command(_name)


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


# --- SIMs -----------------------------------------------------------------------------


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
    _print_report(rep.to_json(), rep.lines(), fmt, ok=rep.ok())


def _print_report(obj: dict[str, Any], lines: list[str], fmt: str, *, ok: bool) -> None:
    """An import or ingest report: JSON or the summary on stdout, problems on stderr."""
    if fmt == "table":
        out.echo_lines(lines[:1])
        out.echo_lines(lines[1:], err=True)
    else:
        if fmt == "json":
            out.echo_json(obj)
        else:
            out.echo_csv(list(obj), [obj])
        if not ok:
            out.echo_lines(lines, err=True)
    if not ok:
        raise Fail(2)


SIM_HEADERS = ("ICCID", "EID", "IMSI", "STATUS", "ENDPOINT")


def _sim_json(s: queries.SimRow) -> dict[str, Any]:
    return {"id": s.id, "iccid": s.iccid, "eid": s.eid, "imsi": s.imsi or None,
            "status": s.status, "endpoint_id": s.endpoint_id}


@sims.command("list")
@click.option("--status", metavar="S",
              help="'ready' (Ready to Activate) or the state of the linked endpoint.")
@click.option("--search", default="", metavar="Q", help="ICCID, EID or IMSI prefix.")
@_limit_option()
@format_option()
@click.pass_context
def sims_list(ctx: click.Context, status: str | None, search: str, limit: int, fmt: str) -> None:
    """The SIM inventory by ICCID, with each SIM's status."""
    session(ctx)

    def pages() -> Iterator[list[queries.SimRow]]:
        after: str | None = None
        seen = 0
        while True:
            size = STREAM_PAGE if not limit else min(STREAM_PAGE, limit - seen)
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

    objects = (_sim_json(s) for rows in pages() for s in rows)
    if fmt == "json":
        out.echo_json_array(objects)
    elif fmt == "csv":
        out.echo_csv(("id", "iccid", "eid", "imsi", "status", "endpoint_id"), objects)
    else:
        _stream_table(SIM_HEADERS, ((s["iccid"], s["eid"], s["imsi"], s["status"],
                                     s["endpoint_id"]) for s in objects), "No SIMs match.")


def _stream_table(headers: Sequence[str], rows: Iterator[Sequence[Any]], empty: str) -> int:
    """A long table printed page by page, widths taken from the first page."""
    col_widths: list[int] = []
    n = 0
    batch: list[Sequence[Any]] = []

    def flush() -> None:
        nonlocal col_widths
        if not col_widths:
            col_widths = out.widths(headers, batch)
            click.echo(out.header_line(headers, col_widths))
        col_widths = out.widths(headers, batch, col_widths)
        out.echo_lines(out.row_lines(batch, col_widths))
        batch.clear()

    for row in rows:
        batch.append(row)
        n += 1
        if len(batch) >= STREAM_PAGE:
            flush()
    if batch:
        flush()
    if not n:
        click.echo(empty, err=True)
    return n


# --- export ---------------------------------------------------------------------------


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
        click.echo(f"Wrote {n:,} endpoints.", err=True)
        return
    target = Path(file).expanduser()
    n = _write_csv_atomically(target, out.ENDPOINT_KEYS, objects)
    if fmt == "json":
        out.echo_json({"file": str(target), "written": n})
    else:
        click.echo(f"Wrote {n:,} endpoints to {target}.")


def _write_csv_atomically(target: Path, keys: Sequence[str],
                          objects: Iterator[dict[str, Any]]) -> int:
    """Stream rows to a temporary file beside ``target``, then put it in place."""
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {target}: the folder {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}") from None
    n = 0
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = out.csv_writer(fh)
            writer.writerow(keys)
            for row in out.csv_rows(keys, objects):
                writer.writerow(row)
                n += 1
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


# --- groups ---------------------------------------------------------------------------


@main.group(context_settings=CONTEXT)
def groups() -> None:
    """Endpoint Groups: named network configurations (admins change them)."""


GROUP_KEYS = ("id", "name", "endpoints", "apn", "ip_pool", "description")


def _print_groups(items: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        out.echo_json(items)
    elif fmt == "csv":
        out.echo_csv(GROUP_KEYS, items)
    else:
        out.echo_lines(out.table(
            ("NAME", "ENDPOINTS", "APN", "IP POOL", "DESCRIPTION"),
            [(g["name"], g["endpoints"], g["apn"], g["ip_pool"] or "",
              out.clip(g["description"], 48)) for g in items],
        ))


def _print_group(g: dict[str, Any], fmt: str, headline: str) -> None:
    if fmt == "json":
        out.echo_json(g)
    elif fmt == "csv":
        out.echo_csv(GROUP_KEYS, [g])
    else:
        click.echo(headline)


@groups.command("list")
@format_option()
@click.pass_context
def groups_list(ctx: click.Context, fmt: str) -> None:
    """Every Endpoint Group with its live endpoint count."""
    session(ctx)
    _print_groups(queries.groups_with_counts(), fmt)


@groups.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.option("--apn", default="")
@click.option("--ip-pool", metavar="CIDR", help="Static IPs of the group must be inside it.")
@format_option()
@click.pass_context
def groups_create(ctx: click.Context, name: str, description: str, apn: str,
                  ip_pool: str | None, fmt: str) -> None:
    """Create an Endpoint Group."""
    actor = session(ctx)
    g = records.create_group(actor, name, description=description, apn=apn, ip_pool=ip_pool)
    _print_group(g, fmt, f"Created group {g['name']}.")


@groups.command("edit")
@click.argument("name")
@click.option("--name", "new_name", help="Rename the group.")
@click.option("--description")
@click.option("--apn")
@click.option("--ip-pool", metavar="CIDR|none", help="Set the IP pool, or 'none' to clear it.")
@format_option()
@click.pass_context
def groups_edit(ctx: click.Context, name: str, new_name: str | None, description: str | None,
                apn: str | None, ip_pool: str | None, fmt: str) -> None:
    """Change an Endpoint Group's name, description, APN or IP pool."""
    if new_name is None and description is None and apn is None and ip_pool is None:
        raise click.UsageError("nothing to change: give --name, --description, --apn or "
                               "--ip-pool")
    actor = session(ctx)
    g = records.edit_group(actor, name, new_name=new_name, description=description, apn=apn,
                           ip_pool=_setting(ip_pool))
    _print_group(g, fmt, f"Saved group {g['name']}.")


@groups.command("delete")
@click.argument("name")
@format_option()
@click.pass_context
def groups_delete(ctx: click.Context, name: str, fmt: str) -> None:
    """Delete an Endpoint Group that no endpoint uses."""
    actor = session(ctx)
    records.delete_group(actor, name)
    if fmt == "json":
        out.echo_json({"deleted": name.strip()})
    elif fmt == "csv":
        out.echo_csv(("deleted",), [{"deleted": name.strip()}])
    else:
        click.echo(f"Deleted group {name.strip()}.")


# --- network --------------------------------------------------------------------------


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
    _print_report(rep.to_json(), rep.lines(), fmt, ok=not rep.errors)


# --- audit ----------------------------------------------------------------------------


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
@_limit_option(50)
@format_option()
@click.pass_context
def audit(ctx: click.Context, endpoint_ref: str | None, actor: str | None, action: str | None,
          since: dt.datetime | None, until: dt.datetime | None, limit: int, fmt: str) -> None:
    """The audit trail, newest first: who did what, when, to which endpoint."""
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
            size = STREAM_PAGE if not limit else min(STREAM_PAGE, limit - seen)
            if size <= 0:
                return
            page = queries.audit_page(af, before_id=before, limit=size)
            yield from page
            seen += len(page)
            if len(page) < size:
                return
            before = page[-1]["id"]

    if fmt == "json":
        out.echo_json_array(events())
    elif fmt == "csv":
        keys = ("id", "at", "actor", "action", "endpoint_id", "iccid", "from_state",
                "to_state", "detail", "job")
        out.echo_csv(keys, events())
    else:
        rows = list(events()) if limit else None
        if rows is not None:
            if rows:
                out.echo_lines(out.audit_table(rows))
            else:
                click.echo("No audit events match.", err=True)
            return
        batch: list[dict[str, Any]] = []
        for e in events():
            batch.append(e)
            if len(batch) >= STREAM_PAGE:
                out.echo_lines(out.audit_table(batch))
                batch.clear()
        if batch:
            out.echo_lines(out.audit_table(batch))


# --- jobs -----------------------------------------------------------------------------


@main.group(context_settings=CONTEXT)
def jobs() -> None:
    """Bulk jobs: what each applied, skipped and failed; resume an interrupted one."""


JOB_KEYS = ("id", "action", "actor", "status", "total", "applied", "skipped", "failed",
            "pending", "created_at", "finished_at", "message")


@jobs.command("list")
@_limit_option(50)
@format_option()
@click.pass_context
def jobs_list(ctx: click.Context, limit: int, fmt: str) -> None:
    """The latest bulk jobs, newest first."""
    session(ctx)
    items = actions.list_jobs(limit=limit or 1_000_000)
    if fmt == "json":
        out.echo_json(items)
    elif fmt == "csv":
        out.echo_csv(JOB_KEYS, items)
    elif not items:
        click.echo("No jobs yet.", err=True)
    else:
        out.echo_lines(out.table(
            ("ID", "ACTION", "ACTOR", "STATUS", "TOTAL", "APPLIED", "SKIPPED", "FAILED",
             "PENDING", "CREATED"),
            [(j["id"], j["action"], j["actor"], j["status"], j["total"], j["applied"],
              j["skipped"], j["failed"], j["pending"], j["created_at"]) for j in items],
        ))


@jobs.command("show")
@click.argument("job_id", metavar="JOB", type=click.IntRange(1, 2**63 - 1))
@format_option()
@click.pass_context
def jobs_show(ctx: click.Context, job_id: int, fmt: str) -> None:
    """One job: its counts, its skipped endpoints by reason."""
    session(ctx)
    j = actions.job_view(actions.get_job(job_id))
    if fmt == "json":
        out.echo_json(j)
    elif fmt == "csv":
        out.echo_csv(JOB_KEYS, [j])
    else:
        target = j.get("targets") or {}
        what = (queries.Filter.from_dict(target["filter"]).describe() if "filter" in target
                else f"{target.get('ids', '?')} endpoints chosen by id")
        lines = [f"Job {j['id']}"] + out.key_values([
            ("Action", ACTIONS[j["action"]].label if j["action"] in ACTIONS else j["action"]),
            ("Actor", j["actor"]),
            ("Targets", what),
            ("Group", j.get("group")),
            ("Status", j["status"]),
            ("Total", j["total"]),
            ("Applied", j["applied"]),
            ("Skipped", j["skipped"]),
            ("Failed", j["failed"]),
            ("Pending", j["pending"]),
            ("Created", j["created_at"]),
            ("Finished", j["finished_at"]),
            ("Message", j["message"]),
        ])
        if j["skipped_by_reason"]:
            lines += ["", "Skipped by reason"]
            lines += [f"  {n:,} — {why}" for why, n in sorted(j["skipped_by_reason"].items())]
            lines.append(f"  (their ICCIDs: simdeck jobs skipped {j['id']} --output FILE.csv)")
        out.echo_lines(lines)


@jobs.command("resume")
@click.argument("job_id", metavar="JOB", type=click.IntRange(1, 2**63 - 1))
@format_option()
@click.pass_context
def jobs_resume(ctx: click.Context, job_id: int, fmt: str) -> None:
    """Carry on an interrupted or cancelled job from the last chunk it committed."""
    actor = session(ctx)
    job = actions.get_job(job_id)
    label = ACTIONS[job.action].label if job.action in ACTIONS else job.action
    progress = _Progress(label)
    with interruptible() as cancelled:
        try:
            result = actions.resume(actor, job_id, progress=progress, cancelled=cancelled)
        finally:
            progress.end()
    report(result, fmt)


@jobs.command("skipped")
@click.argument("job_id", metavar="JOB", type=click.IntRange(1, 2**63 - 1))
@click.option("--output", "-o", metavar="FILE.csv", help="Write the CSV (iccid, reason) here.")
@format_option()
@click.pass_context
def jobs_skipped(ctx: click.Context, job_id: int, output: str | None, fmt: str) -> None:
    """The ICCIDs a job skipped, with the reason: to fix them or act on them again."""
    session(ctx)
    items = [{"iccid": iccid, "reason": why} for iccid, why in actions.job_skipped(job_id)]
    if output:
        target = Path(output).expanduser()
        n = _write_csv_atomically(target, ("iccid", "reason"), iter(items))
        if fmt == "json":
            out.echo_json({"file": str(target), "written": n})
        else:
            click.echo(f"Wrote {n:,} skipped ICCIDs to {target}.")
    elif fmt == "json":
        out.echo_json(items)
    elif fmt == "csv":
        out.echo_csv(("iccid", "reason"), items)
    elif items:
        out.echo_lines(out.table(("ICCID", "REASON"), [(i["iccid"], i["reason"]) for i in items]))
    else:
        click.echo(f"Job {job_id} skipped nothing.", err=True)


# --- purge, support -------------------------------------------------------------------


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
            out.echo_json(_preview_json(pv))
        return
    if pv.eligible == 0:
        if fmt == "json":
            out.echo_json({"job": None, "applied": 0, "skipped": dict(pv.skipped), "failed": 0})
        else:
            click.echo("Nothing to purge.")
        return
    if not yes:
        confirm(act, pv.eligible)
    report(run_job(actor, act, targets, None), fmt)


purge.help = (f"Delete endpoints terminated {RETENTION_DAYS} days ago or more, with their SIMs "
              "(admins). The audit trail keeps a 'purged' event.")


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
    _print_endpoint(view, fmt, f"Reinstated endpoint {view.id}: now "
                               f"{out.state_label(view.state)} (ticket {ticket.strip()}).")


support_reinstate.help = (f"Return a Terminated endpoint (terminated less than {RETENTION_DAYS} "
                          "days ago) to the state it had, SIM included. Support role only.")


# --- users, settings ------------------------------------------------------------------


@main.group(context_settings=CONTEXT)
def users() -> None:
    """Operators (OS accounts) and their roles: viewer, operator, admin, support."""


@users.command("list")
@format_option()
@click.pass_context
def users_list(ctx: click.Context, fmt: str) -> None:
    """Every operator and role."""
    actor = session(ctx)
    items = auth.list_operators(actor)
    if fmt == "json":
        out.echo_json(items)
    elif fmt == "csv":
        out.echo_csv(("username", "role", "created_by"), items)
    else:
        out.echo_lines(out.table(("USER", "ROLE", "ADDED BY"),
                                 [(u["username"], u["role"], u["created_by"]) for u in items]))


@users.command("add")
@click.argument("user")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]),
              help="viewer: read and export; operator: + endpoint and SIM actions; "
              "admin: + groups, operators, purge; support: + reinstate.")
@format_option()
@click.pass_context
def users_add(ctx: click.Context, user: str, role: str, fmt: str) -> None:
    """Grant an OS account access with a role (or change its role); admins only."""
    actor = session(ctx)
    auth.add_operator(actor, user, role)
    item = {"username": user.strip(), "role": role}
    if fmt == "json":
        out.echo_json(item)
    elif fmt == "csv":
        out.echo_csv(("username", "role"), [item])
    else:
        click.echo(f"{user.strip()} is now {role}.")


@users.command("remove")
@click.argument("user")
@format_option()
@click.pass_context
def users_remove(ctx: click.Context, user: str, fmt: str) -> None:
    """Take away an OS account's access; admins only; the last admin stays."""
    actor = session(ctx)
    auth.remove_operator(actor, user)
    if fmt == "json":
        out.echo_json({"removed": user})
    elif fmt == "csv":
        out.echo_csv(("removed",), [{"removed": user}])
    else:
        click.echo(f"{user} is no longer an operator.")


@main.group(context_settings=CONTEXT)
def settings() -> None:
    """Deployment policy, set by an admin for everyone using this database.

    allow_resume (true/false, default false): whether a Suspended endpoint may be
    resumed to Active.
    """


@settings.command("list")
@format_option()
@click.pass_context
def settings_list(ctx: click.Context, fmt: str) -> None:
    """Every deployment setting, its value and its default."""
    session(ctx)
    items = [{"key": k, "value": actions.setting(k), "default": d, "description": why}
             for k, (d, why) in actions.SETTINGS.items()]
    if fmt == "json":
        out.echo_json({i["key"]: i["value"] for i in items})
    elif fmt == "csv":
        out.echo_csv(("key", "value", "default", "description"), items)
    else:
        out.echo_lines(out.table(("KEY", "VALUE", "DEFAULT", "WHAT IT DECIDES"),
                                 [(i["key"], i["value"], i["default"], i["description"])
                                  for i in items]))


@settings.command("set")
@click.argument("key", metavar="KEY", type=click.Choice(list(actions.SETTINGS)))
@click.argument("value", metavar="true|false")
@format_option()
@click.pass_context
def settings_set(ctx: click.Context, key: str, value: str, fmt: str) -> None:
    """Change a deployment setting (admins); e.g. settings set allow_resume true."""
    actor = session(ctx)
    actions.set_setting(actor, key, value)
    new = actions.setting(key)
    if fmt == "json":
        out.echo_json({key: new})
    elif fmt == "csv":
        out.echo_csv(("key", "value"), [{"key": key, "value": new}])
    else:
        click.echo(f"{key} = {new}")


# --- demo, serve ----------------------------------------------------------------------


def demo_path() -> str:
    """Where the demo database lives unless --db names another."""
    import platformdirs

    return str(platformdirs.user_data_path("simdeck") / "demo.db")


@main.command("demo")
@click.option("--endpoints", "count", type=click.IntRange(1, 5_000_000), default=5_000,
              show_default=True, help="How many endpoints the demo fleet has.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option("--no-tui", is_flag=True, help="Only build (or find) the database.")
@click.pass_context
def demo(ctx: click.Context, count: int, seed: int, no_tui: bool) -> None:
    """Create (once) a demo database of a vehicle fleet, then open the console on it.

    The database is demo.db in the user's data directory unless --db is given on the
    command line (SIMDECK_DB is ignored here, so a demo never fills a real database).
    An existing demo database is reused; delete the file to build a new one.
    """
    opts: Options = ctx.find_root().obj
    url = opts.url if opts.db_on_command_line and opts.url else demo_path()
    db = open_database(url, read_only=opts.read_only)
    ctx.call_on_close(db.close)
    try:
        built = has_schema()
    except peewee.DatabaseError as exc:
        raise InputError(f"cannot read the database {describe(url)}: {exc}") from None
    if built:
        db.close()
        db = open_store(url, opts.read_only)
        auth.login(read_only=opts.read_only)
        counts = queries.counts_by_state(queries.Filter())
        click.echo(f"Using the demo database {describe(url)}, built earlier "
                   "(delete it to build a new one).")
        click.echo(f"{sum(counts.values()):,} endpoints: " + ", ".join(
            f"{n:,} {s.label}" for s, n in counts.items() if n))
    else:
        if opts.read_only:
            raise PermissionDenied("cannot build the demo database with --read-only")
        from simdeck.core.demo import build_demo

        click.echo(f"Building the demo database {describe(url)} "
                   f"({count:,} endpoints, seed {seed})…", err=True)
        say = (lambda message: click.echo(f"  {message}", err=True)) if sys.stderr.isatty() \
            else None
        summary = build_demo(count, seed=seed, operator=auth.os_user(), progress=say)
        out.echo_lines(summary.lines())
    db.close()
    if no_tui:
        return
    if not _open_console(url, opts.read_only):
        click.echo("The console is not available yet; the demo database is ready at "
                   f"{describe(url)} (use it with --db).")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """The console in a browser (textual-serve)."""
    opts: Options = ctx.find_root().obj
    session(ctx)
    try:
        from simdeck.tui.serve import serve as serve_console
    except ImportError as exc:
        raise fail(f"the browser console is not available in this installation ({exc}); "
                   "install simdeck[serve]") from None
    click.echo(f"Serving the console at http://{host}:{port} (Ctrl+C stops it).", err=True)
    url = opts.resolved_url
    if "://" not in url:  # each browser session starts in the server's folder: be exact
        url = str(Path(url).expanduser().resolve())
    serve_console(url, host=host, port=port, read_only=opts.read_only)


if __name__ == "__main__":
    main()
