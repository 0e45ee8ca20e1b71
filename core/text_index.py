"""The trigram index's upkeep on SQLite: no operator's write pays for a large merge.

FTS5 keeps the index as segments on levels. Every transaction that changes a name or a
reference adds a small segment on level 0; when a level holds ``automerge`` segments
they are merged, a little at a time, into one on the next level, and a level that
reaches ``crisismerge`` is merged at once, inside the transaction that tipped it.

A bulk build (the demo, ``rebuild``) writes the whole index as one large segment on
level 0. Left there, the 16th text edit after it triggered a crisis merge that rewrote
the whole index inside that operator's transaction (2.9 s at 1,000,000 endpoints, while
other operators waited for the write lock), and later merges that take it in cost 1–2 s
again: copying one trigram's million-entry list cannot be split into smaller steps.

So the large segments are *lifted*: moved, as they are, to a level so high that merges
of the small segments never reach it (each level up takes ``automerge`` times as many
merges: ``automerge ** LIFT_LEVEL`` edits). Its pages are not touched, only the index's
structure record (``%_data`` row 10, whose format FTS5 documents in fts5_index.c:
levels, each a list of segments). The lift is done only when the record is read back
completely in the known format, on a connection of its own (FTS5 caches the structure
per connection and reloads it when another connection commits).

``tidy_store`` is the maintenance a quiet moment can afford: ``optimize`` (one
segment), then the lift, for an admin (``simdeck db tidy``, from cron at a
quiet hour): admins only, SQLite only, and it refuses rather than waits long when
another writer holds the database.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from .auth import Actor
from .db import describe, is_postgres, sqlite_path
from .errors import Busy, Refused
from .lifecycle import Role

#: The index's merge settings, kept in its ``_config`` table: merge small segments in
#: steps of eight, and at once only when a level holds 32 of them.
SETTINGS: dict[str, int] = {"automerge": 8, "crisismerge": 32}

#: Where lifted segments go (FTS5 allows 64 levels).
LIFT_LEVEL = 40

TABLE = "endpoint_text"
_STRUCTURE_ROWID = 10


def settings_sql(table: str = TABLE) -> list[tuple[str, tuple[object, ...]]]:
    """The statements that store ``SETTINGS`` in the index's configuration."""
    return [(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)", (name, value))
            for name, value in SETTINGS.items()]


@dataclass(frozen=True)
class Structure:
    """The index's structure record: ``levels[i]`` lists level i's segments as
    (segment id, first page, last page); ``merging[i]`` how many are inputs to a merge."""

    cookie: bytes
    segments: int
    writes: int
    levels: list[list[tuple[int, int, int]]]
    merging: list[int]


