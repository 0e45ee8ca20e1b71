"""Exports and unlimited listings: one query, one cursor, rows formatted in bulk.

A whole-fleet export reads its rows from ONE query, with each SIM's IMSIs aggregated and
its EID joined in SQL, through a plain cursor (SQLite) or a server-side cursor
(PostgreSQL), a batch at a time: memory stays flat at any size. Each batch is turned
into CSV rows (every cell through :func:`simdeck.core.sanitize.csv_cell`), JSON objects
(one a line inside a streamed array) or JSON Lines, and written in one piece.

A :class:`Source` is what is exported: its SQL, its keys and the two conversions of a
raw row. ``endpoints``, ``audit``, ``sims`` and ``skipped`` make the sources of
``simdeck export`` / ``endpoints list``, ``audit``, ``sims list`` and ``jobs skipped``.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import os
import queue
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

import peewee as pw

from .db import database, is_sqlite
from .errors import InputError
from .lifecycle import READY_TO_ACTIVATE, STATES
from .models import AuditEvent, Endpoint, EndpointGroup, Imsi, JobItem, Sim
from .queries.audit import AuditFilter, _audit_where
from .queries.endpoints import SORT_COLUMNS, SORTS
from .queries.filters import Filter, _where
from .queries.sims import _sim_query
from .sanitize import csv_cell

#: The formats an export or a listing can be written in.
FORMATS = ("csv", "json", "jsonl")

#: Rows fetched from the cursor and formatted at a time.
BATCH = 2000

#: The interface.md keys of an endpoint, in order: the JSON object and the CSV columns.
ENDPOINT_KEYS = (
    "id", "iccid", "name", "state", "group", "tags", "reference", "imsis", "eid",
    "sim_status", "static_ip", "imei_lock", "activate_immediately", "last_activity",
)
AUDIT_KEYS = ("id", "at", "actor", "action", "endpoint_id", "iccid", "from_state",
              "to_state", "detail", "job")
SIM_KEYS = ("id", "iccid", "eid", "imsi", "status", "endpoint_id")
SKIPPED_KEYS = ("iccid", "reason")

Rows = list[tuple[Any, ...]]


@dataclass
class Source:
    """What an export reads: one query, its keys, and how a batch of raw rows becomes
    CSV rows (every cell through ``Cells``, hence ``csv_cell``) or JSON objects."""

    #: What a row is, in the plural: "endpoints", "audit events".
    noun: str
    keys: tuple[str, ...]
    query: pw.Select
    cells: Callable[[Rows, Cells], list[list[str]]]
    objects: Callable[[Rows], list[dict[str, Any]]]


# --- reading ---------------------------------------------------------------------------


def batches(source: Source, size: int | None = None) -> Iterator[Rows]:
    """The source's rows, ``size`` at a time, from one cursor over one query.

    SQLite: the driver's own cursor over the raw connection (no model rows). PostgreSQL:
    a server-side (named) cursor inside a read transaction, so the server holds the
    result and the client a batch or two.
    """
    size = size or BATCH
    sql, params = source.query.sql()
    if is_sqlite():
        cursor = database.execute_sql(sql, params)
        try:
            yield from _read_ahead(cursor, size)
        finally:
            cursor.close()
        return
    with database.atomic():
        named = database.connection().cursor(name="simdeck_export")
        try:
            named.itersize = size
            named.execute(sql, params)
            yield from _read_ahead(named, size)
        finally:
            named.close()


#: Batches read ahead of the one being formatted (memory: a few batches at most).
READ_AHEAD = 3


def _read_ahead(cursor: Any, size: int) -> Iterator[Rows]:
    """The cursor's rows, fetched by a thread of their own while the caller formats the
    batch before: the store's work (SQLite's steps, PostgreSQL's round trips, which let
    go of the interpreter lock) runs beside Python's formatting on a second core."""
    ready: queue.Queue[Rows | BaseException] = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                rows = cursor.fetchmany(size)
                ready.put(rows)
                if not rows:
                    return
        except BaseException as exc:  # handed to the caller, raised there
            ready.put(exc)

    reader = threading.Thread(target=read, name="simdeck-export-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # a reader blocked on a full queue needs room to stop
            with contextlib.suppress(queue.Empty):
                ready.get_nowait()
            reader.join(0.01)


# --- writing ---------------------------------------------------------------------------

# What json.dumps leaves as it is but a terminal would act on or a reader could not
# see: DEL and the C1 controls, line and paragraph separators, bidirectional overrides
# and isolates, the byte-order mark. Inside a JSON string each is written as \uXXXX.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_safe(text: str) -> str:
    """JSON text with every control character escaped (json.dumps escapes only C0)."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _JSON_UNSAFE.sub(_json_escape, text)


def _encoder(*, sort_keys: bool = False) -> Callable[[Any], str]:
    """One value as JSON text on one line, UTF-8 kept, keys in their order (or sorted):
    json.dumps(ensure_ascii=False) without building an encoder per call."""
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        return json.JSONEncoder(ensure_ascii=False, sort_keys=sort_keys, default=str).encode
    make = c_make_encoder(None, str, encode_basestring, None, ": ", ", ", sort_keys, False,
                          True)
    return lambda obj: "".join(make(obj, 0))


_sorted_json = _encoder(sort_keys=True)


class Cells:
    """``csv_cell`` for one export: ``cell(value)``, and for a column of few distinct
    values (a state, a group) ``column(name)[value]``, worked out once per value."""

    class _Column(dict[Any, str]):
        def __init__(self, cell: Callable[[Any], str],
                     convert: Callable[[Any], Any] | None) -> None:
            super().__init__()
            self.cell = cell
            self.convert = convert

        def __missing__(self, value: Any) -> str:
            if len(self) > 4096:
                self.clear()
            shown = self.convert(value) if self.convert is not None else value
            text = self[value] = self.cell(shown)
            return text

    def __init__(self, *, raw: bool = False) -> None:
        self.cell: Callable[[Any], str] = (
            csv_cell if not raw else lambda value: csv_cell(value, raw=True))
        self._columns: dict[str, Cells._Column] = {}

    def column(self, name: str,
               convert: Callable[[Any], Any] | None = None) -> dict[Any, str]:
        """The cells of the values of column ``name`` (each through ``convert`` first),
        filled as they are met."""
        found = self._columns.get(name)
        if found is None:
            found = self._columns[name] = Cells._Column(self.cell, convert)
        return found


def write(source: Source, fmt: str, emit: Callable[[str], Any], *, raw: bool = False,
          progress: Callable[[int], Any] | None = None) -> int:
    """Write every row of ``source`` as ``fmt`` through ``emit``, a batch per call.

    CSV: a header, then each row, every cell through ``csv_cell`` (``raw`` keeps cells
    exactly as stored). JSON: an array, one object a line. JSON Lines: one object a line.
    Returns the number of rows; ``progress`` is told the rows so far after each batch.
    """
    if fmt not in FORMATS:
        raise InputError(f"format {fmt}: use one of {', '.join(FORMATS)}")
    # The rows made here are short-lived: the collector need not walk what was loaded.
    gc.freeze()
    try:
        return _write(source, fmt, emit, raw=raw, progress=progress)
    finally:
        gc.unfreeze()


def _write(source: Source, fmt: str, emit: Callable[[str], Any], *, raw: bool,
           progress: Callable[[int], Any] | None) -> int:
    n = 0
    if fmt == "csv":
        cells = Cells(raw=raw)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([cells.cell(k) for k in source.keys])
        emit(buffer.getvalue())
        for rows in batches(source):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(source.cells(rows, cells))
            emit(buffer.getvalue())
            n += len(rows)
            if progress is not None:
                progress(n)
        return n
    encode = _encoder()
    array = fmt == "json"
    sep = ",\n" if array else "\n"
    for rows in batches(source):
        text = sep.join([encode(obj) for obj in source.objects(rows)])
        if array:
            text = ("[\n" if not n else ",\n") + text
        emit(json_safe(text) + ("" if array else "\n"))
        n += len(rows)
        if progress is not None:
            progress(n)
    if array:
        emit("\n]\n" if n else "[]\n")
    return n


def write_file(source: Source, fmt: str, target: Path, *, raw: bool = False,
               progress: Callable[[int], Any] | None = None) -> int:
    """Write ``source`` to ``target``: to a temporary file beside it, then renamed in place,
    so an interrupted export leaves no half-written file and an existing one untouched."""
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {target}: the folder {directory} does not exist")
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            n = write(source, fmt, fh.write, raw=raw, progress=progress)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def format_of(path: str, default: str = "csv") -> str:
    """The format a file name asks for: .json, .jsonl (or .ndjson), else ``default``."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    return default


# --- endpoints -------------------------------------------------------------------------

#: The SIM status of a linked endpoint, by its stored state (sim_status()).
_SIM_STATUS: dict[str, str] = {s.value: s.label for s in STATES}


def _imsis_column() -> Any:
    """A SIM's IMSIs in order, joined with ';', as one column of the outer query."""
    if is_sqlite():
        inner = (Imsi.select(Imsi.imsi).where(Imsi.sim == Sim.id)
                 .order_by(Imsi.position).alias("imsi_ordered"))
        return pw.Select([inner], [pw.fn.group_concat(inner.c.imsi, ";")])
    ordered = pw.NodeList((Imsi.imsi, pw.SQL(","), pw.Value(";"), pw.SQL("ORDER BY"),
                           Imsi.position))
    return Imsi.select(pw.fn.string_agg(ordered)).where(Imsi.sim == Sim.id)


def _iso_epoch(column: pw.Field) -> Any:
    """Epoch seconds as ISO 8601 UTC text (``iso()``), NULL for 0 (never)."""
    if is_sqlite():
        text = pw.fn.strftime("%Y-%m-%dT%H:%M:%SZ", column, "unixepoch")
    else:
        utc = pw.NodeList((pw.fn.to_timestamp(column), pw.SQL("AT TIME ZONE 'UTC'")))
        text = pw.fn.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    return pw.Case(None, [(column == 0, None)], text)


def _iso_time(column: pw.Field) -> Any:
    """A stored time as ISO 8601 UTC text to the second (``iso()``)."""
    if is_sqlite():
        return pw.fn.strftime("%Y-%m-%dT%H:%M:%SZ", column)
    return pw.fn.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')


def endpoint_query(f: Filter, sort: str = "iccid", limit: int = 0) -> pw.Select:
    """The one query of an endpoint export: the list's filter and order, every column of
    the interface.md object, the SIM's IMSIs and EID and the group's name joined."""
    if sort not in SORTS:
        raise InputError(f"sort {sort}: use one of {', '.join(SORTS)}")
    q = (
        Endpoint.select(
            Endpoint.id, Sim.iccid, Endpoint.name, Endpoint.state, EndpointGroup.name,
            Endpoint.tags, Endpoint.reference, _imsis_column(), Sim.eid, Sim.id,
            Endpoint.static_ip, Endpoint.imei_lock, Endpoint.activate_immediately,
            _iso_epoch(Endpoint.last_activity),
        )
        .join_from(Endpoint, Sim, pw.JOIN.LEFT_OUTER, on=(Sim.endpoint == Endpoint.id))
        .join_from(Endpoint, EndpointGroup, pw.JOIN.LEFT_OUTER,
                   on=(Endpoint.group == EndpointGroup.id))
    )
    q = _where(q, f)
    if sort == "group":
        name: Any = pw.fn.COALESCE(EndpointGroup.name, "")
        if not is_sqlite():
            name = pw.NodeList((name, pw.SQL('COLLATE "C"')))
        q = q.order_by(name, Endpoint.id)
    else:
        q = q.order_by(*SORT_COLUMNS[sort])
    return q.limit(limit) if limit else q


def _endpoint_cells(rows: Rows, cells: Cells) -> list[list[str]]:
    cell, status = cells.cell, _SIM_STATUS
    states, groups, tag_sets = cells.column("state"), cells.column("group"), cells.column("tags")
    statuses, flags = cells.column("sim_status"), cells.column("activate_immediately")
    ips, imeis = cells.column("static_ip"), cells.column("imei_lock")
    return [
        [cell(i), cell(iccid), cell(name), states[state], groups[group],
         tag_sets[";".join(tags.split())], cell(ref), cell(imsis), cell(eid),
         statuses[status.get(state, state) if sim is not None else None],
         ips[ip] if ip is None else cell(ip), imeis[imei] if imei is None else cell(imei),
         flags["true" if ai else "false"], cell(last)]
        for i, iccid, name, state, group, tags, ref, imsis, eid, sim, ip, imei, ai, last
        in rows
    ]


def _endpoint_objects(rows: Rows) -> list[dict[str, Any]]:
    status = _SIM_STATUS
    return [
        {"id": i, "iccid": iccid, "name": name, "state": state, "group": group,
         "tags": tags.split(), "reference": ref, "imsis": imsis.split(";") if imsis else [],
         "eid": eid, "sim_status": status.get(state, state) if sim is not None else None,
         "static_ip": ip, "imei_lock": imei, "activate_immediately": bool(ai),
         "last_activity": last}
        for i, iccid, name, state, group, tags, ref, imsis, eid, sim, ip, imei, ai, last
        in rows
    ]


def endpoints(f: Filter, sort: str = "iccid", limit: int = 0) -> Source:
    """The endpoints matching ``f`` in ``sort`` order (``limit`` 0: all), as interface.md
    objects: what ``endpoints list --format json`` prints and ``export`` writes."""
    return Source("endpoints", ENDPOINT_KEYS, endpoint_query(f, sort, limit),
                  _endpoint_cells, _endpoint_objects)


# --- audit -----------------------------------------------------------------------------


class _Details:
    """Stored audit details parsed once per distinct text (a bulk job repeats one)."""

    LIMIT = 4096

    def __init__(self) -> None:
        self.parsed: dict[str, Any] = {}

    def value(self, text: str | None) -> Any:
        if not text:
            return None
        found = self.parsed.get(text, self)
        if found is self:
            if len(self.parsed) > self.LIMIT:
                self.parsed.clear()
            try:
                found = json.loads(text)
            except ValueError:  # not written by simdeck: shown as the text it is
                found = text
            self.parsed[text] = found
        return found


def csv_value(value: Any) -> str:
    """A JSON value as one CSV cell: lists joined with ``;``, booleans as true/false,
    objects as sorted JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(csv_value(v) for v in value)
    if isinstance(value, dict):
        return _sorted_json(value)
    return str(value)


def audit(af: AuditFilter, limit: int = 0) -> Source:
    """Audit events matching ``af``, newest first (``limit`` 0: all)."""
    q = _audit_where(
        AuditEvent.select(AuditEvent.id, _iso_time(AuditEvent.at), AuditEvent.actor,
                          AuditEvent.action, AuditEvent.endpoint_id,
                          pw.fn.NULLIF(AuditEvent.iccid, ""), AuditEvent.from_state,
                          AuditEvent.to_state, AuditEvent.detail, AuditEvent.job),
        af,
    ).order_by(AuditEvent.id.desc())
    if limit:
        q = q.limit(limit)
    details = _Details()

    def cells(rows: Rows, cells: Cells) -> list[list[str]]:
        cell = cells.cell
        actors, actions = cells.column("actor"), cells.column("action")
        states, jobs = cells.column("state"), cells.column("job")
        shown = cells.column("detail", lambda text: csv_value(details.value(text)))
        return [[cell(i), cell(at), actors[actor], actions[action], cell(ep), cell(iccid),
                 states[a], states[b], shown[d], jobs[job]]
                for i, at, actor, action, ep, iccid, a, b, d, job in rows]

    def objects(rows: Rows) -> list[dict[str, Any]]:
        value = details.value
        return [{"id": i, "at": at, "actor": actor, "action": action, "endpoint_id": ep,
                 "iccid": iccid, "from_state": a, "to_state": b, "detail": value(d),
                 "job": job}
                for i, at, actor, action, ep, iccid, a, b, d, job in rows]

    return Source("audit events", AUDIT_KEYS, q, cells, objects)


# --- SIMs ------------------------------------------------------------------------------


def sims(*, status: str | None = None, search: str = "", limit: int = 0) -> Source:
    """The SIM inventory by ICCID, filtered as ``sims list`` filters it (``limit`` 0: all)."""
    q, key = _sim_query(ready_only=False, search=search, status=status)
    first = (Imsi.select(Imsi.imsi).where(Imsi.sim == Sim.id)
             .order_by(Imsi.position).limit(1))
    q = q.select(Sim.id, Sim.iccid, Sim.eid, first, Sim.endpoint, Endpoint.state)
    q = q.order_by(key.asc())
    if limit:
        q = q.limit(limit)
    labels = _SIM_STATUS

    def objects(rows: Rows) -> list[dict[str, Any]]:
        return [{"id": i, "iccid": iccid, "eid": eid, "imsi": imsi or None,
                 "status": labels.get(state, state) if ep is not None else READY_TO_ACTIVATE,
                 "endpoint_id": ep}
                for i, iccid, eid, imsi, ep, state in rows]

    def cells(rows: Rows, cells: Cells) -> list[list[str]]:
        cell, statuses = cells.cell, cells.column("status")
        return [[cell(i), cell(iccid), cell(eid), cell(imsi),
                 statuses[labels.get(state, state) if ep is not None else READY_TO_ACTIVATE],
                 cell(ep)]
                for i, iccid, eid, imsi, ep, state in rows]

    return Source("SIMs", SIM_KEYS, q, cells, objects)


# --- a job's skipped endpoints ---------------------------------------------------------


def skipped(job_id: int) -> Source:
    """(ICCID, reason) of every endpoint a job skipped, by endpoint id."""
    from .actions import APPLIED

    q = (
        JobItem.select(JobItem.iccid, JobItem.outcome, JobItem.endpoint_id)
        .where((JobItem.job == job_id) & JobItem.outcome.is_null(False)
               & (JobItem.outcome != APPLIED))
        .order_by(JobItem.endpoint_id)
    )

    def objects(rows: Rows) -> list[dict[str, Any]]:
        return [{"iccid": iccid or f"endpoint {ep}", "reason": why} for iccid, why, ep in rows]

    def cells(rows: Rows, cells: Cells) -> list[list[str]]:
        cell, reasons = cells.cell, cells.column("reason")
        return [[cell(iccid or f"endpoint {ep}"), reasons[why]] for iccid, why, ep in rows]

    return Source("skipped endpoints", SKIPPED_KEYS, q, cells, objects)
