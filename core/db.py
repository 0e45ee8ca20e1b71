"""Opening the store: SQLite by default, PostgreSQL by URL, one proxy for every model.

SQLite is set up for several operators on one host: WAL, a busy timeout, write
transactions begun IMMEDIATE so two writers never deadlock on a lock upgrade.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlparse

import peewee
import platformdirs
from playhouse.db_url import connect as connect_url

from .errors import Busy, InputError, PermissionDenied, Refused, SimdeckError

database = peewee.DatabaseProxy()

BUSY_TIMEOUT_MS = 5000
#: How often a write that found the database locked is tried again before giving up.
BUSY_RETRIES = 3
BUSY_MESSAGE = (
    "the database is busy: another operator's change or bulk job is holding it; "
    "nothing was changed, try again in a moment"
)

#: How often a writer that finds the write lock taken tries again. SQLite's own busy
#: handler sleeps 1, 2, 5 … 100 ms between tries, so against a bulk job that commits a
#: chunk and takes the lock again a few milliseconds later it can miss every gap and wait
#: for the whole job; trying every millisecond it gets in at the next gap.
LOCK_POLL_S = 0.001
#: WAL pages a connection lets pile up before its commit checkpoints them (SQLite's default).
WAL_AUTOCHECKPOINT = 1000

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": BUSY_TIMEOUT_MS,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -32000,
    "temp_store": "memory",
}

#: A connection that only reads pages for a screen (the console's reader thread) needs
#: less: an 8 MB page cache, and sorts and temporary indexes (the rowids of a broad text
#: search, a count's grouping) in a temporary file rather than in memory, where a count
#: over 300,000 matches grew the process by tens of megabytes. ``read_lightly``.
LIGHT_PRAGMAS = {"cache_size": -8000, "temp_store": "file"}

_thread = threading.local()

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


def loose_permissions(url: str) -> str | None:
    """A one-line warning when the SQLite file (or its folder) lets other users of the
    host change it; None when it does not, or for PostgreSQL.

    On SQLite the roles are kept by simdeck itself: they guard against mistakes, not
    against someone who can write the file, who can make himself admin or rewrite the
    audit with the sqlite3 shell. A file that others may write has no roles at all.
    """
    if is_postgres(url) or url in (":memory:", "sqlite:///:memory:"):
        return None
    path = sqlite_path(url)
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    loose = stat.S_IWGRP | stat.S_IWOTH
    writable = [str(path)] if mode & loose else []
    for extra in ("-wal", "-shm"):
        try:
            if os.stat(str(path) + extra).st_mode & loose:
                writable.append(f"{path}{extra}")
        except OSError:
            pass
    try:
        folder = path.resolve().parent.stat().st_mode
    except OSError:
        folder = 0
    # A folder others may write lets them replace the file (the sticky bit stops that).
    if folder & loose and not folder & stat.S_ISVTX:
        writable.append(f"its folder {path.resolve().parent}")
    if not writable:
        return None
    return (f"warning: {', '.join(writable)} can be written by other users of this host, "
            "who could change any record, their own role and the audit trail; "
            f"run: chmod go-w {path}* (or move the team to PostgreSQL)")


def open_database(url: str | None = None, *, read_only: bool = False) -> peewee.Database:
    """Open the database at ``url`` (a SQLite path or URL, or postgresql://) and bind it."""
    url = url or os.environ.get("SIMDECK_DB") or default_url()
    if is_postgres(url):
        _require_driver()
    db: peewee.Database
    if is_postgres(url):
        scheme, rest = url.split("://", 1)
        db = connect_url("psycopg3://" + rest)
        if read_only:
            db.connect_params.setdefault("options", "-c default_transaction_read_only=on")
    else:
        path = sqlite_path(url)
        _refuse_dangling_link(path)
        if read_only:
            if not path.exists():
                raise InputError(f"database {path} does not exist")
            inspect_sqlite_file(path)
            db = peewee.SqliteDatabase(
                read_only_uri(path),
                uri=True,
                pragmas={"busy_timeout": BUSY_TIMEOUT_MS, "query_only": 1},
                check_same_thread=False,
            )
        else:
            if path.exists():
                # Before any pragma: WAL would rewrite the header of a file not ours.
                inspect_sqlite_file(path)
            _create_private(path)
            db = _Sqlite(
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


def read_lightly() -> None:
    """Every SQLite connection this thread opens from now on uses ``LIGHT_PRAGMAS``."""
    _thread.light = True


class _Sqlite(peewee.SqliteDatabase):  # type: ignore[misc]
    """SQLite whose ``BEGIN IMMEDIATE`` waits for the write lock by polling it every ms."""

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._connect()
        if getattr(_thread, "light", False):
            for name, value in LIGHT_PRAGMAS.items():
                conn.execute(f"PRAGMA {name} = {value}")
        return conn

    def begin(self, lock_type: str | None = None) -> None:
        """Begin a transaction; an IMMEDIATE one polls for the lock (see LOCK_POLL_S)."""
        if lock_type != "IMMEDIATE":
            super().begin(lock_type)
            return
        conn = self.connection()
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        # Poll without SQLite's busy handler, then put the timeout back: the statements
        # inside the transaction keep the usual 5 s.
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc) or time.monotonic() >= deadline:
                        raise peewee.OperationalError(str(exc)) from exc
                time.sleep(LOCK_POLL_S)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _require_driver() -> None:
    """InputError naming the extra to install when psycopg cannot be imported."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise InputError(
            "a postgresql:// database needs the PostgreSQL driver, which is not installed: "
            "install simdeck[postgres] (pip install 'simdeck[postgres]')"
        ) from None


def _refuse_dangling_link(path: Path) -> None:
    """A symbolic link to nothing is refused: creating the database would create the
    link's target, wherever another user pointed it."""
    if path.is_symlink() and not path.exists():
        raise InputError(
            f"{path} is a symbolic link to {os.readlink(path)}, which does not exist: "
            "no database is created through a link; give the real path"
        )


#: What simdeck's own tables look like in sqlite_master: the settings table holds the
#: schema version; any other file with tables belongs to another application.
SIMDECK_MARKER = "setting"


def inspect_sqlite_file(path: Path) -> None:
    """Refuse, without changing a byte of it, a file that is not a simdeck database.

    Read through a separate read-only connection, before the store connection sets its
    pragmas (WAL changes the file header): a file that is not SQLite, SQLite with tables
    but not simdeck's, or simdeck's settings table without a readable schema version.
    An empty file (0 bytes) or a SQLite file with no tables is a new database.
    """
    try:
        if path.stat().st_size == 0:
            return
    except OSError as exc:
        raise InputError(f"cannot open the database {path}: {exc.strerror}") from None
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open the database {path}: {exc}") from None
    try:
        names = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )}
        if not names:
            return
        if SIMDECK_MARKER not in names:
            shown = ", ".join(sorted(names)[:5]) + (", …" if len(names) > 5 else "")
            raise InputError(
                f"{path} is not a simdeck database (it holds other tables: {shown}); "
                "it was left untouched: give the path of a simdeck database or a new file"
            )
        row = conn.execute(
            f"SELECT value FROM {SIMDECK_MARKER} WHERE key = 'schema_version'"
        ).fetchone()
        if row is None or not str(row[0]).strip().isdigit():
            raise InputError(
                f"{path}: its schema version is "
                + ("missing" if row is None else f"not a number ({str(row[0])[:20]!r})")
                + "; the file is damaged or was not written by simdeck, and was left untouched"
            )
    except sqlite3.DatabaseError as exc:
        raise InputError(damaged_message(str(path), exc)) from None
    finally:
        conn.close()


