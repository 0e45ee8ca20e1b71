"""Exports and unlimited listings: one query, one cursor, rows formatted in bulk.

A whole-fleet export reads its rows from ONE query, with each SIM's IMSIs aggregated and
its EID joined in SQL, through a plain cursor (SQLite) or a server-side cursor
(PostgreSQL), a batch at a time: memory stays flat at any size. Each batch is turned
into CSV rows (every cell through :func:`simdeck.core.sanitize.csv_cell`, the rows joined
as ``csv.writer`` would write them), JSON objects (one a line inside a streamed array,
each filled from a template with its values' JSON text) or JSON Lines, and written in
one piece.

A :class:`Source` is what is exported: its SQL and, for each column of a row, how its
raw value becomes a CSV cell and a JSON value. A batch is converted column by column
(``map`` over a column; a column of few distinct values converted once per value): no
loop of ours runs per row, and the only Python called per CSV cell is ``csv_cell`` (and
the quoting, in a batch's column that holds a comma, a quote or a line break).
``endpoints``, ``audit``, ``sims`` and ``skipped`` are the sources of ``simdeck export``
and ``endpoints list``, ``audit``, ``sims list`` and ``jobs skipped``.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
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
from .sanitize import csv_cell, json_text

#: The formats an export or a listing can be written in.
FORMATS = ("csv", "json", "jsonl")

#: Rows fetched from the cursor and formatted at a time.
BATCH = 2000

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Column:
    """One column of an export: where its value is in the raw row, and how it is shown."""

    key: str
    #: Its position in the query's row.
    index: int
    #: Few distinct values (a state, a group): each converted once, then looked up.
    few: bool = False
    #: The raw value as a CSV cell's text, before ``csv_cell`` (default: as it is).
    to_csv: Callable[[Any], Any] | None = None
    #: The raw value as a JSON value (default: as it is).
    to_json: Callable[[Any], Any] | None = None
    #: The raw value straight to its JSON text, where that is quicker than ``to_json``.
    json_text: Callable[[Any], str] | None = None


@dataclass
class Source:
    """What an export reads: one query, and the columns of the object each row becomes."""

    #: What a row is, in the plural: "endpoints", "audit events".
    noun: str
    query: pw.Select
    columns: tuple[Column, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


# --- reading ---------------------------------------------------------------------------


def batches(source: Source, size: int | None = None) -> Iterator[Rows]:
    """The source's rows, ``size`` at a time, from one cursor over one query.

    SQLite: the driver's own cursor over the raw connection (no model rows), read by the
    caller between batches: the driver lets go of the interpreter lock for each row's
    step and takes it back, so a reader thread beside the formatting would wait for the
    lock at every row (measured: more CPU and no less time). PostgreSQL: a server-side
    (named) cursor inside a read transaction, so the server holds the result and the
    client a batch or two, fetched ahead by a thread while the server works.
    """
    size = size or BATCH
    sql, params = source.query.sql()
    if is_sqlite():
        cursor = database.execute_sql(sql, params)
        try:
            while rows := cursor.fetchmany(size):
                yield rows
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
    batch before: the server's work and the round trips (which let go of the interpreter
    lock) run beside Python's formatting."""
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

def json_safe(text: str) -> str:
    """JSON text with every control character escaped (``sanitize.json_text``); most
    batches hold none, which ``isascii`` tells at once."""
    if text.isascii() and "\x7f" not in text:
        return text
    return json_text(text)


def _encoder(*, sort_keys: bool = False) -> Callable[[Any], str]:
    """A value as JSON text on one line, UTF-8 kept, keys in their order (or sorted):
    json.dumps(ensure_ascii=False) without building an encoder per call."""
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        return json.JSONEncoder(ensure_ascii=False, sort_keys=sort_keys, default=str).encode
    make = c_make_encoder(None, str, encode_basestring, None, ": ", ", ", sort_keys, False,
                          True)
    return lambda obj: "".join(make(obj, 0))


