"""The console's reader on PostgreSQL: a count that a newer request made useless is
cancelled on the server (a cancel request), as SQLite's is interrupted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from simdeck.core import db, models
from simdeck.tui.reader import COUNTS, URGENT, Reader
from tests.conftest import _drop_pg_database, _fresh_pg_database
from tests.tui.test_reader import LONG_QUERY, _wait


@pytest.fixture
def reader() -> Iterator[Reader]:
    url = _fresh_pg_database()
    db.open_database(url)
    models.create_schema()
    db.database.close()
    reading = Reader(poll_interval=60)
    reading.start()
    yield reading
    reading.stop()
    _drop_pg_database(url)


def test_a_running_count_is_cancelled_by_a_newer_request(reader: Reader) -> None:
    results: list[Any] = []

    def long_count() -> Any:
        return db.database.execute_sql(LONG_QUERY).fetchone()[0]

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


def test_a_cancelled_count_still_wanted_runs_again(reader: Reader) -> None:
    results: list[Any] = []
    calls: list[int] = []

    def count_once_slowly() -> Any:
        calls.append(1)
        if len(calls) == 1:
            return db.database.execute_sql(LONG_QUERY).fetchone()[0]
        return 42

    reader.submit("count", count_once_slowly, lambda r, e: results.append(r),
                  priority=COUNTS, interruptible=True)
    time.sleep(0.3)
    reader.submit("page", lambda: "page", lambda r, e: results.append(r), priority=URGENT)
    _wait(reader, results, 2)
    assert results == ["page", 42]
