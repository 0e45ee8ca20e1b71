"""``simdeck users``: operators and their roles (OS accounts; login roles on PostgreSQL)."""

from __future__ import annotations

import click

from simdeck.core import auth
from simdeck.core.lifecycle import Role
from simdeck.tui.cli import output as out
from simdeck.tui.cli.params import format_option
from simdeck.tui.cli.root import CONTEXT, main, session


@main.group(context_settings=CONTEXT)
def users() -> None:
    """Operators and their roles: viewer, operator, admin, support.

    On SQLite an operator is an OS account of this host; on PostgreSQL a login role
    of the server, granted into the group role simdeck_ROLE.
    """


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
    """Grant an operator a role (or change it); admins only.

    On PostgreSQL: creates the login role USER if it does not exist (give it a
    password or peer authentication on the server), then grants it simdeck_ROLE.
    """
    actor = session(ctx)
    auth.grant(actor, user, role)
    item = {"username": user.strip(), "role": role}
    if fmt == "json":
        out.echo_json(item)
    elif fmt == "csv":
        out.echo_csv(("username", "role"), [item])
    else:
        out.echo(f"{user.strip()} is now {role}.")


@users.command("remove")
@click.argument("user")
@format_option()
@click.pass_context
def users_remove(ctx: click.Context, user: str, fmt: str) -> None:
    """Take away an operator's access; admins only; the last admin stays.

    On PostgreSQL: revokes the simdeck group roles; the login role itself stays.
    """
    actor = session(ctx)
    auth.revoke(actor, user)
    if fmt == "json":
        out.echo_json({"removed": user})
    elif fmt == "csv":
        out.echo_csv(("removed",), [{"removed": user}])
    else:
        out.echo(f"{user} is no longer an operator.")
