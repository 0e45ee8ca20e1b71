"""Import a batch of SIMs from a CSV file into the inventory (or as one endpoint per SIM).

The file is read whole, decoded as strict UTF-8 (a byte-order mark is dropped, Windows
line ends are fine), its delimiter sniffed from the header line (``,`` ``;`` or tab)
and its header matched case-insensitively, spaces and underscores ignored:

- ``iccid`` (required), ``imsi`` or ``imsis`` (required; several IMSIs in one cell are
  separated by ``;``, or by ``|`` or spaces when the file's delimiter is ``;``), ``eid``
  (empty for a plastic SIM);
- with ``as_endpoints`` also ``name``, ``reference`` and ``tags``.

An unknown column is refused rather than ignored: a typo in a header must not drop a
column silently. Every value goes through ``core.identifiers``; every row error is
collected (row numbers as a spreadsheet shows them: the header is row 1), duplicates
inside the file and against the database included, the latter checked set-based.

All or nothing by default: one error and nothing is written. ``partial`` writes the
valid rows and reports the others; ``dry_run`` writes nothing and reports what would
happen. An import of up to IMPORT_CHUNK rows is one write transaction; a larger one is
staged, then written a chunk per transaction as a recorded job that ends with all of its
rows or none (``_import_as_job``), so no transaction holds the write lock for long.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee as pw

from . import identifiers as ids
from . import models
from .actions import CHUNK_GAP_S, Result, beat, process_identity
from .auth import Actor
from .db import Checkpointer, checkpointing, database, retrying
from .errors import InputError, NotFound, Refused, ValidationError
from .lifecycle import ACTIONS, AuditAction, JobStatus, Role, State, resolve
from .models import AuditEvent, Endpoint, EndpointGroup, EndpointTag, ImportRow, Imsi, Job, Sim

#: A cell longer than this is refused by length before any other check.
MAX_CELL = 64 * 1024
#: Values per IN (...) list when checking against the database.
IN_BATCH = 900
#: Bound variables per INSERT statement (SQLite allows 32,766 since 3.32; stay well under).
MAX_VARIABLES = 30_000
DELIMITERS = (",", ";", "\t")

#: Header name (lower case, spaces and underscores removed) → column.
COLUMNS = {
    "iccid": "iccid",
    "imsi": "imsi",
    "imsis": "imsi",
    "eid": "eid",
    "name": "name",
    "reference": "reference",
    "tags": "tags",
    "tag": "tags",
}
ENDPOINT_COLUMNS = ("name", "reference", "tags")
#: The field each column's errors are named by.
LABELS = {
    "iccid": "ICCID",
    "imsi": "IMSI",
    "eid": "EID",
    "name": "name",
    "reference": "reference",
    "tags": "tags",
}

# Characters that separate several IMSIs (or tags) inside one cell besides ';' ',' space.
_CELL_SEPARATORS = str.maketrans({"|": " "})
_TAG_SEPARATORS = str.maketrans({"|": " ", ";": " "})


@dataclass
class ImportReport:
    """What an import read, wrote and refused."""

    rows: int
    imported: int
    endpoints: int
    errors: list[tuple[int, str]]
    dry_run: bool
    #: The file as named by the caller.
    file: str = ""
    #: Rows that passed every check (written, or that would be on a dry run).
    valid: int = 0
    partial: bool = False
    #: The state the created endpoints are in (``as_endpoints`` only).
    endpoint_state: str | None = None

    def ok(self) -> bool:
        """True when every row was valid."""
        return not self.errors

    def lines(self, max_errors: int = 50) -> list[str]:
        """A summary in words, then the row errors (at most ``max_errors`` of them)."""
        n_bad = len({row for row, _ in self.errors})
        noun = _plural(self.rows, "row")
        state = f" ({State(self.endpoint_state).label})" if self.endpoint_state else ""
        if self.dry_run:
            would = self.valid if self.partial or not self.errors else 0
            creates = (f" and create {_plural(would, 'endpoint')}{state}"
                       if self.endpoint_state else "")
            out = [f"Dry run of {self.file}: {noun}, {self.valid:,} valid, {n_bad:,} with "
                   f"errors; would import {_plural(would, 'SIM')}{creates}. "
                   "Nothing was written."]
        elif self.imported:
            out = [f"Imported {_plural(self.imported, 'SIM')} from {self.file}"
                   + (f", created {_plural(self.endpoints, 'endpoint')}{state}"
                      if self.endpoints else "")
                   + (f"; {n_bad} rows with errors were left out." if n_bad else ".")]
        elif self.errors:
            hint = (" Fix the rows below and import again"
                    + (f", or import with --partial to write only the {self.valid} valid rows."
                       if self.valid and not self.partial else "."))
            out = [f"Nothing was imported from {self.file}: {n_bad} of {noun} have errors."
                   + hint]
        else:
            out = [f"Nothing was imported from {self.file}: {noun}."]
        for row, message in self.errors[:max_errors]:
            out.append(f"row {row}: {message}")
        if len(self.errors) > max_errors:
            out.append(f"… and {len(self.errors) - max_errors} more errors")
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for ``--format json``."""
        return {
            "file": self.file,
            "rows": self.rows,
            "valid": self.valid,
            "imported": self.imported,
            "endpoints": self.endpoints,
            "endpoint_state": self.endpoint_state,
            "dry_run": self.dry_run,
            "ok": self.ok(),
            "errors": [{"row": row, "message": message} for row, message in self.errors],
        }


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(slots=True)
class _Row:
    """One data row, normalised."""

    row: int
    iccid: str | None = None
    imsis: list[str] = field(default_factory=list)
    eid: str | None = None
    name: str = ""
    reference: str = ""
    tags: list[str] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------


