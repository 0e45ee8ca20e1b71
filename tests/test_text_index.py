"""The trigram index's upkeep: its merge settings, and a bulk-built index lifted out of the
reach of the merges an operator's edit sets off, with every search still right."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from simdeck.core import auth, db, demo, models, records, text_index
from simdeck.core.auth import Actor
from simdeck.core.lifecycle import Role
from simdeck.core.queries import Filter, page
from simdeck.tui import cli

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


def test_a_new_store_has_the_merge_settings(tmp_path: Path) -> None:
    path = str(tmp_path / "new.db")
    db.open_database(path)
    try:
        models.create_schema()
    finally:
        db.database.close()
    assert config(path) == text_index.SETTINGS == {"automerge": 8, "crisismerge": 32}


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
    done = text_index.tidy_store(ADMIN, built)
    assert done.lifted and not done.already
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


# --- simdeck db tidy -------------------------------------------------------------------


def tidy(path: str, *args: str) -> Result:
    result = CliRunner().invoke(cli.main, ["--db", path, "db", "tidy", *args])
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def searches(path: str) -> dict[str, list[int]]:
    """What a few searches find, in the list's order (ids)."""
    db.open_database(path)
    try:
        return {text: [r.id for r in page(Filter(search=text), "name", limit=500)]
                for text in ("VM-EU", "tidy-0", "tidy-05", "WVW", "8944", "ETRON")}
    finally:
        db.database.close()


@pytest.fixture
def as_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "os_user", lambda: "admin")


def test_db_tidy_leaves_many_edits_in_one_lifted_segment_and_every_search_the_same(
    built: str, as_admin: None
) -> None:
    for k in range(60):
        # Each its own transaction, as an operator's edits are: a segment each.
        records.edit_endpoint(ADMIN, 1 + k % 40, name=f"tidy-{k:03d}")
    db.database.close()
    messy = levels(built)
    assert len(messy) > 1 and text_index.LIFT_LEVEL in messy
    found = searches(built)
    assert found["tidy-05"] and found["VM-EU"]
    segments = sum(len(s) for s in messy.values())

    result = tidy(built)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"Tidied the search index of {re.escape(built)}: {segments} segments on "
        rf"{len(messy)} levels merged into one, lifted out of the merges' reach, in "
        r"\d+\.\d s\.\n", result.stdout), result.stdout
    after = levels(built)
    assert list(after) == [text_index.LIFT_LEVEL] and len(after[text_index.LIFT_LEVEL]) == 1
    integrity(built)
    assert searches(built) == found

    again = tidy(built, "--format", "json")
    assert again.exit_code == 0
    assert json.loads(again.stdout) | {"seconds": 0} == {
        "database": built, "segments_before": 1, "levels_before": 1, "already_tidy": True,
        "lifted": False, "seconds": 0}
    assert levels(built) == after


def test_db_tidy_refuses_while_another_writer_holds_the_database(
    built: str, as_admin: None
) -> None:
    records.edit_endpoint(ADMIN, 1, name="tidy-locked")
    db.database.close()
    before = levels(built)
    writer = sqlite3.connect(built, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE endpoint SET name = 'held' WHERE id = 2")
        result = tidy(built, "--wait", "0.2")
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.startswith(f"simdeck: the database {built} is busy: another "
                                        "writer")
        assert "nothing was changed" in result.stderr and len(result.stderr.splitlines()) == 1
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert levels(built) == before
    integrity(built)
    # Once the writer is gone it runs.
    assert tidy(built).exit_code == 0
    assert list(levels(built)) == [text_index.LIFT_LEVEL]


def test_db_tidy_is_for_admins(built: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db.open_database(built)
    try:
        auth.add_operator(ADMIN, "olga", "operator")
    finally:
        db.database.close()
    monkeypatch.setattr(auth, "os_user", lambda: "olga")
    records_before = levels(built)
    result = tidy(built)
    assert result.exit_code == 3
    assert result.stderr == ("simdeck: cannot tidy the search index: olga has the operator "
                             "role, and this needs admin or above\n")
    assert levels(built) == records_before
