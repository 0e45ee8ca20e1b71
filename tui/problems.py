"""A failed read or write, said in words for the operator (never a traceback)."""

from __future__ import annotations

import sqlite3

import peewee

from simdeck.core.errors import SimdeckError


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