def _read_text(path: Path, shown: str) -> str:
    """The file's text: BOM dropped, strict UTF-8, or an InputError naming byte and line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{shown}: cannot read the file: {exc.strerror or exc}") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{shown}: is not UTF-8 (byte 0x{byte:02x} at line {line}); save it as CSV UTF-8"
        ) from None


def _sniff(text: str) -> str:
    """The delimiter used most in the first non-blank line; ',' when there is none."""
    header = next((line for line in io.StringIO(text) if line.strip()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | None, str]]:
    """(row number, cells or None, csv error) for every record, row 1 first."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row += 1
            yield row, None, f"cannot be read as CSV: {exc}"
            continue
        row += 1
        yield row, cells, ""


def _blank(cells: list[str]) -> bool:
    return not cells or not "".join(cells).strip()


def _columns(header: list[str], shown: str, as_endpoints: bool) -> list[str]:
    """The column of each header cell; InputError for unknown, doubled or missing ones."""
    keys = [
        h.replace("\ufeff", "").strip().lower().replace(" ", "").replace("_", "") for h in header
    ]
    found = ", ".join(ids.shown(h.strip()) or "(empty)" for h in header)
    unknown = [f"{h.strip()!r}" if h.strip() else f"column {i} (no name)"
               for i, (h, k) in enumerate(zip(header, keys, strict=True), start=1)
               if k not in COLUMNS]
    if unknown:
        raise InputError(
            f"{shown}: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"the columns are iccid, imsi, eid (and name, reference, tags with --as-endpoints). "
            f"Found: {found}"
        )
    columns = [COLUMNS[k] for k in keys]
    doubled = sorted({c for c in columns if columns.count(c) > 1})
    if doubled:
        raise InputError(f"{shown}: the column {', '.join(doubled)} appears twice. Found: {found}")
    if "iccid" not in columns:
        raise InputError(f"{shown}: has no iccid column. Found: {found}")
    if "imsi" not in columns:
        raise InputError(
            f"{shown}: has no imsi column; every SIM needs at least one IMSI. Found: {found}"
        )
    for_endpoints = [c for c in columns if c in ENDPOINT_COLUMNS]
    if for_endpoints and not as_endpoints:
        raise InputError(
            f"{shown}: the column{'s' if len(for_endpoints) > 1 else ''} "
            f"{', '.join(for_endpoints)} describe endpoints; import with --as-endpoints "
            "to create one endpoint per SIM, or remove them"
        )
    return columns


