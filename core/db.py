"""Opening the store: SQLite by default, PostgreSQL by URL, one proxy for every model.

SQLite is set up for several operators on one host: WAL, a busy timeout, write
transactions begun IMMEDIATE so two writers never deadlock on a lock upgrade.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import peewee
import platformdirs
from playhouse.db_url import connect as connect_url

from .errors import Busy, InputError, PermissionDenied

database = peewee.DatabaseProxy()

BUSY_TIMEOUT_MS = 5000
#: How often a write that found the database locked is tried again before giving up.
BUSY_RETRIES = 3
BUSY_MESSAGE = (
    "the database is busy: another operator's change or bulk job is holding it; "
    "nothing was changed, try again in a moment"
)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": BUSY_TIMEOUT_MS,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -32000,
    "temp_store": "memory",
}

T = TypeVar("T")


def default_url() -> str:
    """The database used when neither --db nor SIMDECK_DB names one."""
    return str(platformdirs.user_data_path("simdeck") / "simdeck.db")


def is_postgres(url: str) -> bool:
    """True when ``url`` names a PostgreSQL database."""
    return url.startswith(("postgres://", "postgresql://", "postgresql+", "psycopg"))


def sqlite_path(url: str) -> Path:
    """The file a SQLite URL or plain path points at."""
    if url.startswith("sqlite:"):
        parsed = urlparse(url)
        return Path(parsed.netloc + parsed.path if parsed.netloc else parsed.path)
    return Path(url).expanduser()


def describe(url: str) -> str:
    """The database as shown to the operator, without a password."""
    if is_postgres(url):
        parsed = urlparse(url)
        host = parsed.hostname or "localhost"
        return f"postgresql://{host}{':' + str(parsed.port) if parsed.port else ''}{parsed.path}"
    return str(sqlite_path(url))


def open_database(url: str | None = None, *, read_only: bool = False) -> peewee.Database:
    """Open the database at ``url`` (a SQLite path or URL, or postgresql://) and bind it."""
    url = url or os.environ.get("SIMDECK_DB") or default_url()
    db: peewee.Database
    if is_postgres(url):
        scheme, rest = url.split("://", 1)
        db = connect_url("psycopg3://" + rest)
        if read_only:
            db.connect_params.setdefault("options", "-c default_transaction_read_only=on")
    else:
        path = sqlite_path(url)
        if read_only:
            if not path.exists():
                raise InputError(f"database {path} does not exist")
            db = peewee.SqliteDatabase(
                f"file:{path}?mode=ro",
                uri=True,
                pragmas={"busy_timeout": BUSY_TIMEOUT_MS, "query_only": 1},
                check_same_thread=False,
            )
        else:
            _create_private(path)
            db = peewee.SqliteDatabase(
                str(path), pragmas=SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:
        raise InputError(f"cannot open the database {describe(url)}: {exc}") from None
    except (peewee.InterfaceError, peewee.DatabaseError) as exc:
        raise InputError(f"cannot open the database {describe(url)}: {exc}") from None
    return db


def _create_private(path: Path) -> None:
    """Create the file readable by its owner only, so other users of a shared host cannot."""
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise InputError(f"cannot create the database {path}: {exc.strerror}") from None


def bound(values: list[int]) -> peewee.SQL:
    """``(?, ?, …)`` with the values bound: an IN list that costs one node, not one per value."""
    marks = ", ".join([database.param] * len(values)) if values else "NULL"
    return peewee.SQL(f"({marks})", list(values))


def is_sqlite() -> bool:
    """True when the bound database is SQLite."""
    return isinstance(database.obj, peewee.SqliteDatabase)


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "lock timeout" in text


def _is_read_only(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "read only" in text


@contextmanager
def write_tx() -> Iterator[None]:
    """One write transaction: IMMEDIATE on SQLite so the write lock is taken up front."""
    if database.transaction_depth() > 0:
        with database.atomic():
            yield
        return
    if is_sqlite():
        with database.atomic("IMMEDIATE"):
            yield
    else:
        with database.atomic():
            yield


def retrying(fn: Callable[[], T]) -> T:
    """Run the write ``fn`` in ``write_tx``, retrying a busy database, then saying so in words."""
    for attempt in range(BUSY_RETRIES):
        try:
            with write_tx():
                return fn()
        except (peewee.OperationalError, sqlite3.OperationalError) as exc:
            if _is_read_only(exc):
                raise PermissionDenied(
                    "the database is open read-only: nothing can be changed"
                ) from None
            if not _is_busy(exc) or database.transaction_depth() > 0:
                raise
            if attempt == BUSY_RETRIES - 1:
                raise Busy(BUSY_MESSAGE) from None
            time.sleep(0.05 * (attempt + 1))
        except peewee.InternalError as exc:
            if _is_read_only(exc):
                raise PermissionDenied(
                    "the database is open read-only: nothing can be changed"
                ) from None
            raise
    raise Busy(BUSY_MESSAGE)
