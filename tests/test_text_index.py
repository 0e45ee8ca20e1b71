"""The trigram index's upkeep: its merge settings, and a bulk-built index lifted out of the
reach of the merges an operator's edit sets off, with every search still right."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simdeck.core import db, demo, models, records, text_index
from simdeck.core.auth import Actor
from simdeck.core.lifecycle import Role
from simdeck.core.queries import Filter, page

NOW = dt.datetime(2025, 11, 21, 4, 40)
ADMIN = Actor("admin", Role.ADMIN)


@pytest.fixture
def built(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "demo.db")
    db.open_database(path)
    demo.build_demo(3000, seed=5, now=NOW, operator="admin")
    yield path
    db.database.close()


def config(path: str) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {k: int(v) for k, v in conn.execute("SELECT k, v FROM endpoint_text_config")
                if k in text_index.SETTINGS}


def levels(path: str) -> dict[int, list[int]]:
    """Level → its segment ids, for the levels that hold any."""
    conn = sqlite3.connect(path)
    try:
        found = text_index.structure(conn)
    finally:
        conn.close()
    assert found is not None
    return {i: [seg for seg, _, _ in segs] for i, segs in enumerate(found.levels) if segs}


def integrity(path: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO endpoint_text(endpoint_text) VALUES ('integrity-check')")


def test_a_new_store_has_the_merge_settings(store: str) -> None:
    if not db.is_sqlite():
        pytest.skip("the trigram index is SQLite's")
    assert config(store) == text_index.SETTINGS == {"automerge": 8, "crisismerge": 32}


def test_the_demo_index_is_lifted_and_edits_never_merge_it(built: str) -> None:
    assert config(built) == text_index.SETTINGS
    lifted = levels(built)
    assert list(lifted) == [text_index.LIFT_LEVEL]
    big = lifted[text_index.LIFT_LEVEL]
    ids = [r.id for r in page(Filter(search="VM-EU"), "id", limit=200)]
    for k in range(120):
        # Each edit is its own transaction, as an operator's are.
        records.edit_endpoint(ADMIN, ids[k % 7], name=f"VM-EU-EDITED-{k:04d}")
    after = levels(built)
    assert after[text_index.LIFT_LEVEL] == big, "the large segment was merged"
    assert max(after) == text_index.LIFT_LEVEL and len(after) > 1
    integrity(built)
    found = page(Filter(search="EDITED-0119"), "id", limit=10)
    assert [r.name for r in found] == ["VM-EU-EDITED-0119"]
    assert page(Filter(search="EDITED-0005"), "id") == []  # renamed again since


def test_tidy_merges_everything_into_one_lifted_segment(built: str) -> None:
    for k in range(20):
        records.edit_endpoint(ADMIN, 1 + k, name=f"tidy-{k:03d}")
    assert len(levels(built)) > 1
    db.database.close()
    assert text_index.tidy(built)
    after = levels(built)
    assert list(after) == [text_index.LIFT_LEVEL] and len(after[text_index.LIFT_LEVEL]) == 1
    integrity(built)
    db.open_database(built)
    assert [r.name for r in page(Filter(search="tidy-01"), "name", limit=50)] == [
        f"tidy-{k:03d}" for k in range(10, 20)]


def test_the_record_round_trips_and_an_unknown_one_is_left_alone(built: str) -> None:
    conn = sqlite3.connect(built)
    try:
        record = bytes(conn.execute(
            "SELECT block FROM endpoint_text_data WHERE id = 10").fetchone()[0])
    finally:
        conn.close()
    found = text_index.decode(record)
    assert found is not None and text_index.encode(found) == record
    assert text_index.decode(record + b"\x01") is None
    assert text_index.decode(record[:-1]) is None
    # Already lifted: a second lift changes nothing.
    assert text_index.lift(built) is False
    conn = sqlite3.connect(built)
    try:
        assert bytes(conn.execute(
            "SELECT block FROM endpoint_text_data WHERE id = 10").fetchone()[0]) == record
    finally:
        conn.close()
    assert models.schema_version() == models.SCHEMA_VERSION
