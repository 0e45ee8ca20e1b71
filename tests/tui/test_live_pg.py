"""Live refresh on the store the tests run on: PostgreSQL when SIMDECK_TEST_PG names a
server (the PostgreSQL lane of .ci/run), a SQLite file otherwise.

Another connection commits through core; the console, whose reader thread has its own
connection, shows the change within the two seconds the interface promises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from simdeck.core import actions, auth, db, records
from simdeck.core.actions import Targets
from simdeck.core.lifecycle import State
from simdeck.core.models import AuditEvent, Endpoint
from simdeck.tui.reader import Reader
from tests.conftest import Maker
from tests.tui.conftest import endpoints_screen, screen_text, settle, the_list, wait_for

#: The interface's promise: another operator's change is on screen within this.
PROMISE = 2.0


def _small_fleet(make: Maker) -> dict[str, int]:
    """A few endpoints in different states, named so the default order is known."""
    ids = {}
    for name, state in (("alpha", State.ACTIVE), ("bravo", State.SUSPENDED),
                        ("charlie", State.HOLD), ("delta", State.ACTIVE)):
        ep_id = make.endpoint(state)
        records.edit_endpoint(make.actor, ep_id, name=name)
        ids[name] = ep_id
    return ids


def _counts(app: Any) -> str:
    return str(endpoints_screen(app).query_one("#counts").render())


async def _within_promise(pilot: Any, check: Callable[[], Any]) -> float:
    """Wait for ``check`` no longer than the promise; return how long it took."""
    start = time.monotonic()
    await wait_for(pilot, check, timeout=PROMISE)
    return time.monotonic() - start


async def test_another_connections_changes_reach_the_console_within_two_seconds(
    store: str, make: Maker, make_app: Any
) -> None:
    ids = _small_fleet(make)
    db.database.close()
    # The real console's interval: this is the test of the two-second promise.
    app = make_app(store, user="admin", poll_interval=1.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "alpha" in screen_text(app) and "│ 4 endpoints" in _counts(app)
        actor = auth.login(user="admin")  # the test's own connection, not the reader's

        records.edit_endpoint(actor, ids["alpha"], name="alpha-bis")
        await _within_promise(pilot, lambda: "alpha-bis" in screen_text(app))

        actions.run(actor, "suspend", Targets.one(ids["delta"]))
        vlist = the_list(app)
        await _within_promise(pilot, lambda: any(
            r.id == ids["delta"] and r.state == "suspended" for r in vlist.visible_rows()))

        records.create_endpoint(actor, name="echo")
        await _within_promise(pilot, lambda: "│ 5 endpoints" in _counts(app)
                              and "echo" in screen_text(app))
        # What the screen shows is what the store holds.
        assert Endpoint.get_by_id(ids["delta"]).state == "suspended"
        assert Endpoint.select().count() == 5


def _watching(poll_interval: float = 0.05) -> tuple[Reader, threading.Event]:
    """A reader thread on the open store that sets the event on each change it sees."""
    changed = threading.Event()
    reader = Reader(poll_interval=poll_interval, on_change=changed.set)
    reader.start()
    return reader, changed


def _open_on_reader(reader: Reader, url: str) -> None:
    """Open the store on the reader thread (its own connection) and start polling."""
    done = threading.Event()

    def open_here() -> None:
        db.open_database(url)
        reader.ready = True

    reader.submit("setup", open_here, lambda r, e: done.set())
    assert done.wait(5)


def _seen(changed: threading.Event, timeout: float = PROMISE) -> bool:
    seen = changed.wait(timeout)
    changed.clear()
    return seen


def test_a_commit_below_the_newest_audit_id_is_still_seen(store: str, make: Maker) -> None:
    # On PostgreSQL a transaction that took its id first may commit last: the newest
    # id does not move then, and the change must be seen all the same.
    make.endpoint(State.ACTIVE)
    top = int(AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id.desc()).scalar())
    reader, changed = _watching()
    try:
        _open_on_reader(reader, store)
        time.sleep(0.2)  # a first signature taken
        changed.clear()
        AuditEvent.insert(id=top + 10, actor="admin", action="edit").execute()
        assert _seen(changed), "a newer audit event was not noticed"
        time.sleep(0.2)
        changed.clear()
        AuditEvent.insert(id=top + 5, actor="admin", action="edit").execute()
        assert _seen(changed), "a late commit below the newest id was not noticed"
        time.sleep(0.3)
        assert not changed.is_set(), "nothing changed, yet a change was reported"
    finally:
        reader.stop()


def test_a_transaction_left_open_by_a_read_does_not_hide_later_commits(
    store: str, make: Maker
) -> None:
    # A read that leaves a transaction open would pin the reader to its snapshot
    # (REPEATABLE READ on PostgreSQL, the WAL read snapshot on SQLite).
    ep_id = make.endpoint(State.ACTIVE)
    reader, changed = _watching()
    try:
        _open_on_reader(reader, store)
        done = threading.Event()

        def careless_read() -> int:
            begin = "BEGIN" if db.is_sqlite() else "BEGIN ISOLATION LEVEL REPEATABLE READ"
            db.database.execute_sql(begin)
            return int(db.database.execute_sql("SELECT count(*) FROM audit_event").fetchone()[0])

        reader.submit("careless", careless_read, lambda r, e: done.set())
        assert done.wait(5)
        time.sleep(0.2)
        changed.clear()
        records.edit_endpoint(make.actor, ep_id, name="seen-after-all")
        assert _seen(changed), "a commit after a read's open transaction was not noticed"
    finally:
        reader.stop()
