"""What the corpus tests share: database snapshots, copies, running the CLI, xfail marks."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
from click.testing import CliRunner, Result

from simdeck.tui import cli
from tests.hostile.corpus import BUGS

T = TypeVar("T")

#: Tables whose every row goes into the digest (the rest by their row counts).
DIGESTED = ("endpoint", "sim", "imsi", "endpoint_tag", "endpoint_group", "operator", "setting",
            "job")


def snapshot(path: str | Path) -> dict[str, Any]:
    """Row counts of every table and a digest of the endpoint and SIM tables (and their kin)."""
    con = sqlite3.connect(str(path))
    try:
        tables = [name for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        digests = {}
        for table in DIGESTED:
            h = hashlib.sha256()
            for row in con.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                h.update(repr(row).encode())
            digests[table] = h.hexdigest()
    finally:
        con.close()
    return {"counts": counts, "digests": digests}


def copy_db(template: Path, target: Path) -> Path:
    """A private copy of a closed template database (its WAL, if any, too)."""
    shutil.copyfile(template, target)
    for suffix in ("-wal", "-shm"):
        extra = Path(str(template) + suffix)
        if extra.exists():
            shutil.copyfile(extra, Path(str(target) + suffix))
    return target


def run_cli(path: str | Path, argv: list[str], *, color: bool = False) -> Result:
    """``simdeck --db PATH argv…`` in process; stdin is not a terminal. ``color``: output
    as to a terminal (click then keeps escape sequences instead of stripping them)."""
    return CliRunner().invoke(cli.main, ["--db", str(path), *argv], color=color)


def _where(exc: BaseException) -> str:
    """Where an exception was raised: the innermost frame, as file:line in function."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


def crash(exc: BaseException, what: str) -> NoReturn:
    """Fail with the exception and where it came from, without pytest's long traceback
    (which, through peewee's source, takes seconds to render for every xfailed case)."""
    pytest.fail(f"{what} raised {exc!r} at {_where(exc)}", pytrace=False)


def call(fn: Callable[[], T], what: str) -> T:
    """``fn()``; an exception is reported by :func:`crash`."""
    try:
        return fn()
    except Exception as exc:
        crash(exc, what)


def assert_no_crash(result: Result) -> None:
    """No traceback and no exception other than the CLI's own exit."""
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crash(result.exception, "the command line")


def assert_printable(text: str) -> None:
    """No control character (a terminal escape, a NUL) in what is shown to the operator."""
    bad = sorted({f"U+{ord(c):04X}" for c in text if not c.isprintable() and c != "\n"})
    assert not bad, f"control characters {bad} in {text[:300]!r}"


def message_line(stderr: str) -> str:
    """The line that says what is wrong: ``simdeck: …`` or click's ``Error: …``."""
    lines = [line for line in stderr.splitlines()
             if line.startswith(("simdeck: ", "Error: "))]
    assert lines, f"no error message on stderr: {stderr!r}"
    return lines[-1]


#: Bugs found and not yet fixed: their cases are marked xfail(strict=True).
OPEN_BUGS: frozenset[str] = frozenset()


def marks(bug: str | None) -> list[Any]:
    """The strict xfail mark of a case whose bug is still open (none for the others)."""
    if bug is None or bug not in OPEN_BUGS:
        return []
    return [pytest.mark.xfail(strict=True, reason=BUGS[bug])]