def damaged_message(where: str, exc: BaseException) -> str:
    """The one line said of a file SQLite cannot read as a database."""
    text = str(exc).strip()
    low = text.lower()
    if "not a database" in low or "encrypted" in low:
        return f"{where} is not a SQLite database ({text}); it was left untouched"
    if "malformed" in low or "corrupt" in low or "disk i/o" in low:
        return (f"the database {where} is damaged ({text}); restore it from a backup, or "
                "check it with: sqlite3 FILE 'PRAGMA integrity_check'")
    return f"cannot read the database {where}: {text}"


def is_damaged(exc: BaseException) -> bool:
    """True for SQLite's errors about a file that is damaged or not a database."""
    low = str(exc).lower()
    return isinstance(exc, peewee.DatabaseError | sqlite3.DatabaseError) and any(
        word in low for word in ("malformed", "not a database", "corrupt", "disk i/o",
                                 "encrypted")
    )


def read_only_uri(path: Path) -> str:
    """The URI a read-only open uses: ``mode=ro``, and ``immutable=1`` when the file or
    its folder cannot be written (read-only media), where SQLite could not create the
    WAL's shared-memory file and ``mode=ro`` alone fails to read a WAL database."""
    quoted = quote(str(path.resolve()))
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        return f"file:{quoted}?mode=ro"
    return f"file:{quoted}?mode=ro&immutable=1"


