"""``simdeck demo``: build (once) a demo database, then open the console on it."""

from __future__ import annotations

import sys

import click

from simdeck.core import auth, queries
from simdeck.core.db import describe
from simdeck.core.errors import PermissionDenied
from simdeck.core.store import open_bare, open_store
from simdeck.tui.cli import output as out
from simdeck.tui.cli.root import main, open_console, options


def demo_path() -> str:
    """Where the demo database lives unless --db names another."""
    import platformdirs

    return str(platformdirs.user_data_path("simdeck") / "demo.db")


@main.command("demo")
@click.option("--endpoints", "count", type=click.IntRange(1, 5_000_000), default=5_000,
              show_default=True, help="How many endpoints the demo fleet has.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option("--no-tui", is_flag=True, help="Only build (or find) the database.")
@click.option("--rebuild", is_flag=True,
              help="Build the demo again (only a demo database is ever dropped).")
@click.pass_context
def demo(ctx: click.Context, count: int, seed: int, no_tui: bool, rebuild: bool) -> None:
    """Create (once) a demo database of a vehicle fleet, then open the console on it.

    The database is demo.db in the user's data directory unless --db is given on the
    command line (SIMDECK_DB is ignored here, so a demo never fills a real database).
    An existing demo database is reused; --rebuild builds it anew. A build that stopped
    half-way is recognised and built again.
    """
    from simdeck.core import demo as core_demo

    opts = options(ctx)
    url = opts.url if opts.db_on_command_line and opts.url else demo_path()
    db, built = open_bare(url, opts.read_only)
    ctx.call_on_close(db.close)
    if built and not opts.read_only:
        stage = core_demo.status()
        if stage == core_demo.BUILDING or (rebuild and stage == core_demo.BUILT):
            if stage == core_demo.BUILDING:
                out.echo(f"The demo database {describe(url)} was left half-built; "
                           "building it again.", err=True)
            core_demo.discard()
            built = False
    if built:
        db.close()
        db = open_store(url, opts.read_only)
        auth.login(read_only=opts.read_only)
        counts = queries.counts_by_state(queries.Filter())
        have = sum(counts.values())
        out.echo(f"Using the demo database {describe(url)}, built earlier "
                 "(simdeck demo --rebuild builds a new one).")
        out.echo(f"{have:,} endpoints: " + ", ".join(
            f"{n:,} {s.label}" for s, n in counts.items() if n))
        asked = ctx.get_parameter_source("count") is not click.core.ParameterSource.DEFAULT
        if asked and have != count:
            # Said, not done silently: a demo of another size is kept until asked.
            out.echo(f"It has {have:,} endpoints, not the {count:,} asked for; to build "
                       f"it with {count:,}: simdeck demo --endpoints {count} --rebuild",
                       err=True)
    else:
        if opts.read_only:
            raise PermissionDenied("cannot build the demo database with --read-only")
        out.echo(f"Building the demo database {describe(url)} "
                   f"({count:,} endpoints, seed {seed})…", err=True)
        say = (lambda message: out.echo(f"  {message}", err=True)) if sys.stderr.isatty() \
            else None
        summary = core_demo.build_demo(count, seed=seed, operator=auth.os_user(), progress=say)
        out.echo_lines(summary.lines())
    db.close()
    out.echo(f"The command line on this demo: export SIMDECK_DB={_quoted(url)}  "
               "(then simdeck endpoints list, simdeck audit …)")
    if no_tui:
        return
    if not open_console(url, opts.read_only):
        out.echo("The console is not available yet; the demo database is ready at "
                   f"{describe(url)} (use it with --db).")


def _quoted(path: str) -> str:
    """``path`` as a shell word."""
    import shlex

    return shlex.quote(path)
