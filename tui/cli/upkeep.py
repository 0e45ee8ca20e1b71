"""``simdeck db``: the database's own upkeep (admins)."""

from __future__ import annotations

import click

from simdeck.core import text_index
from simdeck.tui.cli import output as out
from simdeck.tui.cli.params import format_option
from simdeck.tui.cli.root import CONTEXT, main, options, session


@main.group("db", context_settings=CONTEXT)
def db_group() -> None:
    """The database's own upkeep (admins): tidy the search index at a quiet hour."""


@db_group.command("tidy")
@click.option("--wait", type=click.FloatRange(0, 600), default=5.0, show_default=True,
              metavar="SECONDS",
              help="How long to wait for another writer (an operator's change, a bulk job, "
              "an import) before refusing with nothing changed.")
@format_option()
@click.pass_context
def db_tidy(ctx: click.Context, wait: float, fmt: str) -> None:
    """Merge the search index into one segment and lift it out of the merges' reach
    (SQLite; admins).

    Every change to a name or reference adds a small segment to the trigram index that
    searches use; SQLite merges them as they pile up, inside the change that tips them,
    so an operator's edit now and then waits for a merge. Tidying merges them all at a
    time of your choosing and puts the result where those merges never reach it. It
    holds the write lock while it merges (seconds at a million endpoints; others wait or
    retry) and changes no record: run it from cron at a quiet hour, e.g.

        15 3 * * *  simdeck --db /srv/simdeck/simdeck.db db tidy

    Refused, with nothing changed, when another writer holds the database for longer
    than --wait, and on PostgreSQL, whose trigram indexes need no such upkeep.
    """
    actor = session(ctx)
    done = text_index.tidy_store(actor, options(ctx).resolved_url, wait=wait)
    fields = {"database": done.database, "segments_before": done.segments,
              "levels_before": done.levels, "already_tidy": done.already,
              "lifted": done.lifted, "seconds": round(done.seconds, 3)}
    if fmt == "json":
        out.echo_json(fields)
    elif fmt == "csv":
        out.echo_csv(tuple(fields), [fields])
    else:
        out.echo(done.message())
