"""Opening the store: the one way the command line and the console open a database.

It creates the schema of a new database, migrates an older one and refuses what it
cannot open, always with a message in words (never a driver's exception).
"""

from __future__ import annotations

import sqlite3

import peewee

from simdeck.core.db import describe, open_database, retrying
from simdeck.core.errors import InputError, Refused, SimdeckError
from simdeck.core.models import SCHEMA_VERSION, create_schema, has_schema, migrate, schema_version

#: What a read or write of the store may raise besides core's own errors; front ends catch
#: these and show ``explain(exc)``.
STORE_ERRORS: tuple[type[BaseException], ...] = (peewee.PeeweeException, sqlite3.Error, OSError)

Database = peewee.Database


def open_store(url: str, read_only: bool = False) -> peewee.Database:
    """Open and bind the database; create the schema on a new one, migrate an old one."""
    try:
        db = open_database(url, read_only=read_only)
    except peewee.DatabaseError as exc:  # e.g. "file is not a database", raised on connect
        raise InputError(f"cannot open the database {describe(url)}: {exc}") from None
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
        raise InputError(f"cannot read the database {describe(url)}: {exc}") from None
    return db


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
