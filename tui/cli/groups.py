"""``simdeck groups``: Endpoint Groups, their network configuration and counts."""

from __future__ import annotations

from typing import Any

import click

from simdeck.core import queries, records
from simdeck.tui.cli import output as out
from simdeck.tui.cli.params import clearable, format_option
from simdeck.tui.cli.root import CONTEXT, main, session


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
        out.echo(headline)


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
                           ip_pool=clearable(ip_pool))
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
        out.echo(f"Deleted group {name.strip()}.")
