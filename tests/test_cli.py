"""The command line end to end: each test runs ``simdeck`` on its own database and checks
the output (JSON mostly) against what the database holds.

A file database by default; with SIMDECK_TEST_PG set, each test gets its own PostgreSQL
database instead (the tests of SQLite files as such, a file that is not a database or a
missing file opened read-only, stay on SQLite)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from simdeck.core import actions, auth, db, models, queries, settings
from simdeck.core import export as core_export
from simdeck.core.identifiers import make_iccid
from simdeck.core.lifecycle import State
from simdeck.core.models import AuditEvent, Endpoint, Job, Operator, Sim
from simdeck.tui import cli
from simdeck.tui.cli import bulk as cli_bulk
from simdeck.tui.cli import demo as cli_demo
from simdeck.tui.cli.output import ENDPOINT_KEYS
from simdeck.tui.text import ago
from tests.conftest import GROUP, OTHER_GROUP, Maker

ADMIN = "admin"
BAD_ICCID = "8944500000000000011"  # check digit should be 4


@dataclass
class Fleet:
    """A small database: endpoints in most states, two groups, a few Ready SIMs."""

    path: str
    ids: dict[str, list[int]] = field(default_factory=dict)
    ready: list[str] = field(default_factory=list)

    def one(self, state: str) -> int:
        return self.ids[state][0]


@pytest.fixture(autouse=True)
def as_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OS user running the CLI is the fixture database's admin."""
    monkeypatch.setattr(auth, "os_user", lambda: ADMIN)


@pytest.fixture
def fleet(store: str, make: Maker) -> Fleet:
    f = Fleet(store)
    make.group(OTHER_GROUP, ip_pool="10.9.0.0/24")
    counts = {State.HOLD: 2, State.PENDING: 2, State.PRE_ACTIVE: 2, State.ACTIVE: 3,
              State.SUSPENDED: 2, State.TERMINATED: 1}
    for state, n in counts.items():
        f.ids[state.value] = [make.endpoint(state) for _ in range(n)]
    f.ready = [make.sim() for _ in range(3)]
    db.database.close()
    return f


def run(fleet: Fleet | str, *args: str, input: str | None = None) -> Result:
    """``simdeck --db <fleet> args…``; a bug (not a user's mistake) fails the test."""
    path = fleet.path if isinstance(fleet, Fleet) else fleet
    result = CliRunner().invoke(cli.main, ["--db", path, *args], input=input)
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def as_json(result: Result) -> Any:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def reopen(fleet: Fleet | str) -> None:
    db.open_database(fleet.path if isinstance(fleet, Fleet) else fleet)


def state_of(fleet: Fleet, endpoint_id: int) -> str:
    reopen(fleet)
    return str(Endpoint.get_by_id(endpoint_id).state)


def snapshot(fleet: Fleet) -> tuple[list[tuple[Any, ...]], int, int]:
    """Every endpoint's state and version, the SIM links, and the audit size."""
    reopen(fleet)
    rows = list(Endpoint.select(Endpoint.id, Endpoint.state, Endpoint.version, Endpoint.tags,
                                Endpoint.static_ip, Endpoint.group).order_by(Endpoint.id)
                .tuples())
    links = Sim.select().where(Sim.endpoint.is_null(False)).count()
    return rows, links, AuditEvent.select().count()


def iccid_of(fleet: Fleet, endpoint_id: int) -> str:
    reopen(fleet)
    return str(Endpoint.get_by_id(endpoint_id).iccid)


# --- the basics ----------------------------------------------------------------------


def test_version_and_help(fleet: Fleet) -> None:
    assert run(fleet, "--version").stdout.startswith("simdeck, version")
    for group in ([], ["endpoints"], ["sims"], ["groups"], ["jobs"], ["users"], ["settings"],
                  ["support"], ["network"], ["endpoints", "terminate"], ["audit"], ["purge"]):
        result = run(fleet, *group, "--help")
        assert result.exit_code == 0
    assert "allow_resume" in run(fleet, "settings", "--help").stdout
    assert "90 days" in run(fleet, "endpoints", "terminate", "--help").stdout


def test_a_new_database_gets_its_schema_and_its_creator_as_admin(blank: str) -> None:
    path = blank
    users = as_json(run(path, "users", "list", "--format", "json"))
    assert users == [{"username": ADMIN, "role": "admin", "created_by": ADMIN}]
    reopen(path)
    assert models.schema_version() == models.SCHEMA_VERSION


def test_unknown_os_user_is_refused_with_the_grant_hint(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "os_user", lambda: "mallory")
    result = run(fleet, "endpoints", "list")
    assert result.exit_code == 3
    assert "simdeck users add mallory --role operator" in result.stderr
    assert result.stdout == ""


def test_a_database_from_a_newer_simdeck_is_refused(fleet: Fleet) -> None:
    reopen(fleet)
    # An UPDATE, not SQLite's INSERT OR REPLACE, so the test runs on PostgreSQL too.
    models.Setting.update(value=str(models.SCHEMA_VERSION + 1)).where(
        models.Setting.key == "schema_version"
    ).execute()
    result = run(fleet, "endpoints", "list")
    assert result.exit_code == 1
    assert "newer simdeck" in result.stderr


