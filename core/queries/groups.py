"""Endpoint Groups and tags as lists: names, live endpoints per group, tags in use."""

from __future__ import annotations

from typing import Any

import peewee as pw

from ..lifecycle import State
from ..models import Endpoint, EndpointGroup, EndpointTag
from .filters import _prefix_range


def group_names() -> dict[int, str]:
    """Every group's id and name (there are few)."""
    return dict(EndpointGroup.select(EndpointGroup.id, EndpointGroup.name).tuples())


def group_list() -> list[str]:
    """Every Endpoint Group's name, in the database's name order (the group filter's choices)."""
    return [
        name
        for (name,) in EndpointGroup.select(EndpointGroup.name)
        .order_by(EndpointGroup.name)
        .tuples()
    ]


def groups_with_counts() -> list[dict[str, Any]]:
    """Every Endpoint Group with its configuration, how many live endpoints it has
    (``endpoints``) and how many endpoints hold it, terminated ones too (``all_endpoints``)."""
    live: dict[int, int] = {}
    every: dict[int, int] = {}
    # Per group and state, from the (group_id, state) index alone; terminated endpoints
    # still hold their group (it cannot be deleted), but are not its live endpoints.
    for gid, state, n in (
        Endpoint.select(Endpoint.group, Endpoint.state, pw.fn.COUNT(Endpoint.id))
        .where(Endpoint.group.is_null(False))
        .group_by(Endpoint.group, Endpoint.state)
        .tuples()
    ):
        every[gid] = every.get(gid, 0) + int(n)
        if state != State.TERMINATED.value:
            live[gid] = live.get(gid, 0) + int(n)
    return [
        {
            "id": g.id,
            "name": g.name,
            "description": g.description,
            "apn": g.apn,
            "ip_pool": g.ip_pool,
            "endpoints": live.get(g.id, 0),
            "all_endpoints": every.get(g.id, 0),
        }
        for g in EndpointGroup.select().order_by(EndpointGroup.name)
    ]


def tags(prefix: str = "", limit: int = 200) -> list[str]:
    """Tags in use, by name (for the tag filter's choices)."""
    q = EndpointTag.select(EndpointTag.tag).distinct().order_by(EndpointTag.tag).limit(limit)
    if prefix:
        q = q.where(_prefix_range(EndpointTag.tag, prefix.lower()))
    return [t for (t,) in q.tuples()]