def _get_varint(data: bytes, i: int) -> tuple[int, int]:
    """SQLite's varint at ``data[i]``: the value and the index after it."""
    value = 0
    for _ in range(8):
        byte = data[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i
    return (value << 8) | data[i], i + 1


def _put_varint(value: int) -> bytes:
    if value < 0 or value > 0x00FFFFFFFFFFFFFF:
        raise ValueError(value)
    if value <= 0x7F:
        return bytes([value])
    groups = []
    while value:
        groups.append(value & 0x7F)
        value >>= 7
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


def decode(record: bytes) -> Structure | None:
    """The structure record read back, or None when it is not in the format known here."""
    try:
        i = 4
        n_levels, i = _get_varint(record, i)
        n_segments, i = _get_varint(record, i)
        writes, i = _get_varint(record, i)
        levels: list[list[tuple[int, int, int]]] = []
        merging: list[int] = []
        for _ in range(n_levels):
            n_merge, i = _get_varint(record, i)
            n_seg, i = _get_varint(record, i)
            segs = []
            for _ in range(n_seg):
                seg, i = _get_varint(record, i)
                first, i = _get_varint(record, i)
                last, i = _get_varint(record, i)
                segs.append((seg, first, last))
            levels.append(segs)
            merging.append(n_merge)
    except IndexError:
        return None
    if i != len(record) or sum(len(s) for s in levels) != n_segments or n_levels > 64:
        return None
    return Structure(record[:4], n_segments, writes, levels, merging)


def encode(s: Structure) -> bytes:
    """The record for ``s``."""
    out = bytearray(s.cookie)
    out += _put_varint(len(s.levels)) + _put_varint(s.segments) + _put_varint(s.writes)
    for segs, n_merge in zip(s.levels, s.merging, strict=True):
        out += _put_varint(n_merge) + _put_varint(len(segs))
        for seg, first, last in segs:
            out += _put_varint(seg) + _put_varint(first) + _put_varint(last)
    return bytes(out)


def structure(conn: sqlite3.Connection, table: str = TABLE) -> Structure | None:
    """The index's structure now (None when unreadable here)."""
    row = conn.execute(f"SELECT block FROM {table}_data WHERE id = ?",
                       (_STRUCTURE_ROWID,)).fetchone()
    return decode(bytes(row[0])) if row and row[0] is not None else None


def lift(path: str, table: str = TABLE, *, timeout: float = 5.0) -> bool:
    """Move the segments of an index built or optimized in bulk (all on one level, none
    being merged) to ``LIFT_LEVEL``; True when it did. Opens its own connection to
    ``path``."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=timeout)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = structure(conn, table)
            used = [i for i, segs in enumerate(found.levels) if segs] if found else []
            if found is None or len(used) != 1 or used[0] == LIFT_LEVEL or any(found.merging):
                conn.execute("ROLLBACK")
                return False
            levels: list[list[tuple[int, int, int]]] = [[] for _ in range(LIFT_LEVEL)]
            lifted = Structure(found.cookie, found.segments, found.writes,
                               [*levels, found.levels[used[0]]], [0] * (LIFT_LEVEL + 1))
            conn.execute(f"UPDATE {table}_data SET block = ? WHERE id = ?",
                         (encode(lifted), _STRUCTURE_ROWID))
            conn.execute("COMMIT")
            return True
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


@dataclass(frozen=True)
class Tidied:
    """What ``tidy_store`` found and did."""

    database: str
    #: Segments and the levels holding them before (None: a structure not known here).
    segments: int | None
    levels: int | None
    #: True when the index was already one lifted segment: nothing was written.
    already: bool
    lifted: bool
    seconds: float

    def message(self) -> str:
        """One line for the operator."""
        if self.already:
            return (f"The search index of {self.database} is already tidy (one segment, out "
                    f"of the merges' reach): nothing to do ({self.seconds:.1f} s).")
        before = (f"{self.segments} segment{'s' if self.segments != 1 else ''} on "
                  f"{self.levels} level{'s' if self.levels != 1 else ''}"
                  if self.segments is not None else "its segments")
        after = ("lifted out of the merges' reach" if self.lifted
                 else "not lifted (its structure is not one this version knows)")
        return (f"Tidied the search index of {self.database}: {before} merged into one, "
                f"{after}, in {self.seconds:.1f} s.")


def _used(found: Structure) -> list[int]:
    return [i for i, segs in enumerate(found.levels) if segs]


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def tidy_store(actor: Actor, url: str, *, wait: float = 5.0, table: str = TABLE) -> Tidied:
    """Merge the trigram index into one segment (``optimize``) and lift it, for an admin.

    Refused on PostgreSQL (its trigram indexes need nothing of the kind). Waits at most
    ``wait`` seconds for the write lock, then refuses with nothing changed; once it has
    the lock it holds it for the merge (seconds at a million endpoints)."""
    actor.require(Role.ADMIN, "tidy the search index")
    shown = describe(url)
    if is_postgres(url):
        raise Refused("nothing to tidy on PostgreSQL: its trigram indexes (pg_trgm) are kept "
                      "by PostgreSQL itself (autovacuum); simdeck db tidy is for SQLite")
    path = str(sqlite_path(url))
    busy = (f"the database {shown} is busy: another writer (an operator's change, a bulk "
            "job, an import) holds it; nothing was changed, run it again at a quieter "
            "moment or wait longer with --wait SECONDS")
    started = time.monotonic()
    conn = sqlite3.connect(path, isolation_level=None, timeout=wait)
    try:
        found = structure(conn, table)
        if (found is not None and _used(found) == [LIFT_LEVEL] and found.segments == 1
                and not any(found.merging)):
            return Tidied(shown, 1, 1, True, False, time.monotonic() - started)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise Busy(busy) from None
            raise
        try:
            conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    try:
        lifted = lift(path, table, timeout=wait)
    except sqlite3.OperationalError as exc:
        if not _is_busy(exc):
            raise
        raise Busy(f"the search index of {shown} was merged into one segment, but another "
                   "writer took the database before it could be lifted out of the merges' "
                   "reach; run it again at a quieter moment") from None
    segments = found.segments if found is not None else None
    levels = len(_used(found)) if found is not None else None
    return Tidied(shown, segments, levels, False, lifted, time.monotonic() - started)


#: The list of the index's distinct trigrams (models.SQLITE_TRIGRAMS).
TRIGRAMS = "endpoint_trigram"


def fill_trigrams(conn: sqlite3.Connection, schema: str = "main", table: str = TABLE) -> None:
    """Add every trigram the index holds to the trigram list (after a bulk build, which
    fires no trigger): read from the index's vocabulary, about a second at a million
    endpoints."""
    vocab = "simdeck_trigram_vocab"
    conn.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{TRIGRAMS} "
                 "(term TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute(f"CREATE VIRTUAL TABLE temp.{vocab} USING fts5vocab({schema}, {table}, row)")
    try:
        conn.execute(f"INSERT OR IGNORE INTO {schema}.{TRIGRAMS} (term) "
                     f"SELECT term FROM temp.{vocab}")
    finally:
        conn.execute(f"DROP TABLE temp.{vocab}")
