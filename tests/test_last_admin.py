"""The last admin cannot be demoted or removed: without one nobody could manage operators."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from simdeck.core import auth, db
from simdeck.core.errors import Refused
from simdeck.core.lifecycle import Role
from simdeck.core.models import Operator
from simdeck.tui import cli


def _cli(path: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["--db", path, *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def _roles(path: str) -> dict[str, str]:
    db.open_database(path)
    try:
        return {o.username: o.role for o in Operator.select()}
    finally:
        db.database.close()


@pytest.fixture
def only_admin(store: str, monkeypatch: pytest.MonkeyPatch) -> str:
    auth.login(user="alice")  # the first operator of a new database is its admin
    db.database.close()
    monkeypatch.setattr(auth, "os_user", lambda: "alice")
    return store


def test_the_only_admin_cannot_demote_themselves(only_admin: str) -> None:
    code, err = _cli(only_admin, "users", "add", "alice", "--role", "viewer")
    assert code == 1
    assert "you are the last admin" in err and "make another operator admin first" in err
    assert _roles(only_admin) == {"alice": "admin"}


def test_nor_through_a_browser_session(only_admin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMDECK_VIA", "serve")
    code, err = _cli(only_admin, "users", "add", "alice", "--role", "operator")
    assert code == 1 and "you are the last admin" in err
    code, err = _cli(only_admin, "users", "remove", "alice")
    assert code == 1 and "you are the last admin" in err
    assert _roles(only_admin) == {"alice": "admin"}


def test_with_a_second_admin_the_first_may_step_down(only_admin: str) -> None:
    assert _cli(only_admin, "users", "add", "bob", "--role", "admin")[0] == 0
    assert _cli(only_admin, "users", "add", "alice", "--role", "viewer")[0] == 0
    assert _roles(only_admin) == {"alice": "viewer", "bob": "admin"}


def test_another_admin_naming_the_last_one(only_admin: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cli(only_admin, "users", "add", "bob", "--role", "support")[0] == 0
    assert _cli(only_admin, "users", "add", "alice", "--role", "operator")[0] == 0
    monkeypatch.setattr(auth, "os_user", lambda: "bob")
    # Support includes admin's rights: bob is now the last one who holds them.
    code, err = _cli(only_admin, "users", "add", "bob", "--role", "viewer")
    assert code == 1 and "you are the last admin" in err
    assert _roles(only_admin) == {"alice": "operator", "bob": "support"}


def test_the_message_names_the_other_user(store: str) -> None:
    Operator.create(username="carol", role="admin", created_by="carol")
    actor = auth.Actor("dave", Role.ADMIN)  # an admin whose row is gone, acting still
    with pytest.raises(Refused, match="carol is the last admin"):
        auth.add_operator(actor, "carol", "viewer")
    assert Operator.get(Operator.username == "carol").role == "admin"