_json = _encoder()
#: A string as JSON text (quoted, escaped), as the encoder writes it.
_string: Callable[[str], str] = encode_basestring
_sorted_json = _encoder(sort_keys=True)


def _json_value(value: Any) -> str:
    """One value as JSON text, as the encoder writes it inside an object."""
    if value is None:
        return "null"
    if value.__class__ is str:
        return _string(value)
    return _json(value)


def _json_column(values: Sequence[Any]) -> list[str]:
    """A column of scalars as JSON texts: a column of text alone (or of whole numbers
    alone) in one call, of text and nothing in one loop, any other value by value."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return list(map(_string, values))
    if kinds == _TEXT_OR_NOTHING:
        string = _string
        return [string(v) if v is not None else "null" for v in values]
    if kinds == {int}:
        return list(map(int.__repr__, values))
    return list(map(_json_value, values))


_TEXT_OR_NOTHING = {str, type(None)}


class _Memo(dict[Any, Any]):
    """A value's conversion, worked out the first time the value is met."""

    LIMIT = 4096

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, value: Any) -> Any:
        if len(self) >= self.LIMIT:
            self.clear()
        found = self[value] = self.convert(value)
        return found


class _Converter:
    """The conversions of one export: each column's, and memos of the few-valued ones.

    A batch is converted a column at a time into text: CSV cells (each through
    ``csv_cell``) or JSON values (each as the encoder writes it), then the row's texts
    are put together in one step per row (``",".join``, or the object's template).
    """

    def __init__(self, source: Source, *, raw: bool) -> None:
        self.cell: Callable[[Any], str] = (
            csv_cell if not raw else lambda value: csv_cell(value, raw=True))
        self.csv: list[Callable[[Any], str]] = []
        self.json: list[Callable[[Sequence[Any]], list[str]]] = []
        for c in source.columns:
            shown = self.cell if c.to_csv is None else self._then_cell(c.to_csv)
            if c.json_text is not None:
                as_json: Callable[[Any], str] = c.json_text
            elif c.to_json is not None:
                as_json = self._then_json(c.to_json)
            else:
                as_json = _json_value
            if c.few:
                self.csv.append(_Memo(shown).__getitem__)
                self.json.append(self._each(_Memo(as_json).__getitem__))
            else:
                self.csv.append(shown)
                self.json.append(_json_column if as_json is _json_value
                                 else self._each(as_json))
        self.indexes = [c.index for c in source.columns]
        # The object with a %s for each value: keys and separators as json.dumps writes them.
        self.template = "{" + ", ".join(
            _json(c.key).replace("%", "%%") + ": %s" for c in source.columns) + "}"

    def _then_cell(self, convert: Callable[[Any], Any]) -> Callable[[Any], str]:
        cell = self.cell
        return lambda value: cell(convert(value))

    @staticmethod
    def _then_json(convert: Callable[[Any], Any]) -> Callable[[Any], str]:
        return lambda value: _json_value(convert(value))

    @staticmethod
    def _each(convert: Callable[[Any], str]) -> Callable[[Sequence[Any]], list[str]]:
        return lambda values: list(map(convert, values))

    def cells(self, rows: Rows) -> list[list[str]]:
        """The batch's CSV cells, a column at a time, every cell through ``csv_cell``."""
        raw = list(zip(*rows, strict=True))
        return [list(map(fn, raw[i])) for i, fn in zip(self.indexes, self.csv, strict=True)]

    def objects(self, rows: Rows) -> list[str]:
        """The batch's JSON objects, each as one line of text."""
        raw = list(zip(*rows, strict=True))
        out = [fn(raw[i]) for i, fn in zip(self.indexes, self.json, strict=True)]
        return list(map(self.template.__mod__, zip(*out, strict=True)))


