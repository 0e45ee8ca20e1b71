"""The demo fleet: every state, valid identifiers, the invariants, determinism."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from simdeck.core import db, demo, invariants, models
from simdeck.core import identifiers as ids
from simdeck.core.demo import sqlite as demo_sqlite
from simdeck.core.errors import InputError
from simdeck.core.lifecycle import RETENTION_DAYS, State

NOW = dt.datetime(2026, 5, 1, 12, 0, 0)
N = 2000


def _build(path: Path, *, seed: int = 1, n: int = N,
           progress: list[str] | None = None) -> demo.DemoSummary:
    db.open_database(str(path))
    try:
        return demo.build_demo(n, seed=seed, now=NOW, operator="admin",
                               progress=None if progress is None else progress.append)
    finally:
        db.database.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, demo.DemoSummary]:
    path = tmp_path_factory.mktemp("demo") / "d.db"
    return path, _build(path)


@pytest.fixture
def fleet_db(built: tuple[Path, demo.DemoSummary]) -> Iterator[demo.DemoSummary]:
    """The module's demo database, bound."""
    path, summary = built
    db.open_database(str(path))
    yield summary
    db.database.close()


def rows(sql: str, *params: object) -> list[tuple[object, ...]]:
    return list(db.database.execute_sql(sql, params).fetchall())


def digest(path: Path) -> str:
    """A digest of every table's rows, in id order, and of a search."""
    db.open_database(str(path))
    try:
        h = hashlib.sha256()
        for table in ("endpoint_group", "endpoint", "sim", "imsi", "endpoint_tag", "operator",
                      "audit_event", "job", "job_item"):
            order = "tag, endpoint_id" if table == "endpoint_tag" else (
                "job_id, endpoint_id" if table == "job_item" else "1")
            for row in rows(f"SELECT * FROM {table} ORDER BY {order}"):
                h.update(repr(row).encode())
        h.update(repr(rows("SELECT rowid FROM endpoint_text WHERE endpoint_text MATCH "
                           "'\"ZZE2Z\"' ORDER BY rowid")).encode())
        return h.hexdigest()
    finally:
        db.database.close()


def test_every_display_state_is_there_in_a_realistic_mix(fleet_db: demo.DemoSummary) -> None:
    counts = dict(rows("SELECT state, COUNT(*) FROM endpoint GROUP BY state"))
    assert set(counts) == {s.value for s in State}
    assert counts == fleet_db.by_state
    assert sum(counts.values()) == N == fleet_db.endpoints
    share = {s: n / N for s, n in counts.items()}
    assert 0.38 < share["active"] < 0.52
    assert 0.15 < share["idle"] < 0.25
    assert all(v >= 0.015 for v in share.values())
    assert len(fleet_db.lines()) >= 3 + len(State)


def test_groups_have_apns_and_pools(fleet_db: demo.DemoSummary) -> None:
    groups = {name: (apn, pool) for name, apn, pool in
              rows("SELECT name, apn, ip_pool FROM endpoint_group")}
    assert set(groups) == {"vantiq-connect-eu", "vantiq-connect-us", "vantiq-connect-apac",
                           "vantiq-connect-latam", "vantiq-test-bench"}
    assert groups["vantiq-connect-eu"] == ("iot.vantiq.eu", "10.20.0.0/14")
    for _apn, pool in groups.values():
        if pool:
            assert ids.normalize_ip_pool(pool) == pool
    assert fleet_db.groups == 5


def test_the_invariants_of_lifecycle_md_hold(fleet_db: demo.DemoSummary) -> None:
    assert invariants.violations(limit=3) == []


def test_each_endpoint_out_of_hold_has_exactly_its_sim(fleet_db: demo.DemoSummary) -> None:
    linked = rows(
        "SELECT e.id, e.state, e.iccid, COUNT(s.id), MAX(s.iccid) FROM endpoint e "
        "LEFT JOIN sim s ON s.endpoint_id = e.id GROUP BY e.id")
    for _id, state, iccid, sims, sim_iccid in linked:
        if state == "hold":
            assert (iccid, sims) == ("", 0)
        else:
            assert sims == 1 and iccid == sim_iccid
    pool = rows("SELECT COUNT(*) FROM sim WHERE endpoint_id IS NULL")[0][0]
    assert pool == fleet_db.pool_sims >= 50
    assert rows("SELECT COUNT(*) FROM sim")[0][0] == fleet_db.sims


