"""Tests of core.importer: good files in their real-world shapes, and every broken one refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from simdeck.core import auth
from simdeck.core.auth import Actor
from simdeck.core.errors import InputError, NotFound, PermissionDenied
from simdeck.core.identifiers import make_eid, make_iccid
from simdeck.core.importer import ImportReport, import_sims
from simdeck.core.lifecycle import ACTIONS, State, resolve
from simdeck.core.models import AuditEvent, Endpoint, EndpointGroup, EndpointTag, Imsi, Sim
from simdeck.core.records import create_group


@pytest.fixture
def _db(admin: Actor) -> Actor:
    """The shared fresh database (tests/conftest.py) and the admin who created it."""
    return admin


def iccid(i: int) -> str:
    return make_iccid(f"894450{i:013d}")


def imsi(i: int) -> str:
    return f"00101{i:010d}"


def eid(i: int) -> str:
    return make_eid(f"89049032{i:022d}")


def write(tmp_path: Path, text: str | bytes, name: str = "sims.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def counts() -> dict[str, int]:
    return {
        "sim": Sim.select().count(),
        "imsi": Imsi.select().count(),
        "endpoint": Endpoint.select().count(),
        "endpoint_tag": EndpointTag.select().count(),
        "audit": AuditEvent.select().count(),
    }


def imsis_of(iccid_: str) -> list[str]:
    q = Imsi.select(Imsi.imsi).join(Sim).where(Sim.iccid == iccid_).order_by(Imsi.position)
    return [i for (i,) in q.tuples()]


def plain(n: int, start: int = 0) -> str:
    lines = ["iccid,imsi,eid"]
    lines += [f"{iccid(i)},{imsi(i)},{eid(i) if i % 2 else ''}" for i in range(start, start + n)]
    return "\n".join(lines) + "\n"


# --- good files ---------------------------------------------------------------------


def test_plain_file(_db: Actor, tmp_path: Path) -> None:
    report = import_sims(_db, write(tmp_path, plain(3)))
    assert report.ok() and not report.dry_run
    assert (report.rows, report.imported, report.endpoints) == (3, 3, 0)
    sims = {s.iccid: s for s in Sim.select()}
    assert set(sims) == {iccid(0), iccid(1), iccid(2)}
    assert sims[iccid(0)].eid is None  # a plastic SIM: EID cell empty
    assert sims[iccid(1)].eid == eid(1)
    assert all(s.endpoint_id is None for s in sims.values())
    assert isinstance(sims[iccid(0)].created_at, dt.datetime)
    assert imsis_of(iccid(2)) == [imsi(2)]
    event = AuditEvent.get(AuditEvent.action == "sims_imported")
    assert event.actor == "admin"
    assert json.loads(event.detail) == {"file": "sims.csv", "count": 3}
    assert report.lines()[0].startswith("Imported 3 SIMs from")


def test_bom_crlf_semicolon_multi_imsi(_db: Actor, tmp_path: Path) -> None:
    text = (
        "\ufeffICCID;IMSIs;EID\r\n"
        f"{iccid(0)};{imsi(0)}|{imsi(100)} {imsi(200)};{eid(0)}\r\n"
        f"{iccid(1)};{imsi(1)};\r\n"
    )
    report = import_sims(_db, write(tmp_path, text))
    assert report.ok(), report.errors
    assert report.imported == 2
    assert imsis_of(iccid(0)) == [imsi(0), imsi(100), imsi(200)]
    assert [p for (p,) in Imsi.select(Imsi.position).join(Sim)
            .where(Sim.iccid == iccid(0)).order_by(Imsi.position).tuples()] == [0, 1, 2]
    assert Sim.get(Sim.iccid == iccid(1)).eid is None


def test_tab_delimiter_header_spelling_and_padding(_db: Actor, tmp_path: Path) -> None:
    text = (
        "I C C I D\tim_si\tE_ID\n"
        f"{iccid(0)}F\t{imsi(0)}\t\n"
        f"{iccid(1)[:4]} {iccid(1)[4:10]}-{iccid(1)[10:]}ff\t{imsi(1)}\t{eid(1)}\n"
    )
    report = import_sims(_db, write(tmp_path, text))
    assert report.ok(), report.errors
    assert {s for (s,) in Sim.select(Sim.iccid).tuples()} == {iccid(0), iccid(1)}


def test_multi_imsi_cell_in_comma_file(_db: Actor, tmp_path: Path) -> None:
    text = f'iccid,imsi\n{iccid(0)},"{imsi(0)}; {imsi(1)}"\n{iccid(1)},{imsi(2)};{imsi(3)}\n'
    report = import_sims(_db, write(tmp_path, text))
    assert report.ok(), report.errors
    assert imsis_of(iccid(0)) == [imsi(0), imsi(1)]
    assert imsis_of(iccid(1)) == [imsi(2), imsi(3)]


def test_blank_lines_are_skipped_and_rows_keep_spreadsheet_numbers(
    _db: Actor, tmp_path: Path
) -> None:
    text = f"iccid,imsi\n{iccid(0)},{imsi(0)}\n\n{iccid(1)[:-1]}0,{imsi(1)}\n\n"
    report = import_sims(_db, write(tmp_path, text))
    assert report.rows == 2
    assert [row for row, _ in report.errors] == [4]


def test_as_endpoints_without_group(_db: Actor, tmp_path: Path) -> None:
    text = (
        "iccid,imsi,eid,name,reference,tags\n"
        f'{iccid(0)},{imsi(0)},,Truck 1,PO-77,"fleet-a, EU"\n'
        f"{iccid(1)},{imsi(1)},{eid(1)},,,\n"
    )
    report = import_sims(_db, write(tmp_path, text), as_endpoints=True)
    assert report.ok(), report.errors
    assert (report.imported, report.endpoints) == (2, 2)
    assert report.endpoint_state == State.PENDING.value
    for sim in Sim.select():
        ep = Endpoint.get_by_id(sim.endpoint_id)
        assert ep.iccid == sim.iccid
        assert ep.state == State.PENDING.value
        assert ep.group_id is None
        assert ep.activate_immediately
        created = AuditEvent.get((AuditEvent.endpoint_id == ep.id)
                                 & (AuditEvent.action == "created"))
        assert (created.from_state, created.to_state) == (None, "pending")
        assert created.iccid == sim.iccid
        detail = json.loads(created.detail)
        assert detail["sim"] == sim.iccid and detail["import"] == "sims.csv"
    first = Endpoint.get(Endpoint.iccid == iccid(0))
    assert (first.name, first.reference, first.tags) == ("Truck 1", "PO-77", "eu fleet-a")
    assert sorted(t.tag for t in EndpointTag.select().where(EndpointTag.endpoint == first.id)) == [
        "eu", "fleet-a"]
    assert Endpoint.get(Endpoint.iccid == iccid(1)).tags == ""
    batch = AuditEvent.get(AuditEvent.action == "sims_imported")
    assert json.loads(batch.detail)["count"] == 2
    assert AuditEvent.select().where(AuditEvent.action == "created").count() == 2


def test_as_endpoints_with_group(_db: Actor, tmp_path: Path) -> None:
    create_group(_db, "vantiq-connect-eu")
    report = import_sims(_db, write(tmp_path, plain(3)), as_endpoints=True,
                         group="vantiq-connect-eu")
    assert report.ok(), report.errors
    expected = resolve(ACTIONS["link"].transitions[State.HOLD], State.HOLD,
                       has_group=True, activate_immediately=True)
    assert expected is State.ACTIVE
    group = EndpointGroup.get(EndpointGroup.name == "vantiq-connect-eu")
    eps = list(Endpoint.select())
    assert len(eps) == 3
    assert {e.state for e in eps} == {"active"}
    assert {e.group_id for e in eps} == {group.id}
    linked = {s.endpoint_id: s.iccid for s in Sim.select()}
    assert {e.id: e.iccid for e in eps} == linked
    created = list(AuditEvent.select().where(AuditEvent.action == "created"))
    assert {a.to_state for a in created} == {"active"}
    assert {json.loads(a.detail)["group"] for a in created} == {"vantiq-connect-eu"}


def test_group_needs_as_endpoints_and_must_exist(_db: Actor, tmp_path: Path) -> None:
    path = write(tmp_path, plain(1))
    before = counts()
    with pytest.raises(InputError, match="--as-endpoints"):
        import_sims(_db, path, group="g")
    with pytest.raises(NotFound, match="group nope"):
        import_sims(_db, path, as_endpoints=True, group="nope")
    assert counts() == before


# --- broken files: refused, named, nothing written ----------------------------------


def _refused(actor: Actor, path: Path, **kw: bool) -> ImportReport:
    before = counts()
    report = import_sims(actor, path, **kw)  # type: ignore[arg-type]
    assert not report.ok()
    assert report.imported == 0 and report.endpoints == 0
    assert counts() == before
    return report


def _file_refused(actor: Actor, path: Path, match: str, **kw: bool) -> str:
    before = counts()
    with pytest.raises(InputError, match=match) as info:
        import_sims(actor, path, **kw)  # type: ignore[arg-type]
    assert counts() == before
    return str(info.value)


def test_latin1_file(_db: Actor, tmp_path: Path) -> None:
    text = f"iccid,imsi,name\n{iccid(0)},{imsi(0)},ok\n{iccid(1)},{imsi(1)},Gerät\n"
    path = write(tmp_path, text.encode("latin-1"))
    message = _file_refused(_db, path, "not UTF-8", as_endpoints=True)
    assert message == (
        f"{path}: is not UTF-8 (byte 0xe4 at line 3); save it as CSV UTF-8"
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("8.94E+18,{imsi}", "row 2: ICCID 8.94E+18: is in scientific notation"),
        ("8,94E+18,{imsi}", "row 2: has 3 cells, the header has 2"),
        ("{iccid_short},{imsi}", "row 2: ICCID {iccid_short}: check digit should be"),
        ("{iccid_bad},{imsi}", "row 2: ICCID {iccid_bad}: check digit should be"),
        ("1234567890123456789,{imsi}", "row 2: ICCID 1234567890123456789: must start with 89"),
        ("{iccid},", "row 2: IMSI: is empty"),
        ("{iccid},12345", "row 2: IMSI 12345: has 5 digits"),
        ("{iccid},{imsi};{imsi}", "row 2: IMSI {imsi}: is listed twice"),
        (",{imsi}", "row 2: ICCID: is empty"),
        ("{iccid}", "row 2: has 1 cells, the header has 2"),
    ],
)
def test_bad_row(_db: Actor, tmp_path: Path, row: str, expected: str) -> None:
    good = iccid(0)
    short = good[:-1]
    if make_iccid(short[:-1]) == short:  # make sure dropping the check digit breaks it
        short = good[:-2]
    values = {
        "iccid": good,
        "imsi": imsi(0),
        "iccid_short": short,
        "iccid_bad": good[:-1] + str((int(good[-1]) + 1) % 10),
    }
    path = write(tmp_path, "iccid,imsi\n" + row.format(**values) + "\n")
    report = _refused(_db, path)
    assert any(line.startswith(expected.format(**values)) for line in report.lines()), (
        report.lines()
    )


def test_bad_eid_and_name(_db: Actor, tmp_path: Path) -> None:
    bad_eid = eid(0)[:-1] + ("1" if eid(0)[-1] != "1" else "2")
    text = (
        "iccid,imsi,eid,name\n"
        f"{iccid(0)},{imsi(0)},{bad_eid},ok\n"
        f"{iccid(1)},{imsi(1)},,\x07bell\n"
    )
    report = _refused(_db, write(tmp_path, text), as_endpoints=True)
    assert report.errors[0][0] == 2 and report.errors[0][1].startswith(f"EID {bad_eid}:")
    assert report.errors[1][0] == 3 and report.errors[1][1].startswith("name ")


def test_every_row_error_is_collected(_db: Actor, tmp_path: Path) -> None:
    text = (
        "iccid,imsi\n"
        f"8.94E+18,{imsi(0)}\n"
        f"{iccid(1)},{imsi(1)}\n"
        f"{iccid(2)[:-1]}x,\n"
        f"{iccid(3)},{imsi(3)}\n"
    )
    report = _refused(_db, write(tmp_path, text))
    assert report.rows == 4
    assert [row for row, _ in report.errors] == [2, 4, 4]
    assert report.errors[1][1].startswith("ICCID")
    assert report.errors[2][1] == "IMSI: is empty"
    assert report.valid == 2
    assert "--partial" in report.lines()[0]


def test_duplicates_in_file(_db: Actor, tmp_path: Path) -> None:
    text = (
        "iccid,imsi,eid\n"
        f"{iccid(0)},{imsi(0)},{eid(0)}\n"
        f"{iccid(1)},{imsi(1)},{eid(1)}\n"
        f"{iccid(0)}F,{imsi(2)},\n"
        f"{iccid(3)},{imsi(9)};{imsi(1)},{eid(0)}\n"
    )
    report = _refused(_db, write(tmp_path, text))
    assert report.errors == [
        (4, f"ICCID {iccid(0)}: also on row 2"),
        (5, f"IMSI {imsi(1)}: also on row 3"),
        (5, f"EID {eid(0)}: also on row 2"),
    ]


def test_duplicates_against_database(_db: Actor, tmp_path: Path) -> None:
    assert import_sims(_db, write(tmp_path, plain(2), "first.csv")).imported == 2
    text = (
        "iccid,imsi,eid\n"
        f"{iccid(0)},{imsi(50)},\n"
        f"{iccid(51)},{imsi(1)},\n"
        f"{iccid(52)},{imsi(52)},{eid(1)}\n"
        f"{iccid(53)},{imsi(53)},\n"
    )
    report = _refused(_db, write(tmp_path, text, "second.csv"))
    assert report.errors == [
        (2, f"ICCID {iccid(0)}: is already in the inventory"),
        (3, f"IMSI {imsi(1)}: already used by SIM {iccid(1)}"),
        (4, f"EID {eid(1)}: already used by SIM {iccid(1)}"),
    ]


def test_duplicates_against_database_in_many_batches(_db: Actor, tmp_path: Path) -> None:
    assert import_sims(_db, write(tmp_path, plain(2000), "first.csv")).imported == 2000
    report = _refused(_db, write(tmp_path, plain(2000), "again.csv"))
    # ICCID and IMSI on every row, EID on every other one.
    assert len(report.errors) == 5000
    assert {row for row, _ in report.errors} == set(range(2, 2002))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("\r\n  \n", "is empty"),
        ("\ufeff", "is empty"),
        ("iccid,imsi,eid\n", "has a header line but no SIM rows"),
        ("iccid;imsi\r\n\r\n", "has a header line but no SIM rows"),
        (f"imsi,eid\n{imsi(0)},\n", r"has no iccid column\. Found: imsi, eid"),
        (f"iccid,eid\n{iccid(0)},\n", r"has no imsi column.*Found: iccid, eid"),
        (f"iccid,imsi,colour\n{iccid(0)},{imsi(0)},red\n", "unknown column 'colour'"),
        (f"iccid,imsi,eid,\n{iccid(0)},{imsi(0)},,\n", r"unknown column column 4 \(no name\)"),
        (f"iccid,imsi,iccid\n{iccid(0)},{imsi(0)},{iccid(1)}\n", "iccid appears twice"),
        (f"iccid,imsi,name\n{iccid(0)},{imsi(0)},x\n", "name describe endpoints"),
    ],
)
def test_bad_file(_db: Actor, tmp_path: Path, text: str, match: str) -> None:
    _file_refused(_db, write(tmp_path, text), match)


def test_missing_file(_db: Actor, tmp_path: Path) -> None:
    _file_refused(_db, tmp_path / "nope.csv", "cannot read the file")


def test_fifty_megabyte_line(_db: Actor, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w") as f:
        f.write("iccid,imsi\n")
        f.write(f"{iccid(0)},{imsi(0)}\n")
        f.write("8" * 52_428_800 + f",{imsi(1)}\n")
        f.write(f"{iccid(2)},{imsi(2)}\n")
    report = _refused(_db, path)
    assert report.rows == 3
    assert report.errors == [
        (3, "ICCID: cell is 52,428,800 characters long, at most 65,536 allowed")
    ]
    assert "row 3: ICCID: cell is 52,428,800 characters long" in report.lines()[1]


def test_fifty_megabyte_line_without_delimiter(_db: Actor, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("iccid,imsi\n" + "x" * 52_428_800 + "\n")
    report = _refused(_db, path)
    assert [m for _, m in report.errors] == [
        "ICCID: cell is 52,428,800 characters long, at most 65,536 allowed",
        "has 1 cells, the header has 2 (iccid, imsi)",
    ]


def test_wrong_cell_count(_db: Actor, tmp_path: Path) -> None:
    text = f"iccid,imsi,eid\n{iccid(0)},{imsi(0)},\n{iccid(1)},{imsi(1)}\n"
    report = _refused(_db, write(tmp_path, text))
    assert report.errors == [(3, "has 2 cells, the header has 3 (iccid, imsi, eid)")]


# --- modes and roles ----------------------------------------------------------------


def test_partial_writes_only_the_good_rows(_db: Actor, tmp_path: Path) -> None:
    text = (
        "iccid,imsi\n"
        f"{iccid(0)},{imsi(0)}\n"
        f"8.94E+18,{imsi(1)}\n"
        f"{iccid(2)},{imsi(2)}\n"
        f"{iccid(2)},{imsi(3)}\n"
    )
    report = import_sims(_db, write(tmp_path, text), partial=True, as_endpoints=True)
    assert not report.ok()
    assert (report.imported, report.endpoints, report.valid) == (2, 2, 2)
    assert [row for row, _ in report.errors] == [3, 5]
    assert {s for (s,) in Sim.select(Sim.iccid).tuples()} == {iccid(0), iccid(2)}
    assert imsis_of(iccid(2)) == [imsi(2)]
    assert Imsi.select().count() == 2
    assert Endpoint.select().count() == 2
    assert json.loads(AuditEvent.get(AuditEvent.action == "sims_imported").detail)["count"] == 2
    assert "left out" in report.lines()[0]


def test_dry_run_writes_nothing(_db: Actor, tmp_path: Path) -> None:
    before = counts()
    report = import_sims(_db, write(tmp_path, plain(5)), dry_run=True, as_endpoints=True)
    assert report.ok() and report.dry_run
    assert (report.rows, report.valid, report.imported, report.endpoints) == (5, 5, 0, 0)
    assert counts() == before
    assert "would import 5 SIMs and create 5 endpoints (Pending)" in report.lines()[0]
    bad = import_sims(_db, write(tmp_path, plain(1) + "8.94E+18,1,\n", "bad.csv"), dry_run=True)
    assert [row for row, _ in bad.errors] == [3, 3]
    assert counts() == before


def test_viewer_is_refused(_db: Actor, tmp_path: Path) -> None:
    auth.add_operator(_db, "vera", "viewer")
    viewer = auth.login(user="vera")
    path = write(tmp_path, plain(2))
    before = counts()
    with pytest.raises(PermissionDenied, match="import SIMs"):
        import_sims(viewer, path)
    with pytest.raises(PermissionDenied):
        import_sims(Actor("admin", _db.role, read_only=True), path)
    assert counts() == before


def test_report_json_and_lines(_db: Actor, tmp_path: Path) -> None:
    text = "iccid,imsi\n" + "".join(f"8.94E+18,{imsi(i)}\n" for i in range(60))
    report = import_sims(_db, write(tmp_path, text))
    data = report.to_json()
    assert data["ok"] is False and data["rows"] == 60 and data["imported"] == 0
    assert data["errors"][0] == {"row": 2, "message": report.errors[0][1]}
    lines = report.lines(max_errors=50)
    assert len(lines) == 1 + 50 + 1
    assert lines[-1] == "… and 10 more errors"
    json.dumps(data)


def test_clash_found_only_while_writing_is_refused_whole(
    _db: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another operator imports the same SIM between the check and the write."""
    import simdeck.core.importer as importer

    assert import_sims(_db, write(tmp_path, plain(1, start=1), "theirs.csv")).imported == 1
    monkeypatch.setattr(importer, "_against_database", lambda rows, errors: None)
    before = counts()
    with pytest.raises(importer.Refused, match="nothing was imported"):
        import_sims(_db, write(tmp_path, plain(3)), as_endpoints=True)
    assert counts() == before
