"""How the command line prints: aligned tables, CSV, JSON, key/values, detail views.

Every command prints through here. Nothing here reads the database; the command
functions hand over plain values. The words themselves come from :mod:`simdeck.tui.text`.

This is the command line's output edge: every value printed here may have come from
storage or input, so it passes :func:`~simdeck.core.sanitize.printable` (control
characters shown as escapes), JSON through :func:`~simdeck.core.sanitize.json_text`,
and every CSV cell through :func:`~simdeck.core.sanitize.csv_cell` (formulas quoted
unless ``--raw-csv``).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import click

from simdeck.core.export import csv_value
from simdeck.core.lifecycle import State
from simdeck.core.sanitize import csv_cell, json_text, printable
from simdeck.tui.text import ago, change, detail_text, parse_iso, state_label

FORMATS = ("table", "csv", "json")
#: The formats of a long list streamed from core's exports.
STREAM_FORMATS = ("table", "csv", "json", "jsonl")

#: Rows fetched per query when a command streams a long list.
STREAM_PAGE = 500

#: The interface.md keys of an endpoint, in order: the JSON object and the CSV columns.
ENDPOINT_KEYS = (
    "id", "iccid", "name", "state", "group", "tags", "reference", "imsis", "eid",
    "sim_status", "static_ip", "imei_lock", "activate_immediately", "last_activity",
)

#: Colours for a terminal only; the state is always written in words as well.
STATE_COLOURS: dict[str, dict[str, Any]] = {
    State.HOLD.value: {"dim": True},
    State.PENDING.value: {"fg": "yellow"},
    State.PRE_ACTIVE.value: {"fg": "blue"},
    State.ACTIVE.value: {"fg": "green"},
    State.IDLE.value: {"fg": "cyan"},
    State.DETACHED.value: {"fg": "yellow", "bold": True},
    State.SUSPENDED.value: {"fg": "magenta"},
    State.TERMINATED.value: {"fg": "red"},
}


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def widths(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], start: Sequence[int] = ()
) -> list[int]:
    """The width of each column: the longest of its header, its cells and ``start``."""
    out = [max(len(h), start[i] if i < len(start) else 0) for i, h in enumerate(headers)]
    for row in rows:
        for i, value in enumerate(row):
            out[i] = max(out[i], len(_cell(value)))
    return out


def _cell(value: Any) -> str:
    return printable(value)


def header_line(headers: Sequence[str], col_widths: Sequence[int]) -> str:
    """The header of a table."""
    return "  ".join(h.ljust(w) for h, w in zip(headers, col_widths, strict=True)).rstrip()


def row_lines(
    rows: Sequence[Sequence[Any]],
    col_widths: Sequence[int],
    styles: Sequence[Sequence[dict[str, Any] | None] | None] | None = None,
) -> list[str]:
    """Rows as aligned lines; ``styles`` colour cells (click strips colour off a terminal)."""
    out = []
    for n, row in enumerate(rows):
        row_styles = styles[n] if styles else None
        parts = []
        for i, value in enumerate(row):
            padded = _cell(value).ljust(col_widths[i])
            style = row_styles[i] if row_styles else None
            parts.append(click.style(padded, **style) if style else padded)
        out.append("  ".join(parts).rstrip())
    return out


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    styles: Sequence[Sequence[dict[str, Any] | None] | None] | None = None,
) -> list[str]:
    """Rows as lines of aligned plain text columns, under a header."""
    cells = list(rows)
    col_widths = widths(headers, cells)
    return [header_line(headers, col_widths)] + row_lines(cells, col_widths, styles)


def echo(text: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """Print a line (on stderr with ``err``), its control characters shown as escapes."""
    click.echo(printable(text, multiline=True), err=err, nl=nl)


def echo_lines(lines: Iterable[str], *, err: bool = False, styled: bool = False) -> None:
    """Print each line (on stderr with ``err``). ``styled``: lines of :func:`row_lines`,
    whose cells are already printable and whose colours must stay escape sequences."""
    for line in lines:
        click.echo(line if styled else printable(line, multiline=True), err=err)


def dumps(obj: Any) -> str:
    """JSON as printed: indented, UTF-8 kept, keys in the order given; control
    characters escaped (``\\u001b``), so no string acts on the terminal."""
    return json_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def echo_json(obj: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(dumps(obj))


class _Echo:
    """A file-like object over click.echo, so csv writes go where click's output goes.

    ``exact``: written as it is (``--raw-csv``), where click would strip what looks like a
    colour code from output that is not a terminal."""

    def __init__(self, exact: bool = False) -> None:
        self.exact = exact

    def write(self, text: str) -> int:
        click.echo(text, nl=False, color=True if self.exact else None)
        return len(text)


def csv_writer(target: Any = None, *, exact: bool = False) -> Any:
    """A csv.writer on ``target`` (stdout when None), with plain ``\\n`` line ends."""
    return csv.writer(target if target is not None else _Echo(exact), lineterminator="\n")


#: The key in ``click.Context.meta`` that ``--raw-csv`` sets.
RAW_CSV = "simdeck.raw_csv"


def raw_csv() -> bool:
    """True when this command was given ``--raw-csv``: CSV cells exactly as stored."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(RAW_CSV))