def test_a_file_that_is_not_a_database_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    result = run(str(path), "endpoints", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("simdeck: ")


def test_bad_format_is_a_usage_error(fleet: Fleet) -> None:
    result = run(fleet, "endpoints", "list", "--format", "xml")
    assert result.exit_code == 2
    assert "xml" in result.stderr


# --- reading ---------------------------------------------------------------------------


def test_list_json_is_every_endpoint_with_the_interface_keys(fleet: Fleet) -> None:
    items = as_json(run(fleet, "endpoints", "list", "--format", "json", "--limit", "0"))
    reopen(fleet)
    assert len(items) == Endpoint.select().count()
    for item in items:
        assert tuple(item) == ENDPOINT_KEYS
        assert item["state"] == Endpoint.get_by_id(item["id"]).state
    by_id = {i["id"]: i for i in items}
    active = by_id[fleet.one("active")]
    assert active["group"] == GROUP
    assert active["sim_status"] == "Active"
    assert active["imsis"] and active["activate_immediately"] is True
    hold = by_id[fleet.one("hold")]
    assert hold["iccid"] is None and hold["sim_status"] is None and hold["imsis"] == []


def test_list_filters_and_table(fleet: Fleet) -> None:
    items = as_json(run(fleet, "endpoints", "list", "--state", "Pre-Active", "--state",
                        "suspended", "--format", "json"))
    assert sorted(i["id"] for i in items) == sorted(fleet.ids["pre-active"]
                                                     + fleet.ids["suspended"])
    table = run(fleet, "endpoints", "list", "--state", "pre-active").stdout.splitlines()
    assert table[0].split() == ["ID", "ICCID", "NAME", "STATE", "GROUP", "TAGS", "LAST",
                                "ACTIVITY"]
    assert len(table) == 3
    assert all("Pre-Active" in line and "never" in line for line in table[1:])
    assert "\x1b[" not in "".join(table)  # no colour off a terminal

    iccid = iccid_of(fleet, fleet.one("active"))
    found = as_json(run(fleet, "endpoints", "list", "--search", iccid[:-2], "--format", "json"))
    assert fleet.one("active") in [i["id"] for i in found]

    assert as_json(run(fleet, "endpoints", "list", "--group", "none", "--format", "json")) != []
    rows = list(csv.reader(io.StringIO(run(fleet, "endpoints", "list", "--state", "hold",
                                           "--format", "csv").stdout)))
    assert rows[0] == list(ENDPOINT_KEYS) and len(rows) == 3


def test_list_limit_says_how_many_there_are(fleet: Fleet) -> None:
    result = run(fleet, "endpoints", "list", "--limit", "2")
    assert len(result.stdout.splitlines()) == 3
    assert "Showing 2 of 12" in result.stderr


def test_list_refuses_an_unknown_group_or_state(fleet: Fleet) -> None:
    result = run(fleet, "endpoints", "list", "--group", "nosuch")
    assert result.exit_code == 2 and "group nosuch" in result.stderr
    result = run(fleet, "endpoints", "list", "--state", "asleep")
    assert result.exit_code == 2 and "asleep" in result.stderr


def test_show_by_iccid_and_id(fleet: Fleet) -> None:
    eid = fleet.one("suspended")
    iccid = iccid_of(fleet, eid)
    obj = as_json(run(fleet, "endpoints", "show", iccid, "--format", "json"))
    assert obj["id"] == eid and obj["iccid"] == iccid and obj["state"] == "suspended"
    assert set(ENDPOINT_KEYS) <= set(obj)
    assert [h["action"] for h in obj["history"]][:1] == ["suspend"]
    text = run(fleet, "endpoints", "show", str(eid)).stdout
    assert "Suspended" in text and iccid in text and "History" in text


def test_show_refuses_unknown_and_invalid_refs(fleet: Fleet) -> None:
    result = run(fleet, "endpoints", "show", "99999")
    assert result.exit_code == 2 and "99999" in result.stderr
    result = run(fleet, "endpoints", "show", BAD_ICCID)
    assert result.exit_code == 2 and "check digit" in result.stderr
    result = run(fleet, "endpoints", "show", fleet.ready[0])
    assert result.exit_code == 2 and "Ready to Activate" in result.stderr


# --- single-record changes -------------------------------------------------------------


def test_create_with_a_sim_prints_the_endpoint(fleet: Fleet) -> None:
    obj = as_json(run(fleet, "endpoints", "create", "--name", "truck 7", "--group", GROUP,
                      "--tag", "Fleet-A", "--tag", "eu", "--reference", "VIN-7",
                      "--sim", fleet.ready[0], "--static-ip", "10.1.2.3", "--format", "json"))
    assert tuple(obj) == ENDPOINT_KEYS
    assert obj["state"] == "active" and obj["iccid"] == fleet.ready[0]
    assert obj["tags"] == ["eu", "fleet-a"] and obj["static_ip"] == "10.1.2.3"
    reopen(fleet)
    assert Endpoint.get_by_id(obj["id"]).name == "truck 7"

    later = as_json(run(fleet, "endpoints", "create", "--sim", fleet.ready[1],
                        "--no-activate-immediately", "--group", GROUP, "--format", "json"))
    assert later["state"] == "pre-active"
    assert "Created endpoint" in run(fleet, "endpoints", "create", "--name", "x").stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--sim", BAD_ICCID], "check digit"),
        (["--static-ip", "10.0.0.0/8"], "static IP"),
        (["--static-ip", "999.1.1.1"], "static IP"),
        (["--group", "nosuch"], "group nosuch"),
        (["--imei-lock", "123"], "IMEI"),
        (["--tag", "bad tag!"], "tag"),
    ],
)
def test_create_refuses_invalid_input(fleet: Fleet, args: list[str], needle: str) -> None:
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "create", "--name", "n", *args)
    assert result.exit_code == 2
    assert needle in result.stderr and result.stderr.startswith("simdeck: ")
    assert snapshot(fleet) == before


