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
    # Every endpoint per group from the group index alone, then the terminated ones of
    # each group as one short range of the (group_id, state) index: terminated endpoints
    # still hold their group (it cannot be deleted), but are not its live endpoints.
    # Cheaper than counting every (group, state) pair: the picker opens on it.
    every: dict[int, int] = {
        gid: int(n)
        for gid, n in Endpoint.select(Endpoint.group, pw.fn.COUNT(Endpoint.id))
        .where(Endpoint.group.is_null(False))
        .group_by(Endpoint.group)
        .tuples()
    }
    live: dict[int, int] = {}
    for gid, n in every.items():
        gone = (Endpoint.select(pw.fn.COUNT(Endpoint.id))
                .where((Endpoint.group == gid) & (Endpoint.state == State.TERMINATED.value))
                .scalar())
        live[gid] = n - int(gone or 0)
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