def safe_cell(value: Any, *, raw: bool = False) -> str:
    """A JSON value as a CSV cell as written: control characters shown as escapes and a
    leading formula character quoted; ``raw`` (``--raw-csv``) keeps the exact value."""
    return csv_cell(csv_value(value), raw=raw)


def csv_rows(keys: Sequence[str], objects: Iterable[dict[str, Any]], *,
             raw: bool | None = None) -> Iterator[list[str]]:
    """One CSV row of ``keys`` per object; ``raw`` None: as ``--raw-csv`` says."""
    raw = raw_csv() if raw is None else raw
    for obj in objects:
        yield [safe_cell(obj.get(k), raw=raw) for k in keys]


def echo_csv(keys: Sequence[str], objects: Iterable[dict[str, Any]], *,
             raw: bool | None = None) -> int:
    """Print a header and one row per object on stdout; returns the number of rows."""
    raw = raw_csv() if raw is None else raw
    writer = csv_writer(exact=raw)
    writer.writerow(keys)
    n = 0
    for row in csv_rows(keys, objects, raw=raw):
        writer.writerow(row)
        n += 1
    return n


def key_values(pairs: Sequence[tuple[str, Any]], indent: str = "  ") -> list[str]:
    """``label  value`` lines, labels aligned."""
    width = max((len(k) for k, _ in pairs), default=0)
    return [f"{indent}{k.ljust(width)}  {'—' if v in (None, '', []) else printable(v)}"
            for k, v in pairs]


def endpoint_detail(obj: dict[str, Any]) -> list[str]:
    """An endpoint's full JSON object (``to_json(full=True)``) as the lines of ``show``."""
    last = obj.get("last_activity")
    pairs: list[tuple[str, Any]] = [
        ("ICCID", obj.get("iccid")),
        ("Name", obj.get("name")),
        ("State", state_label(obj.get("state"))),
        ("Group", obj.get("group")),
        ("Tags", ", ".join(obj.get("tags") or [])),
        ("Reference", obj.get("reference")),
        ("IMSIs", ", ".join(obj.get("imsis") or [])),
        ("EID", obj.get("eid")),
        ("SIM status", obj.get("sim_status")),
        ("Static IP", obj.get("static_ip")),
        ("IMEI lock", obj.get("imei_lock")),
        ("Activate immediately", "yes" if obj.get("activate_immediately") else "no"),
        ("Last activity", f"{ago(parse_iso(last), time.time())} ({last})" if last else "never"),
    ]
    for key, label in (("created_at", "Created"), ("updated_at", "Updated"),
                       ("terminated_at", "Terminated")):
        if obj.get(key):
            pairs.append((label, obj[key]))
    if obj.get("state_before_termination"):
        pairs.append(("State before termination", state_label(obj["state_before_termination"])))
    out = [f"Endpoint {obj['id']}"] + key_values(pairs)
    config = obj.get("group_config")
    if config:
        out += ["", f"Group {config.get('name')}"] + key_values([
            ("Description", config.get("description")),
            ("APN", config.get("apn")),
            ("IP pool", config.get("ip_pool")),
        ])
    history = obj.get("history")
    if history:
        out += ["", "History (latest first)"]
        out += ["  " + line for line in audit_table(history)]
    return out


def audit_table(events: Sequence[dict[str, Any]]) -> list[str]:
    """Audit events as table lines."""
    return table(
        ("AT", "ACTOR", "ACTION", "ENDPOINT", "ICCID", "CHANGE", "DETAIL"),
        [
            (
                e.get("at") or "",
                e.get("actor") or "",
                e.get("action") or "",
                e.get("endpoint_id") if e.get("endpoint_id") is not None else "",
                e.get("iccid") or "",
                change(e.get("from_state"), e.get("to_state")),
                clip(detail_text(e.get("detail")), 60),
            )
            for e in events
        ],
    )


def stream_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str) -> int:
    """A long table printed page by page, widths taken from the first page."""
    col_widths: list[int] = []
    n = 0
    batch: list[Sequence[Any]] = []

    def flush() -> None:
        nonlocal col_widths
        if not col_widths:
            col_widths = widths(headers, batch)
            click.echo(header_line(headers, col_widths))
        col_widths = widths(headers, batch, col_widths)
        echo_lines(row_lines(batch, col_widths))
        batch.clear()

    for row in rows:
        batch.append(row)
        n += 1
        if len(batch) >= STREAM_PAGE:
            flush()
    if batch:
        flush()
    if not n:
        click.echo(empty, err=True)
    return n


def print_report(obj: dict[str, Any], lines: list[str], fmt: str, *, ok: bool) -> None:
    """An import or ingest report: JSON or the summary on stdout, problems on stderr.

    Exits 2 (invalid input) unless every row was accepted.
    """
    if fmt == "table":
        echo_lines(lines[:1])
        echo_lines(lines[1:], err=True)
    else:
        if fmt == "json":
            echo_json(obj)
        else:
            echo_csv(list(obj), [obj])
        if not ok:
            echo_lines(lines, err=True)
    if not ok:
        raise click.exceptions.Exit(2)