def test_create_with_a_linked_sim_is_refused(fleet: Fleet) -> None:
    before = snapshot(fleet)
    taken = iccid_of(fleet, fleet.one("active"))
    result = run(fleet, "endpoints", "create", "--sim", taken)
    assert result.exit_code == 1 and "only a Ready to Activate SIM" in result.stderr
    assert snapshot(fleet) == before


def test_edit_every_setting_and_clear(fleet: Fleet) -> None:
    eid = fleet.one("active")
    obj = as_json(run(fleet, "endpoints", "edit", str(eid), "--name", "renamed",
                      "--reference", "R-1", "--tag", "blue", "--tag", "green",
                      "--static-ip", "10.0.0.7", "--imei-lock", "35209900176148",
                      "--format", "json"))
    assert obj["name"] == "renamed" and obj["reference"] == "R-1"
    assert obj["tags"] == ["blue", "green"] and obj["static_ip"] == "10.0.0.7"
    assert obj["imei_lock"] == "352099001761481"
    obj = as_json(run(fleet, "endpoints", "edit", str(eid), "--untag", "blue",
                      "--static-ip", "none", "--imei-lock", "none", "--format", "json"))
    assert obj["tags"] == ["green"] and obj["static_ip"] is None and obj["imei_lock"] is None
    reopen(fleet)
    ep = Endpoint.get_by_id(eid)
    assert (ep.name, ep.tags, ep.static_ip) == ("renamed", "green", None)


def test_edit_refuses(fleet: Fleet) -> None:
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "edit", str(fleet.one("active")), "--static-ip", "banana")
    assert result.exit_code == 2 and "static IP banana" in result.stderr
    result = run(fleet, "endpoints", "edit", str(fleet.one("terminated")), "--name", "x")
    assert result.exit_code == 1 and "Terminated" in result.stderr
    result = run(fleet, "endpoints", "edit", str(fleet.one("active")))
    assert result.exit_code == 2 and "nothing to change" in result.stderr
    assert snapshot(fleet) == before


def test_link_a_ready_sim(fleet: Fleet) -> None:
    hold = fleet.one("hold")
    obj = as_json(run(fleet, "endpoints", "link", str(hold), fleet.ready[0], "--format", "json"))
    assert obj["iccid"] == fleet.ready[0] and obj["state"] == "pending"
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "link", str(fleet.ids["hold"][1]), fleet.ready[0])
    assert result.exit_code == 1 and "only a Ready to Activate SIM" in result.stderr
    result = run(fleet, "endpoints", "link", str(fleet.one("active")), fleet.ready[1])
    assert result.exit_code == 1 and "allowed only from Hold" in result.stderr
    assert snapshot(fleet) == before


# --- lifecycle actions -------------------------------------------------------------------


ALLOWED = [
    # command, extra args, from state, to state
    ("activate", [], "pre-active", "active"),
    ("suspend", [], "active", "suspended"),
    ("resume", [], "suspended", "active"),
    ("delink", [], "active", "hold"),
    ("terminate", ["--yes"], "suspended", "terminated"),
    ("assign-group", [OTHER_GROUP], "pending", "active"),
]

REFUSED = [
    ("activate", [], "active"),
    ("suspend", [], "pre-active"),
    ("resume", [], "active"),
    ("delink", [], "hold"),
    ("terminate", ["--yes"], "terminated"),
    ("assign-group", [GROUP], "terminated"),
]


def _allow_resume(fleet: Fleet) -> None:
    reopen(fleet)
    settings.set_setting(auth.login(user=ADMIN), "allow_resume", "true")


@pytest.mark.parametrize(("command", "extra", "source", "target"), ALLOWED)
def test_each_action_applies_from_an_allowed_state(
    fleet: Fleet, command: str, extra: list[str], source: str, target: str
) -> None:
    _allow_resume(fleet)
    eid = fleet.one(source)
    result = run(fleet, "endpoints", command, *extra, str(eid), "--format", "json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["applied"] == 1
    assert state_of(fleet, eid) == target
    table = run(fleet, "endpoints", "show", str(eid)).stdout
    assert State(target).label in table


@pytest.mark.parametrize(("command", "extra", "source"), REFUSED)
def test_each_action_is_refused_from_another_state(
    fleet: Fleet, command: str, extra: list[str], source: str
) -> None:
    _allow_resume(fleet)
    eid = fleet.one(source)
    before = snapshot(fleet)
    result = run(fleet, "endpoints", command, *extra, str(eid))
    assert result.exit_code == 1
    assert "allowed only from" in result.stderr and result.stderr.startswith("simdeck: ")
    assert snapshot(fleet) == before


def test_unknown_ref_and_unknown_group_are_input_errors(fleet: Fleet) -> None:
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "suspend", str(fleet.one("active")), "424242", "--yes")
    assert result.exit_code == 2 and "424242" in result.stderr
    result = run(fleet, "endpoints", "assign-group", "nosuch", str(fleet.one("pending")))
    assert result.exit_code == 2 and "group nosuch" in result.stderr
    result = run(fleet, "endpoints", "suspend", BAD_ICCID)
    assert result.exit_code == 2 and "check digit" in result.stderr
    assert snapshot(fleet) == before


