"""The store as the front ends use it: opened, watched for changes, explained in words.

``open_store`` is the one way the command line and the console open a database: it
creates the schema of a new database, migrates an older one and refuses what it
cannot open, always with a message in words (never a driver's exception).

The console's reader thread notices other operators' changes through
``change_signature``: the newest audit event id (core writes one in the same
transaction as every change) and, on SQLite, ``PRAGMA data_version``. On PostgreSQL
ids come from a sequence, so a transaction can commit an id *below* the newest one
seen (it took its id first and committed last); the signature there also counts the
audit events near the top, which such a late commit changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import peewee

from simdeck.core import db as _db
from simdeck.core.db import damaged_message, describe, is_damaged, open_database, retrying
from simdeck.core.errors import InputError, Refused, SimdeckError
from simdeck.core.models import SCHEMA_VERSION, create_schema, has_schema, migrate, schema_version

#: What a read or write of the store may raise besides core's own errors; front ends catch
#: these and show ``explain(exc)``.
STORE_ERRORS: tuple[type[BaseException], ...] = (peewee.PeeweeException, sqlite3.Error, OSError)

Database = peewee.Database
#: The drivers' errors about the database file itself; ``damaged`` tells which mean a
#: damaged file.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (peewee.DatabaseError, sqlite3.DatabaseError)


def open_store(url: str, read_only: bool = False) -> peewee.Database:
    """Open and bind the database; create the schema on a new one, migrate an old one."""
    try:
        db = open_database(url, read_only=read_only)
    except peewee.DatabaseError as exc:  # e.g. "file is not a database", raised on connect
        raise InputError(damaged_message(describe(url), exc)) from None
    try:
        if not has_schema():
            if read_only:
                raise InputError(
                    f"{describe(url)} is not a simdeck database yet; "
                    "open it once without --read-only to create it"
                )
            retrying(create_schema)
            return db
        version = schema_version()
        if version < 1:
            db.close()
            raise InputError(
                f"{describe(url)}: its schema version is "
                + ("missing" if version == 0 else "not a number")
                + "; the database is damaged or was not written by simdeck, and was left "
                "untouched"
            )
        if version > SCHEMA_VERSION:
            raise Refused(
                f"this database was written by a newer simdeck (schema {version}; this "
                f"simdeck knows up to {SCHEMA_VERSION}): upgrade simdeck to open it"
            )
        if version < SCHEMA_VERSION:
            if read_only:
                raise Refused(
                    f"this database has the older schema {version}: open it once without "
                    "--read-only so it is upgraded"
                )
            migrate()
    except peewee.DatabaseError as exc:
        db.close()
        raise InputError(damaged_message(describe(url), exc)) from None
    return db


def damaged(exc: BaseException, database: str = "") -> InputError | None:
    """The InputError (exit 2) to show for an error SQLite raised on a damaged file, found
    after opening (a corrupt page is only noticed when a query reads it); else None."""
    if not is_damaged(exc):
        return None
    return InputError(damaged_message(describe(database) if database else "in use", exc))


def open_bare(url: str, read_only: bool = False) -> tuple[peewee.Database, bool]:
    """Open and bind the database without creating or migrating anything.

    Returns it with True when it already holds simdeck's schema: the demo builds its own
    schema into a new database and only reuses one that is already built.
    """
    db = open_database(url, read_only=read_only)
    try:
        return db, has_schema()
    except peewee.DatabaseError as exc:
        db.close()
        raise InputError(f"cannot read the database {describe(url)}: {exc}") from None


def explain(exc: BaseException, database: str = "") -> str:
    """One readable sentence for ``exc``; core's own errors already are one."""
    if isinstance(exc, SimdeckError):
        return str(exc)
    where = f" {database}" if database else ""
    text = str(exc).strip() or type(exc).__name__
    low = text.lower()
    if isinstance(exc, PermissionError) or "permission denied" in low:
        return f"permission denied: the database{where} cannot be read by this user"
    if isinstance(exc, peewee.DatabaseError | sqlite3.Error):
        if "locked" in low or "busy" in low:
            return (
                f"the database{where} is busy (another operator is writing); "
                "the list will catch up when it is free"
            )
        if "unable to open" in low or "no such table" in low or "not a database" in low:
            return f"cannot read the database{where}: {text}"
        if "readonly" in low or "read-only" in low:
            return f"the database{where} is read-only: {text}"
        if "disk i/o" in low or "malformed" in low:
            return f"the database{where} is damaged or its disk failed: {text}"
        return f"the database{where} could not be read: {text}"
    if isinstance(exc, OSError):
        return f"cannot use the database{where}: {exc.strerror or text}"
    return f"something went wrong reading{where or ' the database'}: {text}"


# --- watching for changes (the console's reader thread) ------------------------------

#: How far below the newest audit id a late commit is still noticed on PostgreSQL (a
#: transaction that took its id while this many others took theirs and committed first).
LATE_COMMIT_WINDOW = 1000


def change_signature() -> tuple[Any, ...]:
    """Something that changes whenever anyone commits a change (cheap: index reads)."""
    database = _db.database
    if _db.is_sqlite():
        top = database.execute_sql("SELECT max(id) FROM audit_event").fetchone()[0]
        # Changes whenever another connection commits, whatever it wrote.
        version = database.execute_sql("PRAGMA data_version").fetchone()[0]
        return (top, version)
    # A range of the primary key's index below the top: LATE_COMMIT_WINDOW entries at most.
    row = database.execute_sql(
        "SELECT max(id), count(*) FROM audit_event WHERE id > "
        f"(SELECT coalesce(max(id), 0) FROM audit_event) - {database.param}",
        (LATE_COMMIT_WINDOW,),
    ).fetchone()
    return (row[0], row[1])


def end_stray_transaction() -> None:
    """Roll back a transaction left open on this thread's connection outside any
    ``atomic`` block (a raw ``BEGIN`` in a read, say).

    Inside one, PostgreSQL at REPEATABLE READ or above and SQLite in WAL mode keep
    reading the snapshot it began with, and no later commit would ever be seen. Only
    for a thread that only reads: there is nothing in it to keep.
    """
    database = _db.database
    if database.is_closed() or database.transaction_depth() > 0:
        return
    conn = database.connection()
    if isinstance(conn, sqlite3.Connection):
        if conn.in_transaction:
            conn.rollback()
        return
    from psycopg.pq import TransactionStatus  # the connection is psycopg's: it is installed

    if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        conn.rollback()


def interrupter() -> Callable[[], None] | None:
    """What stops the query running on this thread's connection, called from another
    thread (SQLite's interrupt, PostgreSQL's cancel request); None when nothing is open."""
    try:
        conn = _db.database.connection()
        if _db.is_sqlite():
            return conn.interrupt  # type: ignore[no-any-return]
        return conn.cancel  # type: ignore[no-any-return]
    except (peewee.PeeweeException, AttributeError, sqlite3.Error):
        return None


def is_interrupted(exc: BaseException) -> bool:
    """True when a query was stopped by an ``interrupter`` rather than failing."""
    text = str(exc).lower()
    return isinstance(exc, peewee.OperationalError | sqlite3.OperationalError) and (
        "interrupted" in text or "canceling statement due to user request" in text
    )


def read_lightly() -> None:
    """For a thread that only reads pages for a screen: its SQLite connections keep a
    smaller page cache and spill sorts to a temporary file (``db.LIGHT_PRAGMAS``)."""
    _db.read_lightly()


def close_connection() -> None:
    """Close this thread's connection, if it is open; a failure to close is not reported."""
    try:
        if not _db.database.is_closed():
            _db.database.close()
    except Exception:
        pass
