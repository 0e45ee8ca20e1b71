"""CSV files: the real-world quirks of identifiers.md read, every broken file refused whole
(a message naming the file's problem or, row by row, the field) with nothing written; the
same through ``simdeck sims import`` (exit 2, no traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simdeck.core import auth, db, models, records
from simdeck.core.errors import InputError
from simdeck.core.importer import import_sims
from simdeck.core.models import Imsi, Sim
from tests.hostile.corpus import (
    CSV_BUILDERS,
    CSV_CASES,
    EXISTING_EID,
    EXISTING_ICCID,
    EXISTING_IMSI,
)
from tests.hostile.helpers import (
    assert_no_crash,
    assert_printable,
    copy_db,
    marks,
    run_cli,
    snapshot,
)

PARAMS = [pytest.param(c, id=c["id"], marks=marks(c["bug"])) for c in CSV_CASES]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding one SIM (for duplicates against the database) and a group."""
    path = tmp_path_factory.mktemp("csv") / "template.db"
    db.open_database(str(path))
    models.create_schema()
    actor = auth.login(user="admin")
    records.create_group(actor, "vantiq-connect-eu", apn="iot.example")
    sim = Sim.create(iccid=EXISTING_ICCID, eid=EXISTING_EID)
    Imsi.create(sim=sim, position=0, imsi=EXISTING_IMSI)
    db.database.close()
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path / "simdeck.db")


@pytest.fixture
def actor(store: Path) -> Iterator[auth.Actor]:
    db.open_database(str(store))
    yield auth.login(user="admin")
    db.database.close()


def _sims(path: Path) -> int:
    return int(snapshot(path)["counts"]["sim"])


@pytest.mark.parametrize("case", PARAMS)
def test_import_in_core(case: dict[str, Any], store: Path, actor: auth.Actor,
                        tmp_path: Path) -> None:
    file = CSV_BUILDERS[case["build"]](tmp_path)
    before = snapshot(store)
    if "ok" in case:
        dry = import_sims(actor, file, dry_run=True, **case["options"])
        assert dry.ok() and dry.valid == case["ok"], dry.errors
        assert snapshot(store) == before
        report = import_sims(actor, file, **case["options"])
        assert report.ok() and report.imported == case["ok"], report.errors
        assert _sims(store) == before["counts"]["sim"] + case["ok"]
        return
    if case["error"] == "file":
        with pytest.raises(InputError) as info:
            import_sims(actor, file, **case["options"])
        assert case["needle"] in str(info.value), str(info.value)
        assert_printable(str(info.value))
    else:
        report = import_sims(actor, file, **case["options"])
        assert not report.ok() and report.imported == 0
        messages = [message for _, message in report.errors]
        assert case["needle"] in messages[0], messages
        if "field" in case:
            assert any(m.startswith(case["field"]) for m in messages), messages
        for message in messages:
            assert "Traceback" not in message
            assert_printable(message)
    db.database.close()
    assert snapshot(store) == before


@pytest.mark.parametrize("case", PARAMS)
def test_import_on_the_command_line(case: dict[str, Any], store: Path, tmp_path: Path) -> None:
    file = CSV_BUILDERS[case["build"]](tmp_path)
    argv = ["sims", "import", str(file)]
    if case["options"].get("as_endpoints"):
        argv.append("--as-endpoints")
    if case["options"].get("group"):
        argv += ["--group", case["options"]["group"]]
    before = snapshot(store)
    result = run_cli(store, argv, color=True)
    assert_no_crash(result)
    if "ok" in case:
        assert result.exit_code == 0, result.output
        assert _sims(store) == before["counts"]["sim"] + case["ok"]
        return
    assert result.exit_code == 2, result.output
    assert case["needle"] in result.stderr, result.stderr[:2000]
    assert_printable(result.stderr)
    if case["error"] == "rows":
        assert "row " in result.stderr
    assert snapshot(store) == before