def test_resume_is_refused_by_policy_until_an_admin_allows_it(fleet: Fleet) -> None:
    eid = fleet.one("suspended")
    result = run(fleet, "endpoints", "resume", str(eid))
    assert result.exit_code == 1
    assert "settings set allow_resume true" in result.stderr
    assert state_of(fleet, eid) == "suspended"
    assert as_json(run(fleet, "settings", "list", "--format", "json")) == {
        "allow_resume": "false"}
    assert as_json(run(fleet, "settings", "set", "allow_resume", "true", "--format",
                       "json")) == {"allow_resume": "true"}
    assert run(fleet, "endpoints", "resume", str(eid)).exit_code == 0
    assert state_of(fleet, eid) == "active"
    result = run(fleet, "settings", "set", "allow_resume", "maybe")
    assert result.exit_code == 2
    result = run(fleet, "settings", "set", "colour", "true")
    assert result.exit_code == 2


# --- bulk ------------------------------------------------------------------------------


def test_filter_bulk_dry_run_then_yes(fleet: Fleet) -> None:
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "suspend", "--group", GROUP, "--dry-run", "--format",
                 "json")
    assert result.exit_code == 0
    pv = as_json(result)
    assert pv["action"] == "suspend" and pv["eligible"] == 3
    assert "Suspend: 3 of" in result.stderr
    assert snapshot(fleet) == before

    result = run(fleet, "endpoints", "suspend", "--state", "active", "--yes", "--format", "json")
    assert result.exit_code == 0
    out = as_json(result)
    assert set(out) == {"job", "applied", "skipped", "failed"}
    assert out["applied"] == 3 and out["skipped"] == {} and out["failed"] == 0
    reopen(fleet)
    assert all(state_of(fleet, i) == "suspended" for i in fleet.ids["active"])
    job = Job.get_by_id(out["job"])
    assert (job.action, job.applied, job.status) == ("suspend", 3, "done")


def test_bulk_with_ineligible_endpoints_exits_1_with_reasons(fleet: Fleet) -> None:
    active, hold = fleet.one("active"), fleet.one("hold")
    result = run(fleet, "endpoints", "suspend", str(active), str(hold), "--yes",
                 "--format", "json")
    assert result.exit_code == 1
    out = as_json(result)
    assert out["applied"] == 1 and sum(out["skipped"].values()) == 1
    assert "Hold: suspend is allowed only from" in result.stderr
    assert state_of(fleet, active) == "suspended" and state_of(fleet, hold) == "hold"


def test_bulk_where_nothing_is_eligible_changes_nothing(fleet: Fleet) -> None:
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "activate", "--state", "hold", "--yes")
    assert result.exit_code == 1 and "nothing to activate" in result.stderr
    assert snapshot(fleet) == before


def test_filterless_bulk_needs_all(fleet: Fleet) -> None:
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "suspend", "--yes")
    assert result.exit_code == 2 and "--all" in result.stderr
    result = run(fleet, "endpoints", "suspend", str(fleet.one("active")), "--state", "active")
    assert result.exit_code == 2
    assert snapshot(fleet) == before
    pv = as_json(run(fleet, "endpoints", "suspend", "--all", "--dry-run", "--format", "json"))
    reopen(fleet)
    assert pv["total"] == Endpoint.select().count() and pv["eligible"] == 3


def test_bulk_without_a_terminal_needs_yes(fleet: Fleet) -> None:
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "suspend", "--state", "active")
    assert result.exit_code == 2 and "add --yes" in result.stderr
    assert snapshot(fleet) == before


def test_bulk_asks_proceed(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_bulk, "can_prompt", lambda: True)
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "suspend", "--state", "active", input="n\n")
    assert result.exit_code == 1 and "Proceed? [y/N]" in result.stderr
    assert snapshot(fleet) == before
    result = run(fleet, "endpoints", "suspend", "--state", "active", input="y\n")
    assert result.exit_code == 0 and "3 applied" in result.stdout
    assert all(state_of(fleet, i) == "suspended" for i in fleet.ids["active"])


def test_delink_warns_before_it_asks(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_bulk, "can_prompt", lambda: True)
    before = snapshot(fleet)
    result = run(fleet, "endpoints", "delink", "--state", "active", input="\n")
    assert result.exit_code == 1
    assert "De-linking cuts 3 endpoints off the network" in result.stderr
    assert "Proceed? [y/N]" in result.stderr
    assert snapshot(fleet) == before


def test_terminate_needs_the_typed_confirmation(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_bulk, "can_prompt", lambda: True)
    targets = [str(i) for i in fleet.ids["active"][:2]]
    before = snapshot(fleet)
    for wrong in ("y\n", "terminate 3\n", "terminate\n", "\n"):
        result = run(fleet, "endpoints", "terminate", *targets, input=wrong)
        assert result.exit_code == 1
        assert "irreversible" in result.stderr and "90 days" in result.stderr
        assert "Type 'terminate 2'" in result.stderr
        assert snapshot(fleet) == before
    result = run(fleet, "endpoints", "terminate", *targets, input="terminate 2\n")
    assert result.exit_code == 0, result.output
    assert [state_of(fleet, int(i)) for i in targets] == ["terminated", "terminated"]
    # One endpoint asks too: terminate is never done on a single keystroke.
    single = str(fleet.ids["active"][2])
    result = run(fleet, "endpoints", "terminate", single, input="y\n")
    assert result.exit_code == 1 and state_of(fleet, int(single)) == "active"
    result = run(fleet, "endpoints", "terminate", single, input="terminate 1\n")
    assert result.exit_code == 0 and state_of(fleet, int(single)) == "terminated"