def test_every_identifier_is_valid_and_unique(fleet_db: demo.DemoSummary) -> None:
    sims = rows("SELECT iccid, eid FROM sim")
    iccids = [s[0] for s in sims]
    assert all(ids.normalize_iccid(i) == i and len(i) == 19 and i.startswith("8944")
               for i in iccids)
    eids = [s[1] for s in sims if s[1] is not None]
    assert all(ids.normalize_eid(e) == e for e in eids)
    assert 0.78 < len(eids) / len(sims) < 0.92
    imsis = rows("SELECT sim_id, position, imsi FROM imsi ORDER BY sim_id, position")
    assert all(ids.normalize_imsi(i) == i and len(i) == 15 for _, _, i in imsis)
    per_sim = Counter(s for s, _, _ in imsis)
    assert len(per_sim) == len(sims) and set(per_sim.values()) <= {1, 2, 3}
    assert 0.05 < sum(1 for n in per_sim.values() if n > 1) / len(per_sim) < 0.15
    positions = {}
    for sim, position, _ in imsis:
        assert position == positions.get(sim, -1) + 1
        positions[sim] = position
    imeis = [r[0] for r in rows("SELECT imei_lock FROM endpoint WHERE imei_lock IS NOT NULL")]
    assert all(ids.normalize_imei(i) == i for i in imeis)
    assert 0.05 < len(imeis) / N < 0.15
    for column in ("iccid", "eid"):
        assert rows(f"SELECT {column}, COUNT(*) FROM sim WHERE {column} IS NOT NULL "
                    f"GROUP BY {column} HAVING COUNT(*) > 1") == []
    assert len(set(i for *_, i in imsis)) == len(imsis)
    names = rows("SELECT COUNT(DISTINCT name), COUNT(DISTINCT reference), "
                 "MIN(LENGTH(reference)), MAX(LENGTH(reference)) FROM endpoint")[0]
    assert names == (N, N, 17, 17)


def test_static_ips_are_unique_and_inside_the_pools(fleet_db: demo.DemoSummary) -> None:
    found = rows("SELECT e.static_ip, e.state, g.ip_pool FROM endpoint e "
                 "LEFT JOIN endpoint_group g ON g.id = e.group_id WHERE e.static_ip IS NOT NULL")
    live = [ip for ip, state, _ in found if state != "terminated"]
    assert len(live) == len(set(live))
    assert 0.05 < len(live) / (N - fleet_db.by_state["terminated"]) < 0.15
    for ip, _, pool in found:
        assert ids.normalize_ip(ip) == ip
        if pool:
            assert ids.ip_in_pool(ip, pool)
        else:
            assert ipaddress.ip_address(ip).is_private


def test_tags_text_equals_the_tag_rows(fleet_db: demo.DemoSummary) -> None:
    tag_rows: dict[int, list[str]] = {}
    for tag, endpoint in rows("SELECT tag, endpoint_id FROM endpoint_tag ORDER BY tag"):
        tag_rows.setdefault(int(endpoint), []).append(str(tag))  # type: ignore[call-overload]
    for endpoint, tags in rows("SELECT id, tags FROM endpoint"):
        assert tags == " ".join(sorted(tag_rows.get(int(endpoint), [])))  # type: ignore[call-overload]
        words = str(tags).split()
        assert any(w.startswith("model:") for w in words)
        assert any(w.startswith("plant:") for w in words)
        assert all(ids.normalize_tag(w) == w for w in words)


def test_terminated_endpoints_keep_their_sim_and_some_can_be_purged(
    fleet_db: demo.DemoSummary,
) -> None:
    found = rows("SELECT terminated_at, state_before_termination FROM endpoint "
                 "WHERE state = 'terminated'")
    assert found
    cutoff = NOW - dt.timedelta(days=RETENTION_DAYS)
    old = [t for t, _ in found if dt.datetime.fromisoformat(str(t)) <= cutoff]
    assert 0.08 < len(old) / len(found) < 0.35
    assert all(dt.datetime.fromisoformat(str(t)) < NOW for t, _ in found)
    assert {b for _, b in found} <= {s.value for s in State} - {"hold", "terminated"}


