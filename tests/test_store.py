"""What the console's reader polls: a signature that every commit changes, read outside any
transaction a careless read left open."""

from __future__ import annotations

import threading

from simdeck.core import auth, db, records
from simdeck.core.store import change_signature, end_stray_transaction


def _in_transaction() -> bool:
    conn = db.database.connection()
    if db.is_sqlite():
        return bool(conn.in_transaction)
    from psycopg.pq import TransactionStatus

    return bool(conn.info.transaction_status != TransactionStatus.IDLE)


def test_every_commit_changes_the_signature(admin: auth.Actor) -> None:
    first = change_signature()
    assert change_signature() == first
    records.create_group(admin, "vantiq-fleet-a", apn="iot.example")
    second = change_signature()
    assert second != first

    def elsewhere() -> None:  # its own connection: peewee opens one per thread
        records.create_group(admin, "vantiq-fleet-b", apn="iot.example")
        db.database.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert change_signature() not in (first, second)


def test_a_transaction_left_open_is_rolled_back_before_the_poll(store: str) -> None:
    db.database.execute_sql("BEGIN")
    db.database.execute_sql("SELECT count(*) FROM endpoint").fetchone()
    assert _in_transaction()

    end_stray_transaction()

    assert not _in_transaction()


def test_an_atomic_block_is_left_alone(store: str) -> None:
    with db.database.atomic():
        db.database.execute_sql("SELECT count(*) FROM endpoint").fetchone()
        end_stray_transaction()
        assert _in_transaction()