def _create_private(path: Path) -> None:
    """Create the file readable by its owner only, so other users of a shared host cannot;
    the folders created on the way (the data directory) are 0700 whatever the umask."""
    if path.exists():
        return
    try:
        _make_private_dirs(path.parent)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise InputError(f"cannot create the database {path}: {exc.strerror}") from None


def _make_private_dirs(folder: Path) -> None:
    """mkdir -p with mode 0700 for each folder created; existing ones are left as they are."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=0o700)
        except FileExistsError:
            continue
        # mkdir's mode is masked by the umask; chmod is not.
        os.chmod(created, 0o700)


class _Bound(peewee.ColumnBase):  # type: ignore[misc]
    """An IN list ``(?, ?, …)`` whose values are handed to the driver as they are.

    ``peewee.SQL`` with params still visits each value in Python (about 2 µs each: a
    second per 500,000 ids); this node adds the whole list to the query's parameters at
    once. Only ints go through it, which need no conversion.
    """

    def __init__(self, values: list[int]) -> None:
        super().__init__()
        self.values = values

    def __sql__(self, ctx: peewee.Context) -> peewee.Context:
        if not self.values:
            return ctx.literal("(NULL)")
        if ctx.state.value_literals:  # query_to_string(): no parameters, values inline
            return ctx.literal("(" + ", ".join(str(int(v)) for v in self.values) + ")")
        mark = ctx.state.param or "?"
        ctx.literal("(" + ", ".join([mark] * len(self.values)) + ")")
        ctx._values.extend(self.values)
        return ctx


def bound(values: list[int]) -> peewee.ColumnBase:
    """``(?, ?, …)`` with the values bound: an IN list that costs one node, not one per value."""
    return _Bound(list(values))


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
        except (peewee.ProgrammingError, peewee.IntegrityError) as exc:
            refused = _refused_by_server(exc)
            if refused is None:
                raise
            raise refused from None
    raise Busy(BUSY_MESSAGE)


def _refused_by_server(exc: BaseException) -> SimdeckError | None:
    """PostgreSQL's refusal of a role's change (a privilege it lacks, a transition the
    lifecycle trigger rejects) as core's error, in the server's words; else None."""
    # peewee raises its own exception while handling the driver's.
    code = next((c for c in (getattr(e, "sqlstate", None) for e in
                             (exc, exc.__cause__, exc.__context__)) if c), None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if code == "42501" or "permission denied" in text.lower():
        return PermissionDenied(f"the server refused this change: {text}; "
                                "nothing was changed")
    if code == "23514" and "is not allowed" in text:
        return Refused(f"the server refused this change: {text}; nothing was changed")
    return None


class Checkpointer:
    """Moves a bulk job's WAL pages into the database from a thread of its own (SQLite).

    A chunk writes a few hundred WAL pages; left to SQLite, the commit that crosses
    WAL_AUTOCHECKPOINT pages checkpoints them itself: the bulk job's own commit (a third
    of its time, fsyncs included), or the commit of another operator who happens to cross
    it, a wait that is no fault of theirs. Instead the bulk connection never checkpoints,
    and after each of its commits (``committed()``) this thread runs a PASSIVE checkpoint
    on its own connection: it blocks neither readers nor writers and runs while the next
    chunk is written, and another operator's commit finds the WAL already moved (or the
    checkpoint taken, which SQLite then skips rather than waits for).
    """

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        """A chunk was committed: checkpoint what it wrote."""
        self._wake.set()

    def _run(self, path: str) -> None:
        try:
            own = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                while not self._stop.is_set():
                    self._wake.wait(0.25)
                    self._wake.clear()
                    own.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                own.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                own.close()
        except sqlite3.Error:
            pass  # housekeeping only: the next commit's autocheckpoint catches up

    def start(self) -> None:
        """Take over the checkpoints of this thread's connection (SQLite only)."""
        if not is_sqlite():
            return
        database.connection().execute("PRAGMA wal_autocheckpoint = 0")
        path = str(database.obj.database)
        self._thread = threading.Thread(
            target=self._run, args=(path,), name="simdeck-checkpoint", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """One last checkpoint, then give the checkpoints back to the connection."""
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._thread = None
        database.connection().execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")


@contextmanager
def checkpointing() -> Iterator[Checkpointer]:
    """A Checkpointer for the duration of a bulk job (does nothing on PostgreSQL)."""
    checkpointer = Checkpointer()
    checkpointer.start()
    try:
        yield checkpointer
    finally:
        checkpointer.stop()