def test_times_are_plausible(fleet_db: demo.DemoSummary) -> None:
    for created, updated, last, state in rows(
            "SELECT created_at, updated_at, last_activity, state FROM endpoint"):
        c = dt.datetime.fromisoformat(str(created))
        u = dt.datetime.fromisoformat(str(updated))
        assert c <= u < NOW
        if state in ("active", "idle", "detached", "suspended"):
            seen = dt.datetime.fromtimestamp(int(last), dt.UTC).replace(tzinfo=None)  # type: ignore[call-overload]
            assert NOW - dt.timedelta(days=14) <= seen <= NOW
        elif state in ("hold", "pending", "pre-active"):
            assert last == 0
    assert rows("SELECT MIN(version), MAX(version) FROM endpoint")[0] == (1, 1)


def test_the_latest_audit_event_agrees_with_the_state(fleet_db: demo.DemoSummary) -> None:
    sampled = [1, 2, 3, 50, 1000, 1999, 2000]
    for endpoint_id in sampled:
        state = rows("SELECT state FROM endpoint WHERE id = ?", endpoint_id)[0][0]
        events = rows("SELECT action, from_state, to_state, at, actor FROM audit_event "
                      "WHERE endpoint_id = ? ORDER BY id", endpoint_id)
        assert events[0][0] == "created"
        changes = [e for e in events if e[2] is not None]
        assert changes[-1][2] == state
        for before, after in zip(changes, changes[1:], strict=False):
            assert after[1] == before[2]  # each event starts where the one before ended
        assert [e[3] for e in events] == sorted(e[3] for e in events)
        actors = {e[4] for e in events}
        assert actors <= {"admin", "alice", "network"}
    ids_by_time = rows("SELECT id FROM audit_event ORDER BY at, id")
    assert ids_by_time == sorted(ids_by_time)
    # Every endpoint of this fleet has a history; its last operator change is updated_at,
    # and its first event is created_at.
    assert rows(
        "SELECT COUNT(*) FROM endpoint e WHERE e.updated_at <> (SELECT at FROM audit_event "
        "WHERE id = (SELECT MAX(id) FROM audit_event a WHERE a.endpoint_id = e.id "
        "AND a.actor <> 'network')) OR e.created_at <> (SELECT at FROM audit_event "
        "WHERE id = (SELECT MIN(id) FROM audit_event a WHERE a.endpoint_id = e.id))"
    ) == [(0,)]


def test_operators_and_jobs(fleet_db: demo.DemoSummary) -> None:
    assert dict(rows("SELECT username, role FROM operator")) == {
        "admin": "admin", "alice": "operator", "bob": "viewer", "sam": "support"}
    jobs = rows("SELECT id, action, status, total, applied, skipped, failed FROM job ORDER BY id")
    assert [j[1:3] for j in jobs] == [("suspend", "done"), ("terminate", "done")]
    for job_id, action, _, total, applied, skipped, failed in jobs:
        outcomes = Counter(o for (o,) in rows("SELECT outcome FROM job_item WHERE job_id = ?",
                                              job_id))
        assert sum(outcomes.values()) == total == applied + skipped + failed
        assert outcomes["applied"] == applied > 0
        audited = rows("SELECT COUNT(*) FROM audit_event WHERE job_id = ? AND action = ?",
                       job_id, action)[0][0]
        assert audited == applied
        target = "suspended" if action == "suspend" else "terminated"
        assert rows("SELECT COUNT(*) FROM job_item i JOIN endpoint e ON e.id = i.endpoint_id "
                    "WHERE i.job_id = ? AND i.outcome = 'applied' AND e.state <> ?",
                    job_id, target)[0][0] == 0


