"""Roles the server enforces: real logins of a viewer, an operator and a support role
over TCP with a password (pg_hba.conf as .ci/postgres writes it), each a session of its
own, so ``session_user`` is the role itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import psycopg.sql
import pytest

from simdeck.core import actions, auth, db, pg, settings
from simdeck.core.actions import Targets
from simdeck.core.db import retrying
from simdeck.core.errors import PermissionDenied, Refused
from simdeck.core.lifecycle import Role, State
from simdeck.core.models import AuditEvent, Endpoint
from tests.conftest import PG_URL, Maker, _admin_connection, _drop_pg_database, _fresh_pg_database

PASSWORD = "s3cret-%-'quoted'"


@dataclass
class Team:
    """A database with a few endpoints, and login roles granted through core."""

    url: str
    admin: auth.Actor
    maker: Maker
    logins: dict[str, str]  # simdeck role → login role name

    def url_of(self, role: str) -> str:
        """The database's URL for the login role granted ``role`` (no password in it)."""
        host = PG_URL.split("@", 1)[1].rsplit("/", 1)[0]
        return f"postgresql://{self.logins[role]}@{host}/{self.url.rsplit('/', 1)[1]}"

    def connect(self, role: str) -> psycopg.Connection:
        """A session of its own as the login role granted ``role``."""
        return psycopg.connect(self.url_of(role), password=PASSWORD, autocommit=True)


@pytest.fixture
def team() -> Iterator[Team]:
    url = _fresh_pg_database()
    db.open_database(url)
    from simdeck.core import models

    models.create_schema()
    admin = auth.login(user="admin")
    maker = Maker(admin)
    suffix = uuid.uuid4().hex[:8]
    logins = {r: f"t_{r}_{suffix}" for r in ("viewer", "operator", "admin", "support", "nobody")}
    try:
        for role in ("viewer", "operator", "admin", "support"):
            auth.grant(admin, logins[role], role, password=PASSWORD)
        with _admin_connection() as conn:
            conn.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                psycopg.sql.Identifier(logins["nobody"]), psycopg.sql.Literal(PASSWORD)))
        yield Team(url, admin, maker, logins)
    finally:
        if db.database.obj is not None:
            db.database.close()
        _drop_pg_database(url)
        with _admin_connection() as conn:
            for name in logins.values():
                conn.execute(f"DROP ROLE IF EXISTS {name}")