def _csv_quoted(cell: str) -> str:
    """A cell as ``csv.writer`` writes it: in quotes, its quotes doubled, when it holds a
    comma, a quote or a line break."""
    if '"' in cell or "," in cell or "\n" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _csv_text(columns: list[list[str]], buffer: io.StringIO, writer: Any) -> str:
    """The rows of a batch's cells as CSV text, exactly as ``csv.writer`` writes them.

    Only a cell holding a comma, a quote or a line break is quoted: a column whose cells
    hold none (nearly every column: ``csv_cell`` shows line breaks as escapes) is joined as
    it is, the others quoted cell by cell. A carriage return (``--raw-csv``), which not
    every Python's writer quotes, and a row of one cell are left to the writer.
    """
    if len(columns) > 1:
        shown: list[list[str]] = []
        for column in columns:
            text = "".join(column)
            if "\r" in text:
                break
            if '"' in text or "," in text or "\n" in text:
                column = list(map(_csv_quoted, column))
            shown.append(column)
        else:
            return "\n".join(map(",".join, zip(*shown, strict=True))) + "\n"
    buffer.seek(0)
    buffer.truncate()
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


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
        return _write(source, fmt, emit, _Converter(source, raw=raw), progress)
    finally:
        gc.unfreeze()


def _write(source: Source, fmt: str, emit: Callable[[str], Any], convert: _Converter,
           progress: Callable[[int], Any] | None) -> int:
    n = 0
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([convert.cell(k) for k in source.keys])
        emit(buffer.getvalue())
        for rows in batches(source):
            emit(_csv_text(convert.cells(rows), buffer, writer))
            n += len(rows)
            if progress is not None:
                progress(n)
        return n
    array = fmt == "json"
    sep = ",\n" if array else "\n"
    for rows in batches(source):
        text = sep.join(convert.objects(rows))
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

#: A linked endpoint's SIM status, by its stored state (``sim_status()``).
_SIM_STATUS: dict[str, str] = {s.value: s.label for s in STATES}