def test_assign_group_by_filter(fleet: Fleet) -> None:
    result = run(fleet, "endpoints", "assign-group", OTHER_GROUP, "--state", "pending", "--yes",
                 "--format", "json")
    assert as_json(result)["applied"] == 2
    for i in fleet.ids["pending"]:
        obj = as_json(run(fleet, "endpoints", "show", str(i), "--format", "json"))
        assert (obj["state"], obj["group"]) == ("active", OTHER_GROUP)


def test_delink_returns_the_sim_to_the_pool(fleet: Fleet) -> None:
    eid = fleet.one("suspended")
    iccid = iccid_of(fleet, eid)
    assert run(fleet, "endpoints", "delink", iccid).exit_code == 0
    sims = as_json(run(fleet, "sims", "list", "--status", "ready", "--format", "json"))
    assert iccid in [s["iccid"] for s in sims]


# --- permissions -----------------------------------------------------------------------


def test_a_viewer_reads_but_changes_nothing(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reopen(fleet)
    auth.add_operator(auth.login(user=ADMIN), "vic", "viewer")
    monkeypatch.setattr(auth, "os_user", lambda: "vic")
    before = snapshot(fleet)
    assert run(fleet, "endpoints", "list").exit_code == 0
    assert run(fleet, "export", str(tmp_path / "v.csv")).exit_code == 0
    active = str(fleet.one("active"))
    for args in (
        ["endpoints", "suspend", active],
        ["endpoints", "suspend", "--all", "--yes"],
        ["endpoints", "terminate", active, "--yes"],
        ["endpoints", "create", "--name", "x"],
        ["endpoints", "edit", active, "--name", "x"],
        ["endpoints", "link", str(fleet.one("hold")), fleet.ready[0]],
        ["groups", "create", "new-group"],
        ["users", "add", "eve", "--role", "admin"],
        ["settings", "set", "allow_resume", "true"],
        ["purge", "--yes"],
    ):
        result = run(fleet, *args)
        assert result.exit_code == 3, (args, result.output)
        assert "viewer role" in result.stderr
    assert snapshot(fleet) == before


def test_read_only_refuses_every_change(fleet: Fleet, tmp_path: Path) -> None:
    csv_file = tmp_path / "sims.csv"
    csv_file.write_text("iccid,imsi\n" + make_iccid("89445099999999999") + ",001019999999999\n")
    before = snapshot(fleet)
    items = as_json(run(fleet, "--read-only", "endpoints", "list", "--format", "json"))
    assert len(items) == 12
    active = str(fleet.one("active"))
    for args in (
        ["endpoints", "suspend", active],
        ["endpoints", "terminate", "--all", "--yes"],
        ["endpoints", "create", "--name", "x"],
        ["endpoints", "edit", active, "--tag", "x"],
        ["groups", "delete", OTHER_GROUP],
        ["users", "remove", ADMIN],
        ["settings", "set", "allow_resume", "true"],
        ["sims", "import", str(csv_file)],
        ["support", "reinstate", str(fleet.one("terminated")), "--ticket", "T-1"],
    ):
        result = run(fleet, "--read-only", *args)
        assert result.exit_code == 3, (args, result.output)
        assert "read-only" in result.stderr
    assert snapshot(fleet) == before


def test_read_only_on_a_missing_database(tmp_path: Path) -> None:
    result = run(str(tmp_path / "missing.db"), "--read-only", "endpoints", "list")
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "missing.db").exists()


# --- export ----------------------------------------------------------------------------


def test_export_streams_every_matching_endpoint(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_export, "BATCH", 5)  # several batches even on a small db
    target = tmp_path / "all.csv"
    result = run(fleet, "export", str(target))
    assert result.exit_code == 0
    rows = list(csv.DictReader(target.open()))
    reopen(fleet)
    assert len(rows) == Endpoint.select().count() == 12
    assert f"Exported {len(rows)} endpoints to {target} in " in result.stdout
    assert len({r["id"] for r in rows}) == len(rows)
    assert list(rows[0]) == list(ENDPOINT_KEYS)
    linked = [r for r in rows if r["iccid"]]
    assert all(";" in r["imsis"] or r["imsis"].isdigit() for r in linked)

    for sort in ("name", "group", "state", "last_activity"):
        out = as_json(run(fleet, "export", str(target), "--sort", sort, "--format", "json"))
        assert out["written"] == 12
        assert len({r["id"] for r in csv.DictReader(target.open())}) == 12

    result = run(fleet, "export", str(target), "--state", "suspended", "--tag", "nothing")
    assert "Exported 0 endpoints" in result.stdout
    result = run(fleet, "export", "-", "--state", "suspended")
    assert len(result.stdout.splitlines()) == 3


