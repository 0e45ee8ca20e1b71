"""CLI arguments: each bad argument gives the exit code of interface.md (2 invalid input or
usage, 1 refused, 3 permission denied), a message line naming the field, no traceback, and
a database exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simdeck.core import auth, db, models, records
from simdeck.core.lifecycle import State
from simdeck.core.models import Endpoint
from tests.conftest import GROUP, Maker
from tests.hostile.corpus import CLI_CASES, iccid, imsi
from tests.hostile.helpers import (
    assert_no_crash,
    assert_printable,
    copy_db,
    marks,
    message_line,
    run_cli,
    snapshot,
)

POOL_GROUP = "pool-grp"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A small database (endpoints in most states, a pooled group, a viewer) and the values
    the corpus's placeholders stand for."""
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "template.db"
    db.open_database(str(path))
    models.create_schema()
    actor = auth.login(user="admin")
    make = Maker(actor)
    make.group(GROUP)
    make.group(POOL_GROUP, ip_pool="10.9.0.0/24")
    active = make.endpoint(State.ACTIVE, static_ip="10.1.1.1")
    values = {
        "active": str(active),
        "active_iccid": str(Endpoint.get_by_id(active).iccid),
        "hold": str(make.endpoint(State.HOLD)),
        "pending": str(make.endpoint(State.PENDING)),
        "suspended": str(make.endpoint(State.SUSPENDED)),
        "terminated": str(make.endpoint(State.TERMINATED)),
        "tagged": str(make.endpoint(State.HOLD, tags=[f"t{i}" for i in range(32)])),
        "pooled": str(records.create_endpoint(actor, name="pooled", group=POOL_GROUP,
                                              static_ip="10.9.0.10").id),
        "ready": make.sim(),
        "group": GROUP,
        "pool_group": POOL_GROUP,
    }
    values["active_fullwidth"] = "".join(chr(ord(c) + 0xFEE0) for c in values["active"])
    auth.add_operator(actor, "vic", "viewer")
    db.database.close()
    csv_ok = folder / "ok.csv"
    csv_ok.write_text(f"iccid,imsi\n{iccid(1)},{imsi(1)}\n", encoding="utf-8")
    values["csv_ok"] = str(csv_ok)
    not_a_db = folder / "notes.db"
    not_a_db.write_text("these are my notes, not a database\n" * 100, encoding="utf-8")
    values["not_a_db"] = str(not_a_db)
    return path, values


def fill(argv: list[str], values: dict[str, str]) -> list[str]:
    out = []
    for arg in argv:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", value)
        out.append(arg)
    return out


@pytest.fixture
def fleet_copy(fleet: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path, values = fleet
    return copy_db(path, tmp_path / "simdeck.db"), {**values, "tmp": str(tmp_path)}


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c["id"], marks=marks(c["bug"])) for c in CLI_CASES]
)
def test_bad_argument(case: dict[str, Any], fleet_copy: tuple[Path, dict[str, str]],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    path, values = fleet_copy
    monkeypatch.setattr(auth, "os_user", lambda: case["user"])
    before = snapshot(path)
    result = run_cli(path, fill(case["argv"], values), color=True)
    assert_no_crash(result)
    assert result.exit_code == case["exit"], (result.exit_code, result.output)
    line = message_line(result.stderr)
    assert any(needle in line for needle in case["needles"]), line
    assert_printable(result.stderr)
    assert snapshot(path) == before


@pytest.mark.parametrize("name", ["none", "-"])
def test_a_group_named_like_the_no_group_filter(
    name: str, fleet_copy: tuple[Path, dict[str, str]]
) -> None:
    """Either the name is refused, naming the field, or the group can be filtered on."""
    path, values = fleet_copy
    result = run_cli(path, ["groups", "create", name])
    assert_no_crash(result)
    if result.exit_code == 2:
        assert "group name" in message_line(result.stderr)
        return
    assert result.exit_code == 0
    result = run_cli(path, ["endpoints", "assign-group", name, values["pending"]])
    assert_no_crash(result)
    assert result.exit_code == 0, result.output
    for argv in (["--group", name], ["--search", f"group:{name}"]):
        result = run_cli(path, ["endpoints", "list", *argv, "--format", "json", "--limit", "0"])
        assert_no_crash(result)
        assert result.exit_code == 0
        assert [item["id"] for item in json.loads(result.stdout)] == [int(values["pending"])]