def _sim_status(state: str | None) -> str | None:
    return None if state is None else _SIM_STATUS.get(state, state)


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
    linked_state = pw.Case(None, [(Sim.id.is_null(False), Endpoint.state)], None)
    q = (
        Endpoint.select(
            Endpoint.id, Sim.iccid, Endpoint.name, Endpoint.state, EndpointGroup.name,
            Endpoint.tags, Endpoint.reference, _imsis_column(), Sim.eid, linked_state,
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


def _tags_cell(tags: str) -> str:
    return ";".join(tags.split())


def _imsi_list(imsis: str | None) -> list[str]:
    return imsis.split(";") if imsis else []


def _imsi_list_json(imsis: str | None) -> str:
    """``_imsi_list`` as JSON text: the joined IMSIs escaped as one string (``;`` is never
    escaped), then cut at each ``;`` into the list's strings."""
    if not imsis:
        return "[]"
    return "[" + _string(imsis).replace(";", '", "') + "]"


def _flag_cell(value: Any) -> str:
    return "true" if value else "false"


ENDPOINT_COLUMNS = (
    Column("id", 0),
    Column("iccid", 1),
    Column("name", 2),
    Column("state", 3, few=True),
    Column("group", 4, few=True),
    Column("tags", 5, few=True, to_csv=_tags_cell, to_json=str.split),
    Column("reference", 6),
    Column("imsis", 7, to_json=_imsi_list, json_text=_imsi_list_json),
    Column("eid", 8),
    Column("sim_status", 9, few=True, to_csv=_sim_status, to_json=_sim_status),
    Column("static_ip", 10, few=True),
    Column("imei_lock", 11, few=True),
    Column("activate_immediately", 12, few=True, to_csv=_flag_cell, to_json=bool),
    Column("last_activity", 13),
)

#: The interface.md keys of an endpoint, in order: the JSON object and the CSV columns.
ENDPOINT_KEYS = tuple(c.key for c in ENDPOINT_COLUMNS)


def endpoints(f: Filter, sort: str = "iccid", limit: int = 0) -> Source:
    """The endpoints matching ``f`` in ``sort`` order (``limit`` 0: all), as interface.md
    objects: what ``endpoints list --format json`` prints and ``export`` writes."""
    return Source("endpoints", endpoint_query(f, sort, limit), ENDPOINT_COLUMNS)


# --- audit -----------------------------------------------------------------------------


#: The JSON decoder's own scanner: one value from a position, and where it ended.
_scan_json: Callable[[str, int], tuple[Any, int]] = (
    json.JSONDecoder().scan_once)  # type: ignore[attr-defined]


def _detail(text: str | None) -> Any:
    """A stored audit detail as its JSON value; text that is not JSON stays text."""
    if not text:
        return None
    if text[0] == "{" and text[-1] == "}":
        # Nearly every detail: an object with nothing around it, read by the scanner
        # json.loads calls, without the calls around it; anything else goes to json.loads.
        try:
            value, end = _scan_json(text, 0)
        except (StopIteration, ValueError):
            pass
        else:
            if end == len(text):
                return value
    try:
        return json.loads(text)
    except ValueError:
        return text


def _detail_cell(text: str | None) -> str:
    value = _detail(text)
    return _sorted_json(value) if value.__class__ is dict else csv_value(value)


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


AUDIT_COLUMNS = (
    Column("id", 0),
    Column("at", 1),
    Column("actor", 2, few=True),
    Column("action", 3, few=True),
    Column("endpoint_id", 4),
    Column("iccid", 5),
    Column("from_state", 6, few=True),
    Column("to_state", 7, few=True),
    # A bulk job writes one detail for all its events.
    Column("detail", 8, few=True, to_csv=_detail_cell, to_json=_detail),
    Column("job", 9, few=True),
)
AUDIT_KEYS = tuple(c.key for c in AUDIT_COLUMNS)


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
    return Source("audit events", q, AUDIT_COLUMNS)


# --- SIMs ------------------------------------------------------------------------------


def _inventory_status(state: str | None) -> str:
    return READY_TO_ACTIVATE if state is None else _SIM_STATUS.get(state, state)


SIM_COLUMNS = (
    Column("id", 0),
    Column("iccid", 1),
    Column("eid", 2),
    Column("imsi", 3),
    Column("status", 4, few=True, to_csv=_inventory_status, to_json=_inventory_status),
    Column("endpoint_id", 5),
)
SIM_KEYS = tuple(c.key for c in SIM_COLUMNS)


def sims(*, status: str | None = None, search: str = "", limit: int = 0) -> Source:
    """The SIM inventory by ICCID, filtered as ``sims list`` filters it (``limit`` 0: all)."""
    q, key = _sim_query(ready_only=False, search=search, status=status)
    first = (Imsi.select(Imsi.imsi).where(Imsi.sim == Sim.id)
             .order_by(Imsi.position).limit(1))
    linked_state = pw.Case(None, [(Sim.endpoint.is_null(False), Endpoint.state)], None)
    q = q.select(Sim.id, Sim.iccid, Sim.eid, first, linked_state, Sim.endpoint)
    q = q.order_by(key.asc())
    if limit:
        q = q.limit(limit)
    return Source("SIMs", q, SIM_COLUMNS)


# --- a job's skipped endpoints ---------------------------------------------------------

SKIPPED_COLUMNS = (Column("iccid", 0), Column("reason", 1, few=True))
SKIPPED_KEYS = tuple(c.key for c in SKIPPED_COLUMNS)


def skipped(job_id: int) -> Source:
    """(ICCID, reason) of every endpoint a job skipped, by endpoint id."""
    from .actions import APPLIED

    # An endpoint without a SIM had no ICCID: it is named by its id.
    by_id = pw.NodeList((pw.SQL("'endpoint '"), pw.SQL("||"),
                         pw.Cast(JobItem.endpoint_id, "TEXT")))
    shown = pw.fn.COALESCE(pw.fn.NULLIF(JobItem.iccid, ""), by_id)
    q = (
        JobItem.select(shown, JobItem.outcome)
        .where((JobItem.job == job_id) & JobItem.outcome.is_null(False)
               & (JobItem.outcome != APPLIED))
        .order_by(JobItem.endpoint_id)
    )
    return Source("skipped endpoints", q, SKIPPED_COLUMNS)
