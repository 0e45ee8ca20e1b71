"""Saved views: kept per operator in the database, refused in words, and made by the
migration to schema version 5 on a version 4 database."""

from __future__ import annotations

import pytest

from simdeck.core import auth, db, models
from simdeck.core import store as store_module
from simdeck.core.errors import InputError, NotFound, ValidationError
from simdeck.core.models import Operator, SavedView
from simdeck.core.queries import Filter
from simdeck.core.views_saved import load_view, save_view, view_names


def test_a_view_is_kept_per_operator_and_replaced_by_name(admin: auth.Actor) -> None:
    Operator.create(username="olga", role="viewer", created_by=admin.name)
    olga = auth.login(user="olga")
    idle = Filter(states=("idle",), search="VM-EU")
    save_view(admin, "idle eu", idle, "last_activity", True)
    save_view(olga, "mine", Filter(tag="fleet-a"), "name", False)
    assert view_names(admin) == ["idle eu"]
    assert view_names(olga) == ["mine"]
    view = load_view(admin, " idle eu ")
    assert (view.filter, view.sort, view.descending) == (idle, "last_activity", True)
    save_view(admin, "idle eu", Filter(), "iccid", False)
    assert SavedView.select().where(SavedView.owner == admin.name).count() == 1
    assert load_view(admin, "idle eu").filter == Filter()
    with pytest.raises(NotFound, match="view mine: no saved view has this name; yours are: "
                                       "idle eu"):
        load_view(admin, "mine")


@pytest.mark.parametrize(("name", "sort", "words"), [
    ("", "name", "view name: is empty"),
    ("a\x1b[2Jb", "name", "view name"),
    ("x" * 65, "name", "at most 64"),
    ("ok", "colour", "sort 'colour': not a column"),
])
def test_a_bad_view_is_refused_and_nothing_kept(
    admin: auth.Actor, name: str, sort: str, words: str
) -> None:
    with pytest.raises((ValidationError, InputError), match=words.replace("(", r"\(")):
        save_view(admin, name, Filter(), sort, False)
    assert SavedView.select().count() == 0


def test_read_only_keeps_no_view(admin: auth.Actor) -> None:
    reader = auth.login(user=admin.name, read_only=True)
    with pytest.raises(InputError, match="read-only"):
        save_view(reader, "x", Filter(), "name", False)
    assert SavedView.select().count() == 0


def test_a_version_4_database_gets_the_table(store: str) -> None:
    db.database.drop_tables([SavedView])
    models.Setting.update(value="4").where(models.Setting.key == "schema_version").execute()
    db.database.close()
    store_module.open_store(store)
    assert models.schema_version() == models.SCHEMA_VERSION
    admin = auth.login()
    save_view(admin, "after", Filter(states=("active",)), "name", False)
    assert view_names(admin) == ["after"]
