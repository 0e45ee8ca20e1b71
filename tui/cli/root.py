"""The root of the command line: ``main``, its global options and the session.

Exit codes (interface.md): 0 done; 1 refused or partly applied; 2 invalid input or
usage; 3 permission denied. A core error is printed as ``simdeck: <message>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click
from click.core import ParameterSource

from simdeck.core import auth
from simdeck.core.db import default_url, loose_permissions
from simdeck.core.errors import SimdeckError
from simdeck.core.sanitize import printable
from simdeck.core.store import DATABASE_ERRORS, Database, damaged, open_store

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass
class Options:
    """The global options, and the session once a command has opened it."""

    url: str | None
    read_only: bool
    db_on_command_line: bool
    actor: auth.Actor | None = None
    db: Database | None = None

    @property
    def resolved_url(self) -> str:
        return self.url or default_url()


def options(ctx: click.Context) -> Options:
    """The global options of this invocation."""
    opts: Options = ctx.find_root().obj
    return opts


def session(ctx: click.Context) -> auth.Actor:
    """The operator for this command, the database opened once per process."""
    opts = options(ctx)
    if opts.actor is None:
        opts.db = open_store(opts.resolved_url, opts.read_only)
        ctx.find_root().call_on_close(opts.db.close)
        warning = loose_permissions(opts.resolved_url)
        if warning:
            click.echo(f"simdeck: {printable(warning)}", err=True)
        opts.actor = auth.login(read_only=opts.read_only)
    return opts.actor


class SimdeckGroup(click.Group):
    """The root group: turns a core error into ``simdeck: <message>`` and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            # click quotes the argument it refuses: shown, never sent, like every message.
            # (``message`` is Final to type checkers only; click reads it when it prints.)
            vars(exc)["message"] = printable(exc.message, multiline=True)
            raise
        except SimdeckError as exc:
            click.echo(f"simdeck: {printable(exc, multiline=True)}", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except DATABASE_ERRORS as exc:
            # A corrupt page is noticed only by the query that reads it.
            error = damaged(exc, options(ctx).resolved_url if ctx.obj else "")
            if error is None:
                raise
            click.echo(f"simdeck: {printable(error, multiline=True)}", err=True)
            raise click.exceptions.Exit(error.exit_code) from None


class Fail(click.exceptions.Exit):
    """Stop with an exit code after the reason was printed."""


def fail(message: str, code: int = 1) -> Fail:
    """Print ``simdeck: message`` on stderr and return the exit to raise."""
    click.echo(f"simdeck: {printable(message, multiline=True)}", err=True)
    return Fail(code)


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
        if ctx.obj.db is not None:
            ctx.obj.db.close()
        if not open_console(ctx.obj.resolved_url, read_only):
            raise Fail(1)


def open_console(url: str, read_only: bool) -> bool:
    """Run the console; False (with a line saying so) when it is not installed."""
    try:
        from simdeck.tui.app import run_console
    except ImportError as exc:
        click.echo("simdeck: the console is not available in this installation "
                   f"({printable(exc)})", err=True)
        return False
    run_console(url, read_only)
    return True
