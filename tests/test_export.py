"""Exports and unlimited listings streamed from one query (core/export.py).

The fleet is the console's fixed fleet (groups, tags, SIMs with one or two IMSIs, eSIMs
with an EID, static IPs, every state), plus stored text a spreadsheet or a terminal
would act on. Every export is read back as a user would read it and compared with
what ``endpoints show`` says of each endpoint, and with the rows the list pages show.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from simdeck.core import actions, auth, db, queries
from simdeck.core import export as core_export
from simdeck.core import jobs as core_jobs
from simdeck.core.actions import Targets
from simdeck.core.identifiers import make_iccid
from simdeck.core.models import AuditEvent, Endpoint, Imsi, Sim
from simdeck.core.sanitize import csv_cell, json_text
from simdeck.tui import cli
from tests.tui import fleet as tui_fleet

KEYS = core_export.ENDPOINT_KEYS
FORMULA_NAME = "=HYPERLINK(\"http://x\",\"y\")"
HOSTILE_REFERENCE = "ref\x1b]52;c;aGk=\x07\u202eevil\x9b2J\u2028end"


@pytest.fixture(autouse=True)
def as_alice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line runs as the fleet's admin."""
    monkeypatch.setattr(auth, "os_user", lambda: tui_fleet.USER)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A folder for the exported files alone."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def fleet(store: str) -> Iterator[str]:
    """The console's fleet, with one name a formula and one reference full of controls
    (as a file written by another tool could hold them), and an IMEI lock."""
    db.database.close()
    tui_fleet.build(store)
    db.open_database(store)
    first, second, third = (e.id for e in Endpoint.select(Endpoint.id).order_by(Endpoint.id)
                            .limit(3))
    Endpoint.update(name=FORMULA_NAME).where(Endpoint.id == first).execute()
    Endpoint.update(reference=HOSTILE_REFERENCE).where(Endpoint.id == second).execute()
    Endpoint.update(imei_lock="353456789012347", name="Zoë – «café»").where(
        Endpoint.id == third).execute()
    db.database.close()
    yield store