def _parse(
    text: str, shown: str, as_endpoints: bool
) -> tuple[list[_Row], list[tuple[int, str]], int]:
    """The normalised rows, the row errors and the number of data rows."""
    if not text or text.isspace():
        raise InputError(
            f"{shown}: is empty; expected a header line (iccid, imsi, eid) and one row per SIM"
        )
    delimiter = _sniff(text)
    previous = csv.field_size_limit()
    # Large enough that no field of this file trips the csv module: over-long cells are
    # refused below, by length, as a row error rather than a csv.Error or a MemoryError.
    csv.field_size_limit(max(previous, len(text) + 1))
    try:
        return _parse_records(_records(text, delimiter), shown, as_endpoints)
    finally:
        csv.field_size_limit(previous)


def _parse_records(
    records: Iterable[tuple[int, list[str] | None, str]], shown: str, as_endpoints: bool
) -> tuple[list[_Row], list[tuple[int, str]], int]:
    errors: list[tuple[int, str]] = []
    rows: list[_Row] = []
    columns: list[str] | None = None
    count = 0
    for number, cells, problem in records:
        if columns is None:
            if cells is None:
                raise InputError(f"{shown}: the header line {problem}")
            if _blank(cells):
                continue
            for i, c in enumerate(cells, start=1):
                if len(c) > MAX_CELL:
                    raise InputError(
                        f"{shown}: header cell {i} is {len(c):,} characters long; "
                        "is this a CSV file?"
                    )
            columns = _columns(cells, shown, as_endpoints)
            continue
        if cells is None:
            count += 1
            errors.append((number, problem))
            continue
        if _blank(cells):
            continue
        count += 1
        rows.append(_parse_row(number, cells, columns, errors))
    if columns is None:
        raise InputError(
            f"{shown}: is empty; expected a header line (iccid, imsi, eid) and one row per SIM"
        )
    if not count:
        raise InputError(f"{shown}: has a header line but no SIM rows")
    return rows, errors, count


def _parse_row(
    number: int, cells: list[str], columns: list[str], errors: list[tuple[int, str]]
) -> _Row:
    """One row normalised; its errors appended to ``errors`` (a row may have several)."""
    row = _Row(number)
    if len(cells) != len(columns) or max(map(len, cells)) > MAX_CELL:
        for i, cell in enumerate(cells):
            if len(cell) > MAX_CELL:
                label = LABELS[columns[i]] if i < len(columns) else f"cell {i + 1}"
                errors.append(
                    (number, f"{label}: cell is {len(cell):,} characters long, "
                             f"at most {MAX_CELL:,} allowed")
                )
        if len(cells) != len(columns):
            errors.append(
                (number, f"has {len(cells)} cells, the header has {len(columns)} "
                         f"({', '.join(columns)})")
            )
        return row
    for column, cell in zip(columns, cells, strict=True):
        try:
            if column == "iccid":
                row.iccid = ids.normalize_iccid(cell)
            elif column == "imsi":
                # One IMSI of plain digits (the common case) is what normalize_imsis would
                # return as a list of one; skip its splitting.
                row.imsis = (
                    [ids.normalize_imsi(cell)] if cell.isascii() and cell.isdigit()
                    else ids.normalize_imsis(cell.translate(_CELL_SEPARATORS))
                )
            elif column == "eid":
                row.eid = ids.normalize_eid(cell) if cell.strip() else None
            elif column == "name":
                row.name = ids.normalize_text("name", cell)
            elif column == "reference":
                row.reference = ids.normalize_text("reference", cell)
            else:
                row.tags = ids.normalize_tags(cell.translate(_TAG_SEPARATORS))
        except ValidationError as exc:
            errors.append((number, str(exc)))
    return row


# --- checking -----------------------------------------------------------------------


def _in_file_duplicates(rows: list[_Row], errors: list[tuple[int, str]]) -> None:
    """'ICCID x: also on row N' for every value already seen on an earlier row."""
    seen: dict[str, dict[str, int]] = {"ICCID": {}, "IMSI": {}, "EID": {}}
    for r in rows:
        values = [("ICCID", r.iccid), *(("IMSI", i) for i in r.imsis), ("EID", r.eid)]
        for label, value in values:
            if value is None:
                continue
            first = seen[label].setdefault(value, r.row)
            if first != r.row:
                errors.append((r.row, f"{label} {value}: also on row {first}"))