def _state(conn: psycopg.Connection, endpoint_id: int) -> str:
    row = conn.execute("SELECT state FROM endpoint WHERE id = %s", (endpoint_id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_a_viewer_reads_and_the_server_refuses_its_writes(team: Team) -> None:
    ep = team.maker.endpoint(State.ACTIVE)
    with team.connect("viewer") as conn:
        assert conn.execute("SELECT session_user").fetchone() == (team.logins["viewer"],)
        assert _state(conn, ep) == "active"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE endpoint SET name = 'taken over' WHERE id = %s", (ep,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO audit_event (at, actor, action, iccid, detail) "
                         "VALUES (now(), 'x', 'suspend', '', '')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE operator SET role = 'admin'")
    assert Endpoint.get_by_id(ep).name != "taken over"


def test_an_operators_audit_event_naming_another_actor_is_stored_under_its_own_name(
    team: Team,
) -> None:
    operator = team.logins["operator"]
    with team.connect("operator") as conn:
        row = conn.execute(
            "INSERT INTO audit_event (at, actor, action, iccid, detail) "
            "VALUES (now(), 'admin', 'suspend', '', 'forged') RETURNING id").fetchone()
    assert row is not None
    assert AuditEvent.get_by_id(row[0]).actor == operator
    # The owner (trusted, like the demo build) keeps the actor it names.
    assert AuditEvent.create(actor="network", action="attach", iccid="").actor == "network"
    assert AuditEvent.get(AuditEvent.action == "attach").actor == "network"


def test_a_transition_the_lifecycle_forbids_is_refused_by_the_server(team: Team) -> None:
    dead = team.maker.endpoint(State.TERMINATED)
    hold = team.maker.endpoint(State.HOLD)
    with team.connect("operator") as conn:
        with pytest.raises(psycopg.errors.CheckViolation, match="terminated to active"):
            conn.execute("UPDATE endpoint SET state = 'active' WHERE state = 'terminated'")
        with pytest.raises(psycopg.errors.CheckViolation, match="hold to suspended"):
            conn.execute("UPDATE endpoint SET state = 'suspended' WHERE id = %s", (hold,))
        assert (_state(conn, dead), _state(conn, hold)) == ("terminated", "hold")
        # Reinstate is support's: allowed by the lifecycle, not for an operator.
        with pytest.raises(psycopg.errors.CheckViolation, match="for " + team.logins["operator"]):
            conn.execute("UPDATE endpoint SET state = state_before_termination "
                         "WHERE id = %s", (dead,))
        # Purge is admin's.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM endpoint WHERE id = %s", (dead,))
        # Nothing is created past the lifecycle either.
        with pytest.raises(psycopg.errors.CheckViolation, match="created in Hold, Pending"):
            conn.execute("INSERT INTO endpoint (iccid, name, reference, tags, state, "
                         "activate_immediately, last_activity, created_at, updated_at, "
                         "version) VALUES ('', 'born dead', '', '', 'terminated', true, 0, "
                         "now(), now(), 1)")
    with team.connect("support") as conn:
        conn.execute("UPDATE endpoint SET state = state_before_termination WHERE id = %s",
                     (dead,))
        assert _state(conn, dead) != "terminated"
    # An admin purges only what is terminated.
    with team.connect("admin") as conn:
        with pytest.raises(psycopg.errors.CheckViolation, match="only a terminated endpoint"):
            conn.execute("DELETE FROM endpoint WHERE id = %s", (hold,))
        conn.execute("UPDATE endpoint SET state = 'terminated' WHERE id = %s", (hold,))
        conn.execute("DELETE FROM endpoint WHERE id = %s", (hold,))
        assert conn.execute("SELECT count(*) FROM endpoint WHERE id = %s",
                            (hold,)).fetchone() == (0,)
    hold = team.maker.endpoint(State.HOLD)
    # The owner is outside the checks (it could drop the trigger): it repairs.
    Endpoint.update(state="suspended").where(Endpoint.id == hold).execute()
    assert Endpoint.get_by_id(hold).state == "suspended"


def test_on_postgresql_identity_and_role_come_from_the_session(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As an operator would keep it: in libpq's environment (or ~/.pgpass), not the URL.
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    ids = [team.maker.endpoint(State.ACTIVE) for _ in range(3)]
    hold = team.maker.endpoint(State.HOLD)
    db.database.close()
    db.open_database(team.url_of("operator"))
    operator = team.logins["operator"]
    actor = auth.login()
    assert (actor.name, actor.role.value) == (operator, "operator")
    with pytest.raises(PermissionDenied, match="cannot act as admin"):
        auth.login(user="admin")
    with pytest.raises(PermissionDenied):
        auth.grant(actor, "someone", "admin")
    result = actions.run(actor, "suspend", Targets(ids=tuple(ids)))
    assert result.applied == 3
    events = AuditEvent.select().where(AuditEvent.action == "suspend")
    assert {e.actor for e in events} == {operator}
    # What the server refuses reaches the operator as a sentence, nothing changed.
    with pytest.raises(PermissionDenied, match="the server refused"):
        settings.set_setting(auth.Actor(operator, Role.ADMIN), "allow_resume", "true")
    with pytest.raises(Refused, match="hold to suspended is not allowed"):
        retrying(lambda: Endpoint.update(state="suspended").where(Endpoint.id == hold).execute())
    db.database.close()


def test_a_login_role_without_a_simdeck_group_is_refused_then_granted_then_revoked(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody = team.logins["nobody"]
    monkeypatch.setenv("PGPASSWORD", PASSWORD)

    def login_as_nobody() -> auth.Actor:
        db.database.close()
        db.open_database(team.url_of("nobody"))
        try:
            return auth.login()
        finally:
            db.database.close()

    with pytest.raises(PermissionDenied, match="simdeck users add " + nobody):
        login_as_nobody()
    db.open_database(team.url)
    auth.grant(team.admin, nobody, "viewer")
    assert {"username": nobody, "role": "viewer", "created_by": "admin"} in \
        auth.list_operators(team.admin)
    assert login_as_nobody().role.value == "viewer"
    db.open_database(team.url)
    auth.revoke(team.admin, nobody)
    assert nobody not in pg.roles_of_members()
    with pytest.raises(PermissionDenied):
        login_as_nobody()


def test_the_servers_transition_table_is_the_lifecycles(team: Team) -> None:
    stored = {(a, b): g for a, b, g in db.database.execute_sql(
        "SELECT from_state, to_state, group_role FROM lifecycle_transition").fetchall()}
    assert stored == {(a.value, b.value): pg.group_role(r)
                      for (a, b), r in pg.transitions().items()}


def test_a_viewer_keeps_saved_views_on_postgresql(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simdeck.core.queries import Filter
    from simdeck.core.views_saved import load_view, save_view, view_names

    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    db.database.close()
    db.open_database(team.url_of("viewer"))
    viewer = auth.login()
    assert viewer.role.value == "viewer"
    save_view(viewer, "idle", Filter(states=("idle",)), "name", False)
    save_view(viewer, "idle", Filter(states=("idle",)), "iccid", True)
    assert view_names(viewer) == ["idle"]
    assert load_view(viewer, "idle").sort == "iccid"
    db.database.close()
