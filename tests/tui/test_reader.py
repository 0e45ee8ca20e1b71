"""The reader thread: one request per slot, the newest wins, a superseded query is stopped."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from simdeck.core import db, models
from simdeck.tui.reader import COUNTS, URGENT, Reader

LONG_QUERY = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000000) "
    "SELECT count(*) FROM n"
)


def _reader(tmp_path: Path) -> Reader:
    db.open_database(str(tmp_path / "r.db"))
    models.create_schema()
    db.database.close()
    reader = Reader(poll_interval=60)
    reader.start()
    return reader


def _wait(reader: Reader, results: list[Any], n: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (len(results) < n or not reader.idle) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_waiting_request_is_replaced_by_the_newer_one(tmp_path: Path) -> None:
    reader = _reader(tmp_path)
    results: list[Any] = []
    gate = threading.Event()
    try:
        reader.submit("block", lambda: gate.wait(2), lambda r, e: results.append("block"))
        for n in range(5):
            reader.submit("page", lambda n=n: n, lambda r, e: results.append(r))
        gate.set()
        _wait(reader, results, 2)
        assert results == ["block", 4]
    finally:
        reader.stop()


def test_a_running_count_is_interrupted_by_a_newer_request(tmp_path: Path) -> None:
    reader = _reader(tmp_path)
    results: list[Any] = []

    def long_count() -> Any:
        return db.database.execute_sql(LONG_QUERY).fetchone()[0]

    try:
        first = reader.submit("count", long_count, lambda r, e: results.append(("old", r, e)),
                              priority=COUNTS, interruptible=True)
        time.sleep(0.3)
        started = time.monotonic()
        reader.submit("count", lambda: 7, lambda r, e: results.append(("new", r, e)),
                      priority=COUNTS, interruptible=True)
        _wait(reader, results, 1)
        assert time.monotonic() - started < 2.0
        assert results == [("new", 7, None)]
        assert not reader.is_current("count", first)
    finally:
        reader.stop()


def test_an_interrupted_query_that_is_still_wanted_runs_again(tmp_path: Path) -> None:
    reader = _reader(tmp_path)
    results: list[Any] = []
    calls = []

    def count_once_slowly() -> Any:
        calls.append(1)
        if len(calls) == 1:
            return db.database.execute_sql(LONG_QUERY).fetchone()[0]
        return 42

    try:
        reader.submit("count", count_once_slowly, lambda r, e: results.append(r),
                      priority=COUNTS, interruptible=True)
        time.sleep(0.3)
        # A more urgent read stops the count; the count is still wanted, so it runs again.
        reader.submit("page", lambda: "page", lambda r, e: results.append(r), priority=URGENT)
        _wait(reader, results, 2)
        assert results == ["page", 42]
    finally:
        reader.stop()


def test_changes_by_another_connection_are_noticed(tmp_path: Path) -> None:
    db.open_database(str(tmp_path / "r.db"))
    models.create_schema()
    seen = threading.Event()
    reader = Reader(poll_interval=0.05, on_change=seen.set)
    reader.start()
    try:
        reader.submit("setup", lambda: setattr(reader, "ready", True), lambda r, e: None)
        time.sleep(0.3)
        assert not seen.is_set()
        models.AuditEvent.create(actor="bob", action="edit")
        assert seen.wait(2.0)
    finally:
        reader.stop()
