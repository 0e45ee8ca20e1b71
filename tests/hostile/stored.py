"""A fleet whose every stored text field holds the STORED_TEXT corpus, and the checks of
what reaches the operator: no control character emitted, CSV cells defused.

Core refuses control characters in names and references when they are typed, so the
hostile values are written the way they would arrive otherwise: straight into the
tables (a team's PostgreSQL written by another tool, an older version), through a
file name (a SIM batch) and through a job's stored search. Built with the shared
``Maker`` so each endpoint has a real SIM, state and audit trail first.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from simdeck.core import actions, auth, db, importer, models
from simdeck.core.actions import Targets
from simdeck.core.lifecycle import State
from simdeck.core.models import AuditEvent, Endpoint, EndpointGroup, EndpointTag, Job, JobItem
from simdeck.core.queries import Filter
from simdeck.core.sanitize import FORMULA_START
from tests.conftest import GROUP, Maker
from tests.hostile.corpus import STORED_TEXT, iccid, imsi

#: What must never reach a terminal: ESC, BEL and the other C0 controls but newline,
#: DEL and the C1 controls, the bidirectional overrides and isolates.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: The colours the command line itself writes to a terminal (SGR only).
OWN_COLOUR = re.compile("\x1b\\[[0-9;]*m")

#: The corpus case whose text names the SIM batch file (a file name can hold it).
FILE_CASE = STORED_TEXT[0]


@dataclass
class StoredFleet:
    """The database and where each case's text was put."""

    path: Path
    folder: Path
    endpoints: dict[str, int] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    job: int = 0
    events_file: Path | None = None


def build(path: Path, folder: Path) -> StoredFleet:
    """Every STORED_TEXT case in every stored text field; the database left closed."""
    fleet = StoredFleet(path, folder)
    db.open_database(str(path))
    models.create_schema()
    actor = auth.login(user="admin")
    make = Maker(actor)
    make.group(GROUP)
    for case in STORED_TEXT:
        fleet.endpoints[case["id"]] = make.endpoint(State.ACTIVE)
    # A bulk job over them (each already Active: skipped), before their text turns hostile.
    result = actions.run(actor, "activate", Targets(filter=Filter(group=GROUP)))
    assert result.job is not None
    fleet.job = result.job
    texts = [c["text"] for c in STORED_TEXT]
    for case in STORED_TEXT:
        text, ep = case["text"], fleet.endpoints[case["id"]]
        group = EndpointGroup.create(name=text[:64], description=f"Depot {text} north", apn=text)
        fleet.groups[case["id"]] = group.name
        Endpoint.update(name=text, reference=text, tags=text, group=group.id).where(
            Endpoint.id == ep).execute()
        EndpointTag.delete().where(EndpointTag.endpoint == ep).execute()
        EndpointTag.create(tag=text, endpoint=ep)
        iccid_of = Endpoint.get_by_id(ep).iccid
        AuditEvent.create(actor="admin", action="edit", endpoint_id=ep, iccid=iccid_of,
                          detail=json.dumps({"name": ["before", text], "reference": text}))
        AuditEvent.create(actor=text, action=text, endpoint_id=ep, iccid=iccid_of,
                          from_state="active", to_state="suspended",
                          detail=json.dumps({"file": text}))
        # What the job skipped, and why, as stored text.
        JobItem.update(iccid=text, outcome=f"skipped: {text}").where(
            (JobItem.job == result.job) & (JobItem.endpoint_id == ep)).execute()
    # The job's stored search, group and message (a search is stored as it was given).
    job = Job.get_by_id(result.job)
    params = json.loads(job.params)
    params["targets"]["filter"]["search"] = " ".join(texts)
    params["group"] = texts[1]
    Job.update(params=json.dumps(params), message="\n".join(texts)).where(
        Job.id == result.job).execute()
    # A SIM batch whose file name holds the first case: recorded in the audit by core.
    batch = folder / FILE_CASE["text"]
    batch.write_text(f"iccid,imsi\n{iccid(7001)},{imsi(7001)}\n", encoding="utf-8")
    report = importer.import_sims(actor, batch)
    assert report.imported == 1, report.lines()
    db.database.close()
    # Network events whose event and at fields hold the corpus (refused, and quoted).
    lines = []
    for case in STORED_TEXT:
        lines.append(json.dumps({"iccid": iccid(1), "event": case["text"], "at": "2025-01-01"}))
        lines.append(json.dumps({"iccid": iccid(1), "event": "attach", "at": case["text"]}))
        lines.append(json.dumps({"iccid": case["text"], "event": "attach"}))
    fleet.events_file = folder / "events.jsonl"
    fleet.events_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return fleet


def assert_nothing_emitted(text: str, where: str) -> None:
    """No raw control character in ``text`` (the command line's own colours aside)."""
    bare = OWN_COLOUR.sub("", text)
    found = sorted({f"U+{ord(c):04X}" for c in RAW_CONTROL.findall(bare)})
    assert not found, f"{where}: control characters {found} reach the terminal"


def csv_cells(text: str) -> list[list[str]]:
    """The rows of a CSV text."""
    return list(csv.reader(io.StringIO(text)))


def assert_defused(rows: list[list[str]], where: str) -> None:
    """No cell a spreadsheet would read as a formula, none holding a control character."""
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"{where}: formula cell {cell!r}"
            assert not RAW_CONTROL.search(cell), f"{where}: control character in {cell!r}"