def test_search_finds_names_and_the_settings_are_back(fleet_db: demo.DemoSummary) -> None:
    name = rows("SELECT name FROM endpoint WHERE id = 1234")[0][0]
    found = rows("SELECT rowid FROM endpoint_text WHERE endpoint_text MATCH ?", f'"{name[3:]}"')
    assert found == [(1234,)]
    db.database.execute_sql("INSERT INTO endpoint_text(endpoint_text) VALUES ('integrity-check')")
    assert rows("PRAGMA journal_mode")[0][0] == "wal"
    assert rows("PRAGMA foreign_keys")[0][0] == 1
    assert rows("PRAGMA foreign_key_check") == []
    assert rows("PRAGMA integrity_check") == [("ok",)]
    assert models.schema_version() == models.SCHEMA_VERSION


def test_the_sql_build_makes_the_rows_the_python_build_makes(
    fleet_db: demo.DemoSummary,
) -> None:
    fleet = demo._Fleet(N, 1, NOW, "admin")
    assert rows("SELECT id, iccid, eid, endpoint_id, created_at FROM sim ORDER BY id") == list(
        fleet.sim_rows())
    assert rows("SELECT sim_id, position, imsi FROM imsi ORDER BY id") == list(fleet.imsi_rows())
    assert rows("SELECT tag, endpoint_id FROM endpoint_tag ORDER BY endpoint_id, tag") == list(
        fleet.tag_rows())


def test_same_seed_same_data_other_seed_other_data(
    built: tuple[Path, demo.DemoSummary], tmp_path: Path
) -> None:
    _build(tmp_path / "again.db")
    _build(tmp_path / "other.db", seed=2)
    assert digest(tmp_path / "again.db") == digest(built[0])
    assert digest(tmp_path / "other.db") != digest(built[0])


def test_two_process_build_makes_the_same_database(
    built: tuple[Path, demo.DemoSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_sqlite, "PARALLEL_FROM", 1)
    monkeypatch.setattr(demo_sqlite, "_core_free", lambda: True)
    said: list[str] = []
    summary = _build(tmp_path / "parallel.db", progress=said)
    assert "copying the endpoint table and the search index" in said  # the worker built it
    assert summary.by_state == built[1].by_state
    assert digest(tmp_path / "parallel.db") == digest(built[0])
    db.open_database(str(tmp_path / "parallel.db"))
    try:
        db.database.execute_sql(
            "INSERT INTO endpoint_text(endpoint_text) VALUES ('integrity-check')")
        assert rows("PRAGMA integrity_check") == [("ok",)]
        assert invariants.violations(limit=3) == []
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".simdeck")] == []
    finally:
        db.database.close()


def test_a_small_fleet_still_has_every_state(tmp_path: Path) -> None:
    summary = _build(tmp_path / "small.db", n=12)
    assert all(n >= 1 for n in summary.by_state.values())
    db.open_database(str(tmp_path / "small.db"))
    try:
        assert invariants.violations(limit=3) == []
    finally:
        db.database.close()


def test_refuses_a_database_that_holds_endpoints(tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    _build(path, n=20)
    db.open_database(str(path))
    try:
        with pytest.raises(InputError):
            demo.build_demo(20, seed=1, now=NOW, operator="admin")
    finally:
        db.database.close()


def test_a_build_that_stopped_half_way_is_recognised_and_can_be_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "half.db"

    def killed(self: demo_sqlite._SqliteBuild) -> dict[str, int]:
        self.conn.execute("INSERT INTO endpoint_group (name, description, apn, created_at) "
                          "VALUES ('half', '', '', '2026-01-01')")
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_sqlite._SqliteBuild, "_serial", killed)
    with pytest.raises(KeyboardInterrupt):
        _build(path, n=20)
    monkeypatch.undo()
    db.open_database(str(path))
    try:
        assert demo.status() == demo.BUILDING
        demo.discard()
        assert not models.has_schema()
        demo.build_demo(20, seed=1, now=NOW, operator="admin")
        assert demo.status() == demo.BUILT
        assert rows("SELECT COUNT(*) FROM endpoint") == [(20,)]
    finally:
        db.database.close()


def test_discard_refuses_a_database_that_is_not_a_demo(tmp_path: Path) -> None:
    from simdeck.core.errors import Refused

    db.open_database(str(tmp_path / "real.db"))
    try:
        models.create_schema()
        assert demo.status() == ""
        with pytest.raises(Refused):
            demo.discard()
        assert models.has_schema()
    finally:
        db.database.close()
