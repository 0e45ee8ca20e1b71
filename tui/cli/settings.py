"""``simdeck settings``: the deployment's policy, set by an admin."""

from __future__ import annotations

import click

from simdeck.core import settings as core_settings
from simdeck.tui.cli import output as out
from simdeck.tui.cli.params import format_option
from simdeck.tui.cli.root import CONTEXT, main, session


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
    items = [{"key": k, "value": core_settings.setting(k), "default": d, "description": why}
             for k, (d, why) in core_settings.SETTINGS.items()]
    if fmt == "json":
        out.echo_json({i["key"]: i["value"] for i in items})
    elif fmt == "csv":
        out.echo_csv(("key", "value", "default", "description"), items)
    else:
        out.echo_lines(out.table(("KEY", "VALUE", "DEFAULT", "WHAT IT DECIDES"),
                                 [(i["key"], i["value"], i["default"], i["description"])
                                  for i in items]))


@settings.command("set")
@click.argument("key", metavar="KEY", type=click.Choice(list(core_settings.SETTINGS)))
@click.argument("value", metavar="true|false")
@format_option()
@click.pass_context
def settings_set(ctx: click.Context, key: str, value: str, fmt: str) -> None:
    """Change a deployment setting (admins); e.g. settings set allow_resume true."""
    actor = session(ctx)
    core_settings.set_setting(actor, key, value)
    new = core_settings.setting(key)
    if fmt == "json":
        out.echo_json({key: new})
    elif fmt == "csv":
        out.echo_csv(("key", "value"), [{"key": key, "value": new}])
    else:
        out.echo(f"{key} = {new}")
