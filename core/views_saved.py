"""Saved views: an operator's named filter and sort of the Endpoints screen, kept in the
database per operator (the console's ``:save NAME`` and ``:view NAME``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import identifiers as ids
from .auth import Actor
from .db import retrying
from .errors import InputError, NotFound, ValidationError
from .models import SavedView, utcnow
from .queries import SORTS, Filter

#: The longest name a view may have.
NAME_LIMIT = 64


@dataclass(frozen=True)
class View:
    """One saved view: what the Endpoints screen shows under its name."""

    name: str
    filter: Filter
    sort: str
    descending: bool


def check_name(raw: str) -> str:
    """A view's name: printable, one to NAME_LIMIT characters."""
    name = ids.normalize_text("view name", raw, limit=NAME_LIMIT)
    if not name:
        raise ValidationError("view name", raw, "is empty: give the view a name")
    return name


def save_view(actor: Actor, raw_name: str, f: Filter, sort: str, descending: bool) -> View:
    """Keep (or replace) the operator's view ``raw_name``; read-only consoles keep none."""
    if actor.read_only:
        raise InputError("read-only: views cannot be saved in a read-only console")
    name = check_name(raw_name)
    if sort not in SORTS:
        raise InputError(f"sort {sort!r}: not a column (one of {', '.join(SORTS)})")
    stored = json.dumps(f.to_dict(), sort_keys=True)

    def do() -> None:
        values = {SavedView.filter: stored, SavedView.sort: sort,
                  SavedView.descending: descending, SavedView.updated_at: utcnow()}
        changed = (SavedView.update(values)
                   .where((SavedView.owner == actor.name) & (SavedView.name == name))
                   .execute())
        if not changed:
            SavedView.create(owner=actor.name, name=name, filter=stored, sort=sort,
                             descending=descending)

    retrying(do)
    return View(name, f, sort, descending)


def view_names(actor: Actor) -> list[str]:
    """The operator's saved views, by name."""
    query = (SavedView.select(SavedView.name).where(SavedView.owner == actor.name)
             .order_by(SavedView.name))
    return [name for (name,) in query.tuples()]


def load_view(actor: Actor, raw_name: str) -> View:
    """The operator's view ``raw_name``; NotFound naming the views there are."""
    name = check_name(raw_name)
    row = SavedView.get_or_none((SavedView.owner == actor.name) & (SavedView.name == name))
    if row is None:
        known = view_names(actor)
        there = f"yours are: {', '.join(known)}" if known else "you have none yet (:save NAME)"
        raise NotFound(f"view {name}: no saved view has this name; {there}")
    sort = row.sort if row.sort in SORTS else "name"
    return View(row.name, Filter.from_dict(json.loads(row.filter or "{}")), sort,
                bool(row.descending))


__all__ = ["View", "check_name", "save_view", "view_names", "load_view"]
