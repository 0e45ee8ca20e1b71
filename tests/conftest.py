"""Shared fixtures: a fresh file database per test, and endpoints brought to any state
through core's own operations (so their audit trail is real)."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from simdeck.core import actions, auth, db, models, records
from simdeck.core.actions import Targets
from simdeck.core.identifiers import make_iccid
from simdeck.core.lifecycle import State
from simdeck.core.models import Imsi, Sim

GROUP = "vantiq-connect-eu"
OTHER_GROUP = "vantiq-connect-us"


#: Set to a PostgreSQL server URL to run the store-level suites against PostgreSQL.
PG_URL = os.environ.get("SIMDECK_TEST_PG", "")


@pytest.fixture
def store(tmp_path: object) -> Iterator[str]:
    """A new, empty database: a SQLite file (never :memory:, so threads share it), or a
    fresh PostgreSQL database when SIMDECK_TEST_PG names a server."""
    if PG_URL:
        url = _fresh_pg_database()
        db.open_database(url)
        models.create_schema()
        yield url
        db.database.close()
        _drop_pg_database(url)
        return
    path = str(tmp_path) + "/simdeck.db"  # type: ignore[operator]
    db.open_database(path)
    models.create_schema()
    yield path
    db.database.close()


@pytest.fixture
def blank(tmp_path: object) -> Iterator[str]:
    """A database that does not exist yet as simdeck sees it (no schema): a SQLite path
    in the test's folder, or a new, empty PostgreSQL database when SIMDECK_TEST_PG is set."""
    if PG_URL:
        url = _fresh_pg_database()
        yield url
        if db.database.obj is not None:
            db.database.close()
        _drop_pg_database(url)
        return
    yield str(tmp_path) + "/blank.db"  # type: ignore[operator]


def _admin_connection():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(PG_URL, autocommit=True)


def _fresh_pg_database() -> str:
    name = "simdeck_t_" + uuid.uuid4().hex[:12]
    with _admin_connection() as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{name}"


def _drop_pg_database(url: str) -> None:
    """Drop a test's database, and the simdeck group memberships its tests granted: login
    and group roles are the server's, shared by every database on it, so a role granted
    in one test would otherwise hold in the next."""
    import psycopg
    from psycopg import sql

    name = url.rpartition("/")[2]
    with _admin_connection() as conn:
        try:
            with psycopg.connect(url, autocommit=True) as test_db:
                users = [u for (u,) in test_db.execute("SELECT username FROM operator")]
        except psycopg.Error:
            users = []
        groups = [r for (r,) in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'simdeck\\_%'")]
        for user in users:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s AND NOT rolsuper",
                                  (user,)).fetchone()
            if exists and groups:
                conn.execute(sql.SQL("REVOKE {} FROM {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, groups)), sql.Identifier(user)))
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def admin(store: str) -> auth.Actor:
    """The database's first user, hence its admin."""
    return auth.login(user="admin")


@dataclass
class Maker:
    """Builds SIMs and endpoints in any display state, through core."""

    actor: auth.Actor
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def sim(self, *, eid: str | None = None, imsis: int = 1) -> str:
        """A Ready to Activate SIM; returns its ICCID."""
        n = next(self.serial)
        iccid = make_iccid(f"894450{n:012d}")
        sim = Sim.create(iccid=iccid, eid=eid)
        for pos in range(imsis):
            Imsi.create(sim=sim, position=pos, imsi=f"00101{n:08d}{pos:02d}")
        return iccid

    def group(self, name: str = GROUP, ip_pool: str | None = None) -> str:
        from simdeck.core.models import EndpointGroup

        if not EndpointGroup.select().where(EndpointGroup.name == name).exists():
            records.create_group(self.actor, name, apn="iot.example", ip_pool=ip_pool)
        return name

    def endpoint(self, state: State | str, **kw: object) -> int:
        """An endpoint brought to ``state`` by the operations an operator would use."""
        state = State(state)
        group = self.group()
        if state is State.HOLD:
            return records.create_endpoint(self.actor, name=f"hold-{next(self.serial)}",
                                           **kw).id  # type: ignore[arg-type]
        if state is State.PENDING:
            return records.create_endpoint(self.actor, sim=self.sim(), **kw).id  # type: ignore[arg-type]
        if state is State.PRE_ACTIVE:
            return records.create_endpoint(
                self.actor, sim=self.sim(), group=group, activate_immediately=False, **kw  # type: ignore[arg-type]
            ).id
        ep = records.create_endpoint(self.actor, sim=self.sim(), group=group, **kw)  # type: ignore[arg-type]
        if state is State.ACTIVE:
            return ep.id
        if state in (State.IDLE, State.DETACHED):
            from simdeck.core import network

            event = "attach" if state is State.IDLE else "detach"
            network.apply_events(self.actor, [{"iccid": ep.iccid, "event": event}])
            return ep.id
        action = {State.SUSPENDED: "suspend", State.TERMINATED: "terminate"}[state]
        actions.run(self.actor, action, Targets.one(ep.id))
        return ep.id


@pytest.fixture
def make(admin: auth.Actor) -> Maker:
    """A Maker acting as the admin."""
    return Maker(admin)


def state_of(endpoint_id: int) -> str:
    """The stored display state of one endpoint."""
    return str(models.Endpoint.get_by_id(endpoint_id).state)


def audit_count() -> int:
    """How many audit events the store holds."""
    return int(models.AuditEvent.select().count())