def _against_database(rows: list[_Row], errors: list[tuple[int, str]]) -> None:
    """ICCIDs, IMSIs and EIDs already in the inventory, queried in IN batches of 900."""
    by_iccid = {r.iccid: r.row for r in rows if r.iccid}
    by_imsi = {i: r.row for r in rows for i in r.imsis}
    by_eid = {r.eid: r.row for r in rows if r.eid}
    sim, imsi = _name(Sim._meta.table_name), _name(Imsi._meta.table_name)
    for (iccid,) in _select_in(f"SELECT iccid FROM {sim} WHERE iccid IN", list(by_iccid)):
        errors.append((by_iccid[iccid], f"ICCID {iccid}: is already in the inventory"))
    for value, owner in _select_in(
        f"SELECT i.imsi, s.iccid FROM {imsi} i JOIN {sim} s ON s.id = i.sim_id "
        "WHERE i.imsi IN", list(by_imsi),
    ):
        errors.append((by_imsi[value], f"IMSI {value}: already used by SIM {owner}"))
    for eid, owner in _select_in(f"SELECT eid, iccid FROM {sim} WHERE eid IN", list(by_eid)):
        errors.append((by_eid[eid], f"EID {eid}: already used by SIM {owner}"))


# --- writing ------------------------------------------------------------------------


def _name(text: str) -> str:
    """A table or column name quoted for the bound database."""
    q = database.quote
    return f"{q[0]}{text}{q[1]}"


def _marks(n: int) -> str:
    """``(?, ?, …)``: n placeholders in the bound database's style."""
    return "(" + ", ".join([database.param] * n) + ")"