def run(url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli.main, ["--db", url, *args])
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def ok(url: str, *args: str) -> str:
    result = run(url, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def shown(url: str, endpoint_id: int) -> dict[str, Any]:
    """``endpoints show ID --format json``, as a script would read it."""
    obj: dict[str, Any] = json.loads(ok(url, "endpoints", "show", str(endpoint_id),
                                        "--format", "json"))
    return obj


def all_ids(url: str) -> list[int]:
    db.open_database(url)
    try:
        return [i for (i,) in Endpoint.select(Endpoint.id).order_by(Endpoint.id).tuples()]
    finally:
        db.database.close()


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


# --- every field, compared with endpoints show --------------------------------------------


def test_json_export_is_endpoints_show_field_by_field(fleet: str, out: Path) -> None:
    ids = all_ids(fleet)
    target = out / "all.json"
    assert "Exported 30 endpoints to" in ok(fleet, "export", str(target))
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert sorted(o["id"] for o in exported) == ids
    for obj in exported:
        assert list(obj) == list(KEYS)
        expected = shown(fleet, obj["id"])
        for key in KEYS:
            assert obj[key] == expected[key], (obj["id"], key)
    # The fleet has what each field can hold, so the comparison compared something.
    by_id = {o["id"]: o for o in exported}
    assert any(len(o["imsis"]) == 2 for o in exported)
    assert any(o["eid"] for o in exported) and any(o["static_ip"] for o in exported)
    assert any(o["group"] for o in exported) and any(o["last_activity"] for o in exported)
    assert by_id[ids[0]]["name"] == FORMULA_NAME
    assert by_id[ids[1]]["reference"] == HOSTILE_REFERENCE
    assert by_id[ids[2]]["imei_lock"] == "353456789012347"


def test_csv_export_is_endpoints_show_cell_by_cell(fleet: str, out: Path) -> None:
    target = out / "all.csv"
    ok(fleet, "export", str(target))
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30
    assert list(rows[0]) == list(KEYS)
    for row in rows:
        expected = shown(fleet, int(row["id"]))
        for key in KEYS:
            assert row[key] == csv_cell(core_export.csv_value(expected[key])), (row["id"], key)
    names = [r["name"] for r in rows]
    # A formula is defused: a spreadsheet shows it as text.
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    assert any(";" in r["imsis"] for r in rows)
    assert {r["activate_immediately"] for r in rows} == {"true", "false"}


def test_jsonl_listing_is_endpoints_show_and_keeps_controls_escaped(fleet: str) -> None:
    text = ok(fleet, "endpoints", "list", "--limit", "0", "--format", "jsonl")
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\u2028"):
        assert raw not in text
    assert "\\u001b]52" in text and "\\u202e" in text and "\\u009b" in text
    objects = jsonl(text)
    assert len(objects) == 30
    for obj in objects:
        expected = shown(fleet, obj["id"])
        assert {k: obj[k] for k in KEYS} == {k: expected[k] for k in KEYS}


# --- the files' exact bytes ---------------------------------------------------------------

#: Text csv.writer must quote: a comma, a quote, a line break, and a cell led by a space.
QUOTED_NAME = 'Depot "North", bay 3\r\nrow 2'


def csv_bytes(keys: tuple[str, ...], objects: list[dict[str, Any]], *, raw: bool = False) -> bytes:
    """What ``csv.writer`` writes of each object's values, each through ``csv_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(keys)
    for obj in objects:
        writer.writerow([csv_cell(core_export.csv_value(obj[k]), raw=raw) for k in keys])
    return buffer.getvalue().encode("utf-8")


def json_lines(keys: tuple[str, ...], objects: list[dict[str, Any]]) -> list[str]:
    """One ``json.dumps`` object a line, control characters escaped."""
    return [json_text(json.dumps({k: o[k] for k in keys}, ensure_ascii=False))
            for o in objects]


def test_exported_files_are_byte_for_byte_what_endpoints_show_says(fleet: str,
                                                                  out: Path) -> None:
    db.open_database(fleet)
    ids = [i for (i,) in Endpoint.select(Endpoint.id).order_by(Endpoint.id).tuples()]
    Endpoint.update(name=QUOTED_NAME, reference=" led by a space").where(
        Endpoint.id == ids[3]).execute()
    Endpoint.update(name="", reference="-1").where(Endpoint.id == ids[4]).execute()
    db.database.close()
    order = paged_ids(fleet, queries.Filter(), "iccid")
    objects = [shown(fleet, i) for i in order]
    for name in ("all.csv", "all.jsonl", "all.json"):
        ok(fleet, "export", str(out / name))
    assert (out / "all.csv").read_bytes() == csv_bytes(KEYS, objects)
    lines = json_lines(KEYS, objects)
    assert (out / "all.jsonl").read_text(encoding="utf-8") == "".join(f"{x}\n" for x in lines)
    assert (out / "all.json").read_text(encoding="utf-8") == "[\n" + ",\n".join(lines) + "\n]\n"
    raw = run(fleet, "endpoints", "list", "--limit", "0", "--format", "csv", "--raw-csv")
    assert raw.stdout_bytes == csv_bytes(KEYS, objects, raw=True)
    # The quoted cells were there to be quoted, in both.
    assert b'"Depot ""North"", bay 3\r\nrow 2"' in raw.stdout_bytes
    assert '"Depot ""North"", bay 3\\r\\nrow 2"' in (out / "all.csv").read_text()


@given(st.lists(st.lists(st.text(alphabet=st.sampled_from('ab ,"\n\r;=\u202e')),
                         min_size=3, max_size=3), min_size=1, max_size=6))
def test_a_batch_is_written_as_csv_writer_writes_it(rows: list[list[str]]) -> None:
    """Cells with commas, quotes and line breaks among plain ones: the same text."""
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(rows)
    buffer = io.StringIO()
    columns = [list(c) for c in zip(*rows, strict=True)]
    text = core_export._csv_text(columns, buffer, csv.writer(buffer, lineterminator="\n"))
    assert text == expected.getvalue()


def test_audit_files_are_byte_for_byte_the_events(fleet: str) -> None:
    db.open_database(fleet)
    AuditEvent.create(actor="alice", action="edit", detail=json.dumps(
        {"name": QUOTED_NAME, "note": "b\x1b[2J", "list": [1, "two", None, True]}))
    db.database.close()
    events = old_audit(fleet, queries.AuditFilter())
    keys = core_export.AUDIT_KEYS
    assert ok(fleet, "audit", "--limit", "0", "--format", "csv").encode() == csv_bytes(
        keys, events)
    lines = json_lines(keys, events)
    assert ok(fleet, "audit", "--limit", "0", "--format", "jsonl") == "".join(
        f"{x}\n" for x in lines)
    assert ok(fleet, "audit", "--limit", "0", "--format", "json") == (
        "[\n" + ",\n".join(lines) + "\n]\n")


# --- the same rows, in the same order, as before ------------------------------------------


def paged_ids(url: str, f: queries.Filter, sort: str) -> list[int]:
    """The ids the list's keyset pages give, page after page (what export read before)."""
    db.open_database(url)
    try:
        out: list[int] = []
        after: queries.Key | None = None
        while rows := queries.page(f, sort, after=after, limit=7):
            out += [r.id for r in rows]
            after = rows[-1].key(sort)
        return out
    finally:
        db.database.close()


@pytest.mark.parametrize("sort", queries.SORTS)
def test_export_rows_and_order_are_the_lists(fleet: str, out: Path, sort: str) -> None:
    target = out / "sorted.jsonl"
    ok(fleet, "export", str(target), "--sort", sort)
    assert [o["id"] for o in jsonl(target.read_text())] == paged_ids(fleet, queries.Filter(),
                                                                    sort)


@pytest.mark.parametrize("args, f", [
    (["--state", "active", "--state", "idle"], queries.Filter(states=("active", "idle"))),
    (["--group", "cold-chain"], queries.Filter(group="cold-chain")),
    (["--group", "none"], queries.Filter(group="none")),
    (["--tag", "trial"], queries.Filter(tag="trial")),
    (["--search", "imsi:26201 -state:active eid:8904"],
     queries.Filter(search="imsi:26201 -state:active eid:8904")),
    (["--search", "taxi"], queries.Filter(search="taxi")),
])
def test_export_filters_are_the_lists(fleet: str, args: list[str], f: queries.Filter) -> None:
    text = ok(fleet, "endpoints", "list", "--limit", "0", "--format", "json", *args)
    got = [o["id"] for o in json.loads(text)]
    assert got and got == paged_ids(fleet, f, "iccid")


def test_export_matches_the_views_it_replaced(fleet: str) -> None:
    """Every object is what ``queries.views`` (the export's former source) gives."""
    objects = json.loads(ok(fleet, "endpoints", "list", "--limit", "0", "--format", "json"))
    db.open_database(fleet)
    try:
        before = [v.to_json() for v in queries.views([o["id"] for o in objects])]
    finally:
        db.database.close()
    assert objects == before


def test_a_limit_and_nothing_matching(fleet: str) -> None:
    assert len(jsonl(ok(fleet, "endpoints", "list", "--limit", "4", "--format", "jsonl"))) == 4
    csv_text = ok(fleet, "endpoints", "list", "--limit", "4", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 4
    none = ["--search", "no-such-endpoint-anywhere"]
    assert json.loads(ok(fleet, "endpoints", "list", "--format", "json", *none)) == []
    assert ok(fleet, "endpoints", "list", "--format", "jsonl", *none) == ""
    assert ok(fleet, "endpoints", "list", "--format", "csv", *none).splitlines() == [
        ",".join(KEYS)]


def test_export_to_stdout_and_its_formats(fleet: str, out: Path) -> None:
    result = run(fleet, "export", "-", "--as", "jsonl", "--state", "suspended")
    assert result.exit_code == 0
    assert [o["state"] for o in jsonl(result.stdout)] == ["suspended", "suspended"]
    assert "Exported 2 endpoints to stdout in" in result.stderr
    report = json.loads(ok(fleet, "export", str(out / "x.data"), "--as", "json",
                           "--format", "json"))
    assert report["written"] == 30 and report["format"] == "json"
    assert len(json.loads((out / "x.data").read_text())) == 30
    ok(fleet, "export", str(out / "y.jsonl"))
    assert len(jsonl((out / "y.jsonl").read_text())) == 30
    bad = run(fleet, "export", str(out / "z.csv"), "--as", "xml")
    assert bad.exit_code == 2 and "xml" in bad.stderr
    assert not (out / "z.csv").exists()


def test_raw_csv_cells_are_kept_as_stored(fleet: str) -> None:
    db.open_database(fleet)
    try:
        buffer = io.StringIO()
        core_export.write(core_export.endpoints(queries.Filter()), "csv", buffer.write,
                          raw=True)
    finally:
        db.database.close()
    names = [r["name"] for r in csv.DictReader(io.StringIO(buffer.getvalue()))]
    assert FORMULA_NAME in names


# --- audit, SIMs, a job's skipped endpoints ---------------------------------------------


def old_audit(url: str, af: queries.AuditFilter) -> list[dict[str, Any]]:
    """Every event, page by page, as ``audit`` read them before."""
    db.open_database(url)
    try:
        out: list[dict[str, Any]] = []
        before: int | None = None
        while page := queries.audit_page(af, before_id=before, limit=9):
            out += page
            before = page[-1]["id"]
        return out
    finally:
        db.database.close()


def test_audit_streams_every_event(fleet: str) -> None:
    db.open_database(fleet)
    AuditEvent.create(actor="alice", action="edit", detail=json.dumps(
        {"name": "=1+1", "note": "b\x1b[2J", "list": [1, "two"]}))
    db.database.close()
    everything = old_audit(fleet, queries.AuditFilter())
    assert len(everything) > 30
    assert json.loads(ok(fleet, "audit", "--limit", "0", "--format", "json")) == everything
    assert jsonl(ok(fleet, "audit", "--limit", "0", "--format", "jsonl")) == everything
    text = ok(fleet, "audit", "--limit", "0", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(core_export.AUDIT_KEYS)
    assert len(rows) == len(everything)
    for row, event in zip(rows, everything, strict=True):
        for key in core_export.AUDIT_KEYS:
            assert row[key] == csv_cell(core_export.csv_value(event[key])), (event["id"], key)
    assert json.loads(rows[0]["detail"]) == {"list": [1, "two"], "name": "=1+1",
                                             "note": "b\x1b[2J"}
    network = old_audit(fleet, queries.AuditFilter(actor="network"))
    assert jsonl(ok(fleet, "audit", "--actor", "network", "--limit", "0",
                    "--format", "jsonl")) == network
    assert len(jsonl(ok(fleet, "audit", "--limit", "5", "--format", "jsonl"))) == 5


def old_sims(url: str, **kw: Any) -> list[dict[str, Any]]:
    db.open_database(url)
    try:
        out: list[dict[str, Any]] = []
        after: str | None = None
        while rows := queries.sim_page(after_iccid=after, limit=4, **kw):
            out += [{"id": s.id, "iccid": s.iccid, "eid": s.eid, "imsi": s.imsi or None,
                     "status": s.status, "endpoint_id": s.endpoint_id} for s in rows]
            after = rows[-1].iccid
        return out
    finally:
        db.database.close()


@pytest.mark.parametrize("args, kw", [
    ([], {}),
    (["--status", "ready"], {"status": "ready"}),
    (["--status", "suspended"], {"status": "suspended"}),
    (["--search", "8904"], {"search": "8904"}),
])
def test_sims_list_streams_the_inventory(fleet: str, args: list[str], kw: dict[str, Any]) -> None:
    db.open_database(fleet)
    for n in range(3):  # the pool
        sim = Sim.create(iccid=make_iccid(f"894999{n:012d}"))
        Imsi.create(sim=sim, position=0, imsi=f"00101999{n:07d}")
    db.database.close()
    expected = old_sims(fleet, **kw)
    assert expected
    assert json.loads(ok(fleet, "sims", "list", "--limit", "0", "--format", "json",
                         *args)) == expected
    rows = list(csv.DictReader(io.StringIO(ok(fleet, "sims", "list", "--limit", "0",
                                                "--format", "csv", *args))))
    assert [r["iccid"] for r in rows] == [s["iccid"] for s in expected]
    assert [r["status"] for r in rows] == [s["status"] for s in expected]


def test_jobs_skipped_streams(fleet: str, out: Path) -> None:
    db.open_database(fleet)
    actor = auth.login(user=tui_fleet.USER)
    result = actions.run(actor, "suspend", Targets(filter=queries.Filter()))
    listed = core_jobs.job_skipped(result.job)
    db.database.close()
    skipped = sum(result.skipped.values())
    assert skipped > 5
    items = jsonl(ok(fleet, "jobs", "skipped", str(result.job), "--format", "jsonl"))
    assert len(items) == skipped and list(items[0]) == ["iccid", "reason"]
    assert [(i["iccid"], i["reason"]) for i in items] == listed
    assert any(i["iccid"].startswith("endpoint ") for i in items)  # one without a SIM
    assert json.loads(ok(fleet, "jobs", "skipped", str(result.job), "--format", "json")) == items
    target = out / "skipped.csv"
    assert f"Exported {skipped} skipped ICCIDs to" in ok(
        fleet, "jobs", "skipped", str(result.job), "--output", str(target))
    rows = list(csv.DictReader(target.open()))
    assert [(r["iccid"], r["reason"]) for r in rows] == [(i["iccid"], i["reason"]) for i in items]
    assert run(fleet, "jobs", "skipped", "999999", "--format", "jsonl").exit_code == 2


# --- atomic files -------------------------------------------------------------------------


def interrupt_after(monkeypatch: pytest.MonkeyPatch, batches: int) -> None:
    """Ctrl+C after ``batches`` batches of 4 endpoints were written."""
    monkeypatch.setattr(core_export, "BATCH", 4)
    real = core_export._Converter.cells
    calls = {"n": 0}

    def cells(self: Any, rows: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > batches:
            raise KeyboardInterrupt
        return real(self, rows)

    monkeypatch.setattr(core_export._Converter, "cells", cells)


def test_an_interrupted_export_leaves_no_file(fleet: str, out: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    interrupt_after(monkeypatch, 2)
    target = out / "all.csv"
    result = run(fleet, "export", str(target))
    assert result.exit_code == 130
    assert f"Interrupted: {target} was not written." in result.stderr
    assert list(out.iterdir()) == []


def test_an_interrupted_export_keeps_the_existing_file(
    fleet: str, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = out / "all.csv"
    target.write_text("the export of yesterday\n")
    interrupt_after(monkeypatch, 3)
    db.open_database(fleet)
    try:
        with pytest.raises(KeyboardInterrupt):
            core_export.write_file(core_export.endpoints(queries.Filter()), "csv", target)
    finally:
        db.database.close()
    assert target.read_text() == "the export of yesterday\n"
    assert [p.name for p in out.iterdir()] == ["all.csv"]


def test_an_export_into_a_folder_that_is_not_there(fleet: str, out: Path) -> None:
    result = run(fleet, "export", str(out / "no" / "x.jsonl"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = run(fleet, "export", str(out))
    assert result.exit_code == 2 and "is a folder" in result.stderr


# --- what the operator sees meanwhile ---------------------------------------------------


def test_progress_shows_rows_and_rate_then_clears(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from simdeck.tui.cli import streaming

    monkeypatch.setattr(streaming.Progress, "EVERY_S", 0.0)
    progress = streaming.Progress("endpoints", shown=True)
    progress(2000)
    progress(1_002_000)
    progress.end()
    err = capsys.readouterr().err
    assert "\r2,000 endpoints · " in err and "\r1,002,000 endpoints · " in err
    assert err.count("/s") == 2 and err.endswith("\r\x1b[K")
    quiet = streaming.Progress("endpoints", shown=False)
    quiet(2000)
    quiet.end()
    assert capsys.readouterr().err == ""
    assert streaming.summary(1_000_000, "endpoints", "all.csv", 7.06) == (
        "Exported 1,000,000 endpoints to all.csv in 7.1 s")