def test_export_to_a_missing_folder_is_an_input_error(fleet: Fleet, tmp_path: Path) -> None:
    result = run(fleet, "export", str(tmp_path / "no" / "such" / "x.csv"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


# --- jobs ------------------------------------------------------------------------------


def test_jobs_list_show_skipped(fleet: Fleet, tmp_path: Path) -> None:
    targets = [str(fleet.one("active")), *map(str, fleet.ids["hold"])]
    job_id = as_json(run(fleet, "endpoints", "suspend", *targets, "--yes",
                         "--format", "json"))["job"]
    jobs = as_json(run(fleet, "jobs", "list", "--format", "json"))
    assert jobs[0]["id"] == job_id and jobs[0]["applied"] == 1 and jobs[0]["skipped"] == 2
    assert "suspend" in run(fleet, "jobs", "list").stdout
    shown = as_json(run(fleet, "jobs", "show", str(job_id), "--format", "json"))
    assert shown["status"] == "done" and shown["total"] == 3
    assert sum(shown["skipped_by_reason"].values()) == 2
    assert "Skipped by reason" in run(fleet, "jobs", "show", str(job_id)).stdout

    skipped = as_json(run(fleet, "jobs", "skipped", str(job_id), "--format", "json"))
    assert len(skipped) == 2 and all("Hold" in s["reason"] for s in skipped)
    target = tmp_path / "skipped.csv"
    result = run(fleet, "jobs", "skipped", str(job_id), "--output", str(target))
    assert result.exit_code == 0
    rows = list(csv.DictReader(target.open()))
    assert [r["iccid"] for r in rows] == [s["iccid"] for s in skipped]

    result = run(fleet, "jobs", "show", "999")
    assert result.exit_code == 2 and "job 999" in result.stderr
    result = run(fleet, "jobs", "show", "abc")
    assert result.exit_code == 2


def test_jobs_resume_a_cancelled_job(fleet: Fleet) -> None:
    reopen(fleet)
    admin = auth.login(user=ADMIN)
    result = actions.run(admin, "suspend", actions.Targets(ids=tuple(fleet.ids["active"])),
                         cancelled=lambda: True)
    assert result.status == "cancelled"
    assert all(state_of(fleet, i) == "active" for i in fleet.ids["active"])
    out = as_json(run(fleet, "jobs", "resume", str(result.job), "--format", "json"))
    assert out == {"job": result.job, "applied": 3, "skipped": {}, "failed": 0}
    assert all(state_of(fleet, i) == "suspended" for i in fleet.ids["active"])
    again = run(fleet, "jobs", "resume", str(result.job))
    assert again.exit_code == 1 and "already done" in again.stderr


# --- support, purge ---------------------------------------------------------------------


def test_support_reinstates_with_a_ticket(fleet: Fleet) -> None:
    eid = fleet.one("terminated")
    result = run(fleet, "support", "reinstate", str(eid), "--ticket", "SUP-42")
    assert result.exit_code == 3 and "support" in result.stderr  # the admin is not support
    # An admin grants the support role (here to itself).
    assert run(fleet, "users", "add", ADMIN, "--role", "support").exit_code == 0
    result = run(fleet, "support", "reinstate", str(eid))
    assert result.exit_code == 2 and "--ticket" in result.stderr
    obj = as_json(run(fleet, "support", "reinstate", str(eid), "--ticket", "SUP-42",
                      "--format", "json"))
    assert obj["state"] == "active" and obj["id"] == eid
    reopen(fleet)
    event = AuditEvent.select().where(AuditEvent.action == "reinstate").get()
    assert json.loads(event.detail) == {"ticket": "SUP-42"}
    result = run(fleet, "support", "reinstate", str(eid), "--ticket", "SUP-42")
    assert result.exit_code == 1 and "allowed only from Terminated" in result.stderr


def test_purge_deletes_only_endpoints_terminated_90_days_ago(fleet: Fleet) -> None:
    run(fleet, "endpoints", "terminate", str(fleet.one("suspended")), "--yes")
    old = fleet.one("terminated")
    reopen(fleet)
    Endpoint.update(terminated_at=models.utcnow() - dt.timedelta(days=91)).where(
        Endpoint.id == old).execute()
    before = snapshot(fleet)
    pv = as_json(run(fleet, "purge", "--dry-run", "--format", "json"))
    # Only the endpoint terminated 91 days ago is due; the recent one is not a target.
    assert (pv["total"], pv["eligible"]) == (1, 1)
    assert snapshot(fleet) == before
    result = run(fleet, "purge")
    assert result.exit_code == 2 and "add --yes" in result.stderr
    result = run(fleet, "purge", "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["applied"] == 1
    reopen(fleet)
    assert Endpoint.get_or_none(Endpoint.id == old) is None
    assert AuditEvent.select().where((AuditEvent.action == "purged")
                                     & (AuditEvent.endpoint_id == old)).exists()
    assert "Nothing to purge" in run(fleet, "purge", "--yes").stdout
    events = as_json(run(fleet, "audit", "--endpoint", str(old), "--format", "json"))
    assert events[0]["action"] == "purged"


# --- users, groups, SIMs, audit ------------------------------------------------------------


def test_users_add_list_remove(fleet: Fleet) -> None:
    out = as_json(run(fleet, "users", "add", "olga", "--role", "operator", "--format", "json"))
    assert out == {"username": "olga", "role": "operator"}
    users = as_json(run(fleet, "users", "list", "--format", "json"))
    assert {u["username"]: u["role"] for u in users} == {ADMIN: "admin", "olga": "operator"}
    assert "olga" in run(fleet, "users", "list").stdout
    assert as_json(run(fleet, "users", "remove", "olga", "--format", "json")) == {
        "removed": "olga"}
    reopen(fleet)
    assert not Operator.select().where(Operator.username == "olga").exists()
    result = run(fleet, "users", "remove", ADMIN)
    assert result.exit_code == 1 and "last admin" in result.stderr
    result = run(fleet, "users", "add", "olga", "--role", "king")
    assert result.exit_code == 2
    result = run(fleet, "users", "remove", "nobody")
    assert result.exit_code == 2


def test_groups_create_list_edit_delete(fleet: Fleet) -> None:
    g = as_json(run(fleet, "groups", "create", "fleet-north", "--apn", "iot.north",
                    "--ip-pool", "10.20.0.0/16", "--description", "North", "--format", "json"))
    assert (g["name"], g["apn"], g["ip_pool"], g["endpoints"]) == (
        "fleet-north", "iot.north", "10.20.0.0/16", 0)
    listed = {x["name"]: x for x in as_json(run(fleet, "groups", "list", "--format", "json"))}
    reopen(fleet)
    live = Endpoint.select().where(Endpoint.state != "terminated",
                                   Endpoint.group.is_null(False)).count()
    assert listed[GROUP]["endpoints"] == live
    assert set(listed) == {GROUP, OTHER_GROUP, "fleet-north"}
    g = as_json(run(fleet, "groups", "edit", "fleet-north", "--name", "fleet-south",
                    "--ip-pool", "none", "--format", "json"))
    assert (g["name"], g["ip_pool"]) == ("fleet-south", None)
    assert as_json(run(fleet, "groups", "delete", "fleet-south", "--format", "json")) == {
        "deleted": "fleet-south"}
    result = run(fleet, "groups", "delete", GROUP)
    assert result.exit_code == 1 and "still has" in result.stderr
    result = run(fleet, "groups", "create", "Bad Name!")
    assert result.exit_code == 2 and "group name" in result.stderr
    result = run(fleet, "groups", "create", GROUP)
    assert result.exit_code == 2 and "already taken" in result.stderr
    result = run(fleet, "groups", "edit", "nosuch", "--apn", "x")
    assert result.exit_code == 2


def test_sims_import_and_list(fleet: Fleet, tmp_path: Path) -> None:
    iccids = [make_iccid(f"8944501{n:011d}") for n in range(5)]
    good = tmp_path / "batch.csv"
    good.write_text("iccid,imsi,eid\n" + "".join(
        f"{c},00102{n:08d}00,\n" for n, c in enumerate(iccids)))
    report = as_json(run(fleet, "sims", "import", str(good), "--dry-run", "--format", "json"))
    assert report["valid"] == 5 and report["imported"] == 0
    report = as_json(run(fleet, "sims", "import", str(good), "--format", "json"))
    assert report["imported"] == 5 and report["ok"] is True
    ready = as_json(run(fleet, "sims", "list", "--status", "ready", "--format", "json",
                        "--limit", "0"))
    assert {s["iccid"] for s in ready} == set(iccids) | set(fleet.ready)
    assert all(s["status"] == "Ready to Activate" for s in ready)
    every = as_json(run(fleet, "sims", "list", "--format", "json", "--limit", "0"))
    reopen(fleet)
    assert len(every) == Sim.select().count()
    table = run(fleet, "sims", "list", "--status", "suspended").stdout
    assert "Suspended" in table and table.startswith("ICCID")

    bad = tmp_path / "bad.csv"
    bad.write_text(f"iccid,imsi\n{BAD_ICCID},001030000000001\n")
    before = snapshot(fleet)
    result = run(fleet, "sims", "import", str(bad))
    assert result.exit_code == 2 and "row 2" in result.stderr and "check digit" in result.stderr
    assert snapshot(fleet) == before
    result = run(fleet, "sims", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2


def test_audit_filters(fleet: Fleet) -> None:
    eid = fleet.one("suspended")
    events = as_json(run(fleet, "audit", "--endpoint", str(eid), "--format", "json"))
    reopen(fleet)
    assert [e["id"] for e in events] == [
        r.id for r in AuditEvent.select().where(AuditEvent.endpoint_id == eid)
        .order_by(AuditEvent.id.desc())]
    assert [e["action"] for e in events] == ["suspend", "created"]
    recent = as_json(run(fleet, "audit", "--since", "1h", "--actor", ADMIN, "--action",
                         "suspend", "--format", "json", "--limit", "0"))
    assert len(recent) == 2 and all(e["action"] == "suspend" for e in recent)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    assert as_json(run(fleet, "audit", "--since", tomorrow, "--format", "json")) == []
    assert as_json(run(fleet, "audit", "--since", "2020-01-01T00:00:00+02:00", "--limit", "3",
                       "--format", "json")).__len__() == 3
    assert "suspend" in run(fleet, "audit", "--limit", "5").stdout
    result = run(fleet, "audit", "--since", "last tuesday")
    assert result.exit_code == 2 and "--since" in result.stderr


# --- network ingest, demo, console, serve -------------------------------------------------


def test_network_ingest(fleet: Fleet, tmp_path: Path) -> None:
    pytest.importorskip("simdeck.core.network")
    active = fleet.one("active")
    iccid = iccid_of(fleet, active)
    events = tmp_path / "events.jsonl"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    events.write_text(json.dumps({"iccid": iccid, "event": "attach", "at": now}) + "\n")
    result = run(fleet, "network", "ingest", str(events), "--format", "json")
    assert result.exit_code == 0, result.output
    assert state_of(fleet, active) == "idle"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("this is not json\n")
    result = run(fleet, "network", "ingest", str(bad))
    assert result.exit_code == 2


def test_demo_builds_once_and_is_reused(blank: str) -> None:
    pytest.importorskip("simdeck.core.demo")
    path = blank
    result = run(path, "demo", "--endpoints", "300", "--no-tui")
    assert result.exit_code == 0, result.output
    states = {e["state"] for e in as_json(run(path, "endpoints", "list", "--limit", "0",
                                               "--format", "json"))}
    assert {"hold", "pending", "pre-active", "active", "suspended", "terminated"} <= states
    again = run(path, "demo", "--endpoints", "300", "--no-tui")
    assert again.exit_code == 0 and "built earlier" in again.stdout
    assert "not the" not in again.output
    assert f"export SIMDECK_DB={path}" in again.stdout


def test_demo_of_another_size_is_kept_and_said_so_and_rebuild_builds_it(blank: str) -> None:
    pytest.importorskip("simdeck.core.demo")
    assert run(blank, "demo", "--endpoints", "300", "--no-tui").exit_code == 0
    other = run(blank, "demo", "--endpoints", "400", "--no-tui")
    assert other.exit_code == 0
    assert ("It has 300 endpoints, not the 400 asked for; to build it with 400: "
            "simdeck demo --endpoints 400 --rebuild") in other.output
    assert len(as_json(run(blank, "endpoints", "list", "--limit", "0", "--format",
                           "json"))) == 300
    rebuilt = run(blank, "demo", "--endpoints", "400", "--rebuild", "--no-tui")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert len(as_json(run(blank, "endpoints", "list", "--limit", "0", "--format",
                           "json"))) == 400


def test_demo_never_writes_into_the_simdeck_db_database(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("simdeck.core.demo")
    demo_db = tmp_path / "default-demo.db"
    monkeypatch.setattr(cli_demo, "demo_path", lambda: str(demo_db))
    before = snapshot(fleet)
    result = CliRunner().invoke(cli.main, ["demo", "--endpoints", "50", "--no-tui"],
                                env={"SIMDECK_DB": fleet.path})
    assert result.exit_code == 0, result.output
    assert demo_db.exists() and snapshot(fleet) == before


def test_bare_simdeck_opens_the_console(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    fake = types.ModuleType("simdeck.tui.app")
    fake.run_console = lambda *a, **k: calls.append(a)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "simdeck.tui.app", fake)
    assert run(fleet).exit_code == 0
    assert run(fleet, "--read-only").exit_code == 0
    assert calls == [(fleet.path, False), (fleet.path, True)]


def test_serve_says_when_it_is_not_installed(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "simdeck.tui.serve", None)  # import fails
    result = run(fleet, "serve", "--port", "8123")
    assert result.exit_code == 1 and "not available" in result.stderr
    assert run(fleet, "serve", "--port", "0").exit_code == 2


def test_relative_times() -> None:
    now = 1_000_000.0
    assert ago(0, now) == "never"
    assert ago(now - 5, now) == "5s ago"
    assert ago(now - 180, now) == "3m ago"
    assert ago(now - 2 * 3600, now) == "2h ago"
    assert ago(now - 3 * 86400, now) == "3d ago"


def test_the_command_line_and_the_console_word_an_age_alike(fleet: Fleet) -> None:
    from simdeck.tui.widgets.endpoint_rows import render_endpoint

    endpoint_id = fleet.one("active")
    reopen(fleet)
    Endpoint.update(last_activity=int(time.time() - 75 * 86400 - 60)).where(
        Endpoint.id == endpoint_id).execute()
    row = next(r for r in queries.page(queries.Filter(), limit=100) if r.id == endpoint_id)
    assert render_endpoint(row, time.time())[-1] == "75d ago"
    db.database.close()
    listed = run(fleet, "endpoints", "list")
    line = next(x for x in listed.stdout.splitlines() if x.startswith(f"{endpoint_id} "))
    assert line.endswith("75d ago")
    shown = run(fleet, "endpoints", "show", str(endpoint_id))
    assert any(x.split()[:4] == ["Last", "activity", "75d", "ago"]
               for x in shown.stdout.splitlines())


def test_the_command_line_reads_no_table_itself() -> None:
    """Opening, reading and writing go through core; no module here imports peewee or models."""
    import ast

    root = Path(cli.__file__).resolve().parent
    files = [*root.glob("*.py"), root.parent / "text.py", root.parent / "format.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                names = [module, *(f"{module}.{a.name}" for a in node.names)]
            for name in names:
                assert name.split(".")[0] != "peewee", path
                assert not name.startswith("simdeck.core.models"), path


# --- a real process ----------------------------------------------------------------------


def _simdeck(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("simdeck")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "simdeck.tui.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=60)


def test_a_real_process_from_a_shell(blank: str) -> None:
    env = {**os.environ, "SIMDECK_DB": blank}
    created = _simdeck("groups", "create", "shell-group", "--format", "json", env=env)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["name"] == "shell-group"
    made = _simdeck("endpoints", "create", "--name", "pump 1", "--group", "shell-group",
                    "--format", "json", env=env)
    assert json.loads(made.stdout)["state"] == "hold"
    listed = _simdeck("endpoints", "list", "--format", "json", env=env)
    assert [e["name"] for e in json.loads(listed.stdout)] == ["pump 1"]
    bad = _simdeck("endpoints", "suspend", "8944500000000000011", env=env)
    assert bad.returncode == 2
    assert bad.stderr.startswith("simdeck: ICCID") and "Traceback" not in bad.stderr
    module = subprocess.run([sys.executable, "-m", "simdeck.tui.cli", "endpoints", "show", "1",
                             "--format", "json"], capture_output=True, text=True, env=env,
                            timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert module.returncode == 0 and json.loads(module.stdout)["name"] == "pump 1"