def _select_in(sql: str, values: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` (ending in ``IN``) for ``values``, in IN lists of IN_BATCH."""
    for batch in pw.chunked(values, IN_BATCH):
        yield from database.execute_sql(f"{sql} {_marks(len(batch))}", batch).fetchall()


def insert_rows(
    model: type[models.BaseModel], fields: list[Any], rows: list[tuple[Any, ...]]
) -> None:
    """Multi-row INSERT … VALUES of at most MAX_VARIABLES bound values per statement.

    The statement ``insert_many`` writes, with the values bound as parameters; peewee's
    own insert_many builds and visits an SQL node per value (~3 µs each), which for
    100k SIMs would be most of the import's time budget. Values must already be in
    their stored form (the caller converts datetimes once).
    """
    table = _name(model._meta.table_name)
    columns = ", ".join(_name(f.column_name) for f in fields)
    one = _marks(len(fields))
    per = max(1, MAX_VARIABLES // len(fields))
    for batch in pw.chunked(rows, per):
        database.execute_sql(
            f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * len(batch)),
            [v for row in batch for v in row],
        )


def _created_detail(row: _Row, about: dict[str, Any]) -> str:
    """The detail of an endpoint's ``created`` event: its SIM, the file, group and name."""
    detail = {"sim": row.iccid, **about}
    if row.name:
        detail["name"] = row.name
    return json.dumps(detail)


def stored_time(when: dt.datetime) -> str:
    """A naive UTC datetime as peewee stores a DateTimeField on SQLite (PostgreSQL parses it)."""
    return when.isoformat(" ")


def _write(
    actor: Actor, rows: list[_Row], group_id: int | None, state: State | None, filename: str,
    *, job_id: int | None = None, summary: bool = True,
) -> int:
    """Write the SIMs (and their endpoints); inside one write transaction: the import's
    only one, or one chunk of an import job (``job_id``: its events carry it; the
    summary event is written once, by the job's last transaction)."""
    when = models.utcnow()
    now = stored_time(when)
    iccids = [r.iccid for r in rows if r.iccid]
    endpoint_of: dict[str, int] = {}
    if state is not None:
        group_name = None
        if group_id is not None:
            group = EndpointGroup.get_or_none(EndpointGroup.id == group_id)
            if group is None:
                raise NotFound("the Endpoint Group was deleted during the import; nothing imported")
            group_name = group.name
        before = Endpoint.select(pw.fn.MAX(Endpoint.id)).scalar() or 0
        insert_rows(
            Endpoint,
            [Endpoint.iccid, Endpoint.name, Endpoint.reference, Endpoint.tags, Endpoint.group,
             Endpoint.state, Endpoint.activate_immediately, Endpoint.last_activity,
             Endpoint.created_at, Endpoint.updated_at, Endpoint.version],
            [(r.iccid, r.name, r.reference, " ".join(r.tags), group_id, state.value, True, 0,
              now, now, 1) for r in rows],
        )
        endpoint_of = {
            iccid: rid for iccid, rid in _select_in(
                f"SELECT iccid, id FROM {_name(Endpoint._meta.table_name)} "
                f"WHERE id > {int(before)} AND iccid IN", iccids,
            )
        }
        insert_rows(EndpointTag, [EndpointTag.tag, EndpointTag.endpoint],
                [(t, endpoint_of[r.iccid]) for r in rows if r.iccid for t in r.tags])
        about: dict[str, Any] = {"import": filename}
        if group_name:
            about["group"] = group_name
        insert_rows(
            AuditEvent,
            [AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.endpoint_id,
             AuditEvent.iccid, AuditEvent.from_state, AuditEvent.to_state, AuditEvent.detail,
             AuditEvent.job],
            [(now, actor.name, AuditAction.CREATED, endpoint_of[r.iccid], r.iccid, None,
              state.value, _created_detail(r, about), job_id)
             for r in rows if r.iccid],
        )
    insert_rows(
        Sim,
        [Sim.iccid, Sim.eid, Sim.endpoint, Sim.created_at],
        [(r.iccid, r.eid, endpoint_of.get(r.iccid or ""), now) for r in rows],
    )
    sim_of = {
        iccid: rid for iccid, rid in _select_in(
            f"SELECT iccid, id FROM {_name(Sim._meta.table_name)} WHERE iccid IN", iccids
        )
    }
    insert_rows(
        Imsi,
        [Imsi.sim, Imsi.position, Imsi.imsi],
        [(sim_of[r.iccid], pos, imsi) for r in rows if r.iccid
         for pos, imsi in enumerate(r.imsis)],
    )
    if summary:
        _summary_event(actor, filename, len(rows), state, job_id)
    return len(rows)


def _summary_event(
    actor: Actor, filename: str, count: int, state: State | None, job_id: int | None
) -> None:
    detail: dict[str, Any] = {"file": filename, "count": count}
    if state is not None:
        detail["endpoints"] = count
    AuditEvent.insert(
        at=models.utcnow(), actor=actor.name, action=AuditAction.SIMS_IMPORTED,
        endpoint_id=None, iccid="", detail=json.dumps(detail), job=job_id,
    ).execute()


# --- the import ---------------------------------------------------------------------


def import_sims(
    actor: Actor,
    path: str | Path,
    *,
    as_endpoints: bool = False,
    group: str | None = None,
    dry_run: bool = False,
    partial: bool = False,
) -> ImportReport:
    """Import the SIMs of a CSV file; see the module docstring for the rules."""
    actor.require(Role.OPERATOR, "import SIMs")
    group_id: int | None = None
    if group is not None and group.strip():
        if not as_endpoints:
            raise InputError(
                "--group needs --as-endpoints: SIMs in the pool have no group, endpoints do"
            )
        found = EndpointGroup.get_or_none(EndpointGroup.name == group.strip())
        if found is None:
            raise NotFound(f"group {group.strip()}: no Endpoint Group has this name")
        group_id = int(found.id)
    state: State | None = None
    if as_endpoints:
        state = resolve(
            ACTIONS["link"].transitions[State.HOLD], State.HOLD,
            has_group=group_id is not None, activate_immediately=True,
        )
    shown = str(path)
    text = _read_text(Path(path), shown)
    rows, errors, count = _parse(text, shown, as_endpoints)
    del text
    _in_file_duplicates(rows, errors)
    _against_database(rows, errors)
    errors.sort(key=lambda e: e[0])
    bad = {row for row, _ in errors}
    good = [r for r in rows if r.row not in bad and r.iccid]
    report = ImportReport(
        rows=count, imported=0, endpoints=0, errors=errors, dry_run=dry_run, file=shown,
        valid=len(good), partial=partial, endpoint_state=state.value if state else None,
    )
    if dry_run or (errors and not partial) or not good:
        return report
    filename = Path(path).name
    if len(good) > IMPORT_CHUNK:
        written = _import_as_job(actor, good, group_id, state, filename, shown)
    else:
        try:
            # A small import is one write transaction (well under IMPORT_CHUNK rows'
            # worth of lock time): all of the valid rows or none.
            written = retrying(lambda: _write(actor, good, group_id, state, filename))
        except pw.IntegrityError:
            raise Refused(_clash(shown)) from None
    report.imported = written
    report.endpoints = written if state is not None else 0
    return report


def _clash(shown: str) -> str:
    return (
        f"{shown}: some of these ICCIDs, IMSIs or EIDs were added by someone else while "
        "the file was being checked; nothing was imported. Run the import again to see "
        "which rows clash."
    )


# --- a large import: staged, then written in short transactions as a job ----------------

#: Rows written per transaction by a large import: at about 70 µs a row (SIM, IMSI,
#: endpoint, tags, audit and their indexes) a chunk holds the write lock ~0.3 s, under
#: the 0.5 s another operator may wait. An import of more rows runs as a job.
IMPORT_CHUNK = 4000
#: Rows staged per transaction (a table with only its primary key: ~2 µs a row).
STAGE_CHUNK = 20_000
#: The job's action name for an import.
IMPORT = "import"


def _import_as_job(
    actor: Actor, rows: list[_Row], group_id: int | None, state: State | None,
    filename: str, shown: str,
) -> int:
    """Stage the validated rows, then write them IMPORT_CHUNK per transaction.

    All or nothing, though no single transaction holds the whole import: the rows are
    staged first (``ImportRow``, short transactions; a crash here leaves nothing
    written, and resuming the job only clears the staging); each chunk then writes its
    SIMs, endpoints and audit (which carry the job's id) and moves the job's cursor in
    one transaction. A chunk that clashes with a row another operator added meanwhile
    undoes the chunks before it (``_undo``), so the import ends with all of its rows or
    none; a crash between chunks leaves an interrupted job that ``jobs resume``
    finishes. Other operators see the SIMs appear chunk by chunk while it runs.
    """
    params: dict[str, Any] = {
        "import": filename, "file": shown, "group_id": group_id,
        "state": state.value if state else None, **process_identity(),
        "token": uuid.uuid4().hex, "recording": True,
    }
    owner = json.dumps(params)
    job: Job = retrying(lambda: Job.create(
        action=IMPORT, actor=actor.name, params=owner, status=JobStatus.RECORDING,
        total=len(rows),
    ))
    fields = [ImportRow.job, ImportRow.row, ImportRow.iccid, ImportRow.eid, ImportRow.imsis,
              ImportRow.name, ImportRow.reference, ImportRow.tags]
    for part in pw.chunked(rows, STAGE_CHUNK):
        def stage(part: list[_Row] = part) -> None:
            insert_rows(ImportRow, fields, [
                (job.id, r.row, r.iccid, r.eid, " ".join(r.imsis), r.name, r.reference,
                 " ".join(r.tags)) for r in part])
            beat(job.id, owner)
        retrying(stage)
    params.pop("recording")
    staged = json.dumps(params)
    retrying(lambda: beat(job.id, owner, params=staged, status=JobStatus.RUNNING))
    return _apply_job(actor, job.id, staged, shown)


def _staged(job_id: int, after: int, limit: int) -> list[_Row]:
    q = (ImportRow.select().where((ImportRow.job == job_id) & (ImportRow.row > after))
         .order_by(ImportRow.row).limit(limit))
    return [_Row(r.row, r.iccid, r.imsis.split(), r.eid, r.name, r.reference, r.tags.split())
            for r in q]


def _apply_job(actor: Actor, job_id: int, owner: str, shown: str) -> int:
    """Write the staged rows after the job's cursor, a chunk per transaction; then the
    summary event and the job's end in one last short transaction."""
    params = json.loads(owner)
    state = State(params["state"]) if params.get("state") else None
    group_id, filename = params.get("group_id"), params["import"]
    with checkpointing() as checkpointer:
        _apply_chunks(actor, job_id, owner, shown, group_id, state, filename, checkpointer)
    total = Job.get_by_id(job_id).applied

    def finish() -> None:
        beat(job_id, owner, status=JobStatus.DONE, finished_at=models.utcnow())
        _summary_event(actor, filename, total, state, job_id)

    retrying(finish)
    _clear_staging(job_id)
    return int(total)


def _apply_chunks(
    actor: Actor, job_id: int, owner: str, shown: str, group_id: int | None,
    state: State | None, filename: str, checkpointer: Checkpointer,
) -> None:
    while True:
        job = Job.get_by_id(job_id)
        chunk = _staged(job_id, int(job.last_id), IMPORT_CHUNK)
        if not chunk:
            break

        def write(chunk: list[_Row] = chunk) -> None:
            beat(job_id, owner)
            _write(actor, chunk, group_id, state, filename, job_id=job_id, summary=False)
            Job.update(applied=Job.applied + len(chunk), last_id=chunk[-1].row).where(
                Job.id == job_id).execute()

        try:
            retrying(write)
        except pw.IntegrityError:
            _undo(job_id, owner, state)
            raise Refused(_clash(shown)) from None
        checkpointer.committed()
        time.sleep(CHUNK_GAP_S)


def _undo(job_id: int, owner: str, state: State | None) -> None:
    """Delete what the job's chunks wrote, newest first, a chunk per transaction; the job
    ends failed. Its audit events go too: the import, as a whole, never happened."""
    while True:
        job = Job.get_by_id(job_id)
        last = int(job.last_id)
        if last <= 0:
            break
        done = list(ImportRow.select(ImportRow.row, ImportRow.iccid)
                    .where((ImportRow.job == job_id) & (ImportRow.row <= last))
                    .order_by(ImportRow.row.desc()).limit(IMPORT_CHUNK).tuples())
        if not done:
            break
        rows, iccids = [r for r, _ in done], [i for _, i in done]

        def undo(rows: list[int] = rows, iccids: list[str] = iccids) -> None:
            beat(job_id, owner)
            sims = Sim.select(Sim.id).where(Sim.iccid.in_(iccids))
            endpoints = [e for (e,) in Sim.select(Sim.endpoint).where(
                Sim.iccid.in_(iccids) & Sim.endpoint.is_null(False)).tuples()]
            Imsi.delete().where(Imsi.sim.in_(sims)).execute()
            Sim.delete().where(Sim.iccid.in_(iccids)).execute()
            if endpoints:
                EndpointTag.delete().where(EndpointTag.endpoint.in_(endpoints)).execute()
                Endpoint.delete().where(Endpoint.id.in_(endpoints)).execute()
            AuditEvent.delete().where((AuditEvent.job == job_id)
                                      & AuditEvent.iccid.in_(iccids)).execute()
            Job.update(applied=Job.applied - len(rows), last_id=min(rows) - 1).where(
                Job.id == job_id).execute()

        retrying(undo)
    retrying(lambda: beat(
        job_id, owner, status=JobStatus.FAILED, finished_at=models.utcnow(), last_id=0,
        message="a row clashed with one added meanwhile: every row written was undone, "
                "nothing was imported",
    ))
    _clear_staging(job_id)


def _clear_staging(job_id: int) -> None:
    """Drop the job's staged rows, STAGE_CHUNK per transaction."""
    while True:
        rows = [r for (r,) in ImportRow.select(ImportRow.row).where(ImportRow.job == job_id)
                .order_by(ImportRow.row).limit(STAGE_CHUNK).tuples()]
        if not rows:
            return
        retrying(lambda rows=rows: ImportRow.delete().where(  # type: ignore[misc]
            (ImportRow.job == job_id) & (ImportRow.row <= rows[-1])).execute())


def carry_on_import(actor: Actor, job_id: int, owner: str) -> Result:
    """Finish an interrupted import job (``jobs.resume`` claimed it): write the staged
    rows after its cursor. One cut short while staging had written nothing: its staging
    is cleared and it ends failed, for the file to be imported again."""
    params = json.loads(owner)
    actor.require(Role.OPERATOR, "import SIMs")
    result = Result(IMPORT, job=job_id)
    if params.get("recording"):
        _clear_staging(job_id)
        message = (f"the import of {params.get('file')} was interrupted before any SIM was "
                   "written; nothing was imported: import the file again")
        retrying(lambda: beat(job_id, owner, status=JobStatus.FAILED,
                               finished_at=models.utcnow(), message=message))
        result.status, result.message = JobStatus.FAILED, message
        return result
    result.applied = _apply_job(actor, job_id, owner, str(params.get("file")))
    job = Job.get_by_id(job_id)
    result.total = int(job.total)
    return result


__all__ = ["ImportReport", "import_sims", "insert_rows", "stored_time"]
