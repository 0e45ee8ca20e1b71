"""The demo on SQLite, fast at a million endpoints.

Tables without secondary indexes, bulk statements (``executemany`` for the endpoints,
then ``INSERT … SELECT``) with the rollback journal in memory, ``synchronous=OFF`` and
foreign keys off (a new database: nothing to protect), indexes and the trigram index
last (``create_indexes``, then one ``rebuild`` with a large buffer rather than a trigger
per row), a bounded ANALYZE; journal mode, synchronous and foreign_keys are set back at
the end.

From PARALLEL_FROM endpoints on, when a core is free, the work is cut in two for the two
cores (threads help little: this SQLite build serialises its allocations). A worker
process draws the same fleet and builds the ``endpoint`` table with its indexes and the
trigram index in a scratch file next to the target; meanwhile this process loads
everything else from a narrow scratch copy of the endpoints. Then ``INSERT INTO endpoint
SELECT * FROM …`` copies the table into the target with each of its indexes record by
record, in order (SQLite's transfer optimisation: no sort), and the trigram index's
shadow tables are copied likewise. Both ways give the same database, byte for byte in
content (a test checks it). Smaller fleets and in-memory databases are built in one
process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from simdeck.core import models, text_index
from simdeck.core.db import database

from .fleet import (
    _ESIM_PERCENT,
    _HASH_A,
    _HASH_B,
    _MULTI_IMSI_PERCENT,
    EID_PREFIX,
    ENDPOINT_COLUMNS,
    IMSI_NETWORKS,
    REGIONS,
    _Fleet,
    _hash_sql,
)

#: Rows per executemany batch.
BATCH = 50_000

#: From this many endpoints on, a SQLite file is built by two processes (see above).
PARALLEL_FROM = 100_000

ENDPOINT_SQL = (
    f"INSERT INTO endpoint ({', '.join(ENDPOINT_COLUMNS)}, version) "
    "VALUES (?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, "
    "NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), 1)"
)
_AUDIT_SQL = (
    "INSERT INTO audit_event (at, actor, action, endpoint_id, iccid, from_state, to_state, "
    "detail, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_JOB_SQL = (
    "INSERT INTO job (id, action, actor, params, status, total, applied, skipped, failed, "
    "last_id, created_at, heartbeat, finished_at, message) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_STAGING = "demo_scratch"
_FTS_SHADOWS = ("endpoint_text_data", "endpoint_text_idx", "endpoint_text_docsize")
#: The trigram index buffers this much before it writes: one pass, not many merges.
_FTS_HASHSIZE = 128 * 1024 * 1024
_FTS_HASHSIZE_DEFAULT = 1024 * 1024


def _sim_sql(fleet: _Fleet, src: str) -> str:
    """The linked SIMs, made from the endpoints in SQL as ``_Fleet.sim_rows`` makes them."""
    # The EID check digits: 98 - (body * 100 mod 97), body = prefix * 10**12 + c.
    head = int(EID_PREFIX) * 10**12 % 97
    esim = f"({_hash_sql('id', _HASH_A, fleet.esim_salt)} >> 8) % 100 < {_ESIM_PERCENT}"
    return (
        "INSERT INTO main.sim (iccid, eid, endpoint_id, created_at) "
        f"SELECT iccid, CASE WHEN {esim} THEN printf('{EID_PREFIX}%012d%02d', id, "
        f"98 - ((({head} + id) % 97) * 100) % 97) END, "
        f"id, substr(created_at, 1, 10) || ' 00:00:00' "
        f"FROM {src} WHERE iccid <> '' ORDER BY id"
    )


def _imsi_sql(fleet: _Fleet, src: str) -> str:
    """Every IMSI, made from the SIMs in SQL as ``_Fleet.imsi_rows`` makes them."""
    h = _hash_sql(f"COALESCE(s.endpoint_id, s.id - {fleet.linked} + {fleet.n})",
                  _HASH_B, fleet.imsi_salt)
    count = (f"CASE WHEN ({h} >> 8) % 100 < {_MULTI_IMSI_PERCENT} "
             f"THEN 2 + (({h} >> 4) & 1) ELSE 1 END")
    homes = " ".join(f"WHEN '{r.code[:2]}' THEN {r.home}" for r in REGIONS if r.home)
    network = " ".join(f"WHEN {k} THEN printf('{fmt}', {first} + s.id)"
                       for k, (fmt, first) in enumerate(IMSI_NETWORKS))
    return (
        "INSERT INTO main.imsi (sim_id, position, imsi) "
        f"SELECT s.id, p.position, CASE (CASE substr(e.name, 4, 2) {homes} ELSE 0 END "
        f"+ p.position) % 3 {network} END "
        f"FROM main.sim s LEFT JOIN {src} e ON e.id = s.endpoint_id "
        f"CROSS JOIN temp.demo_positions p WHERE p.position < {count} "
        "ORDER BY s.id, p.position"
    )


def _tags_sql(src: str) -> str:
    return (
        "INSERT INTO main.endpoint_tag (tag, endpoint_id) SELECT m.tag, e.id "
        f"FROM {src} e CROSS JOIN temp.demo_tag_map m ON m.tags = e.tags ORDER BY e.id, m.tag"
    )


class _SqliteBuild:
    """The SQLite build, on the bound connection; see the module's docstring."""

    def __init__(self, n: int, seed: int, now: dt.datetime, operator: str,
                 say: Callable[[str], None]) -> None:
        self.args = (n, seed, now, operator)
        self.say = say
        self.conn: sqlite3.Connection = database.connection()
        self.path = ""
        for _, name, file in self.conn.execute("PRAGMA database_list"):
            if name == "main":
                self.path = str(file or "")

    def _pragma(self, name: str, value: object | None = None) -> Any:
        if value is None:
            return self.conn.execute(f"PRAGMA {name}").fetchone()[0]
        return self.conn.execute(f"PRAGMA {name}={value}").fetchone()

    def run(self) -> dict[str, int]:
        """Build; returns the endpoints per state."""
        saved = {k: self._pragma(k) for k in ("journal_mode", "synchronous", "foreign_keys")}
        try:
            self._pragma("foreign_keys", 0)
            self._pragma("synchronous", 0)
            self._pragma("journal_mode", "memory")
            if self.path and self.args[0] >= PARALLEL_FROM and sys.executable and _core_free():
                with tempfile.TemporaryDirectory(
                    prefix=".simdeck-demo-", dir=os.path.dirname(os.path.abspath(self.path))
                ) as scratch:
                    by_state = self._parallel(scratch)
            else:
                by_state = self._serial()
        finally:
            self._pragma("journal_mode", saved["journal_mode"])
            self._pragma("synchronous", saved["synchronous"])
            self._pragma("foreign_keys", saved["foreign_keys"])
        if self.path:
            # The index was built as one large segment: out of the way of the merges an
            # operator's edit may set off (core/text_index.py).
            text_index.lift(self.path)
        return by_state

    def _serial(self) -> dict[str, int]:
        conn, say = self.conn, self.say
        say(f"drawing a fleet of {self.args[0]:,} vehicles")
        fleet = _Fleet(*self.args)
        with database.atomic():
            _insert_endpoints(conn, fleet, say)
            self._load_rest(fleet, "main.endpoint")
        say("indexes")
        with database.atomic():
            models.create_indexes(search=False)
        say("search index")
        with database.atomic():
            _fts_rebuild(conn, "main")
            # After the rebuild, which would read the rows through it, in name order.
            models.create_search_indexes()
        self._analyze()
        return fleet.by_state()

    def _parallel(self, scratch: str) -> dict[str, int]:
        conn, say = self.conn, self.say
        endpoint_file = os.path.join(scratch, "endpoint.db")
        ddl = [r[0] for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'endpoint' AND sql IS NOT NULL "
            "ORDER BY type DESC")]
        try:
            worker = _Worker(endpoint_file, ddl, *self.args)
        except OSError:  # no interpreter to start: one process, slower
            return self._serial()
        try:
            say(f"drawing a fleet of {self.args[0]:,} vehicles")
            fleet = _Fleet(*self.args)
            conn.execute(f"ATTACH DATABASE ? AS {_STAGING}", (os.path.join(scratch, "s.db"),))
            try:
                conn.execute(f"PRAGMA {_STAGING}.journal_mode=OFF")
                with database.atomic():
                    conn.execute(f"CREATE TABLE {_STAGING}.endpoint (id INTEGER PRIMARY KEY, "
                                 "iccid TEXT, name TEXT, tags TEXT, created_at TEXT)")
                    for a in range(0, fleet.n, BATCH):
                        b = min(fleet.n, a + BATCH)
                        conn.executemany(f"INSERT INTO {_STAGING}.endpoint VALUES (?, ?, ?, ?, ?)",
                                         fleet.staging_rows(a, b))
                    self._load_rest(fleet, f"{_STAGING}.endpoint")
            finally:
                conn.execute(f"DETACH DATABASE {_STAGING}")
            say("waiting for the endpoint table and the search index")
            worker.wait()
        finally:
            worker.stop()
        say("copying the endpoint table and the search index")
        conn.execute("ATTACH DATABASE ? AS demo_endpoints", (endpoint_file,))
        try:
            with database.atomic():
                # The target gets the same indexes first, so that the copy fills them; the
                # search table's triggers only after it (a table with triggers is copied
                # row by row, firing them).
                # (Not the covering name index: it is sorted once, after the copy.)
                for sql in models.INDEXES + models.SQLITE_INDEXES:
                    if " ON endpoint " in sql:
                        conn.execute(sql)
                conn.execute("INSERT INTO main.endpoint SELECT * FROM demo_endpoints.endpoint")
                conn.execute(models.SQLITE_FTS[0])
                conn.execute(models.SQLITE_TRIGRAMS[0])
                for table in (*_FTS_SHADOWS, text_index.TRIGRAMS):
                    conn.execute(f"DELETE FROM main.{table}")
                    conn.execute(f"INSERT INTO main.{table} SELECT * FROM demo_endpoints.{table}")
                models.create_indexes()
        finally:
            conn.execute("DETACH DATABASE demo_endpoints")
        self._analyze()
        return fleet.by_state()

    def _load_rest(self, fleet: _Fleet, src: str) -> None:
        """Everything but the endpoints, inside the caller's transaction."""
        conn, say = self.conn, self.say
        conn.executemany(
            "INSERT INTO endpoint_group (id, name, description, apn, ip_pool, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", fleet.group_rows())
        conn.executemany(
            "INSERT INTO operator (username, role, created_at, created_by) VALUES (?, ?, ?, ?)",
            fleet.operator_rows())
        # The secondary indexes of the tables loaded here cost less kept as rows arrive
        # in their order than sorted afterwards.
        for sql in models.INDEXES + models.SQLITE_INDEXES:
            if " ON endpoint " not in sql:
                conn.execute(sql)
        say("SIMs")
        conn.execute(_sim_sql(fleet, src))
        conn.executemany("INSERT INTO sim (id, iccid, eid, endpoint_id, created_at) "
                         "VALUES (?, ?, ?, NULL, ?)", fleet.pool_rows())
        say("IMSIs")
        conn.execute("CREATE TEMP TABLE demo_positions (position INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO temp.demo_positions VALUES (0), (1), (2)")
        conn.execute(_imsi_sql(fleet, src))
        say("tags")
        conn.execute("CREATE TEMP TABLE demo_tag_map (tags TEXT, tag TEXT)")
        texts = sorted({c.tags for c in fleet.combos})
        conn.executemany("INSERT INTO temp.demo_tag_map VALUES (?, ?)",
                         [(text, tag) for text in texts for tag in text.split()])
        conn.execute("CREATE INDEX temp.demo_tag_map_tags ON demo_tag_map (tags, tag)")
        conn.execute(_tags_sql(src))
        conn.execute("DROP TABLE temp.demo_positions")
        conn.execute("DROP TABLE temp.demo_tag_map")
        say("audit trail and jobs")
        conn.executemany(_AUDIT_SQL, fleet.audit_rows())
        conn.executemany(_JOB_SQL, fleet.job_rows())
        conn.executemany(
            "INSERT INTO job_item (job_id, endpoint_id, iccid, outcome) VALUES (?, ?, ?, ?)",
            fleet.job_item_rows())

    def _analyze(self) -> None:
        self.say("statistics")
        self._pragma("analysis_limit", 1000)
        self.conn.execute("ANALYZE")
        self._pragma("analysis_limit", 0)


def _core_free() -> bool:
    """True when a second core looks at least half free for the worker (the split costs
    about a fifth more work in all: a loss when every core is busy already)."""
    try:
        return (os.cpu_count() or 1) - os.getloadavg()[0] >= 0.5
    except (OSError, AttributeError):  # no load average on this platform
        return False


def _insert_endpoints(conn: sqlite3.Connection, fleet: _Fleet,
                      say: Callable[[str], None]) -> None:
    for a in range(0, fleet.n, BATCH):
        b = min(fleet.n, a + BATCH)
        conn.executemany(ENDPOINT_SQL, fleet.endpoint_rows(a, b))
        if b == fleet.n or b % (5 * BATCH) == 0:
            say(f"endpoints {b:,}/{fleet.n:,}")


def _fts_rebuild(conn: sqlite3.Connection, schema: str) -> None:
    table = f"{schema}.endpoint_text"
    conn.execute(f"INSERT INTO {table}(endpoint_text, rank) VALUES ('hashsize', ?)",
                 (_FTS_HASHSIZE,))
    conn.execute(f"INSERT INTO {table}(endpoint_text) VALUES ('rebuild')")
    conn.execute(f"INSERT INTO {table}(endpoint_text, rank) VALUES ('hashsize', ?)",
                 (_FTS_HASHSIZE_DEFAULT,))
    text_index.fill_trigrams(conn, schema)


class _Worker:
    """The endpoint table, its indexes and the search index, built by a second process.

    A plain ``python -c`` child, not multiprocessing: it imports nothing of the caller's
    ``__main__``. It draws the same fleet from the same seed.
    """

    def __init__(self, path: str, ddl: list[str], n: int, seed: int, now: dt.datetime,
                 operator: str) -> None:
        args = json.dumps({"path": path, "ddl": ddl, "n": n, "seed": seed,
                           "now": now.isoformat(), "operator": operator})
        self.log = path + ".log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "import sys; from simdeck.core.demo.sqlite import "
                 "_worker_main; _worker_main(sys.argv[1])", args],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            )

    def wait(self) -> None:
        """Wait for the worker; raise with its last words if it failed."""
        if self.process.wait():
            with open(self.log, "rb") as log:
                lines = log.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError("the demo's endpoint worker failed: "
                               + (lines[-1] if lines else f"exit {self.process.returncode}"))

    def stop(self) -> None:
        """End the worker if it still runs (this build failed before waiting for it)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _worker_main(arguments: str) -> None:
    """In the worker process: the endpoint table, its indexes and the search index's
    shadow tables, in a file of its own."""
    args = json.loads(arguments)
    fleet = _Fleet(args["n"], args["seed"], dt.datetime.fromisoformat(args["now"]),
                   args["operator"])
    conn = sqlite3.connect(args["path"], isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=MEMORY"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        for sql in args["ddl"]:
            conn.execute(sql)
        _insert_endpoints(conn, fleet, lambda _message: None)
        # Not the covering name index: the trigram index's rebuild would read the rows
        # through it, in name order, and write many segments (ids must come in order).
        for sql in models.INDEXES + models.SQLITE_INDEXES:
            if " ON endpoint " in sql:
                conn.execute(sql)
        conn.execute(models.SQLITE_FTS[0])
        _fts_rebuild(conn, "main")
        conn.execute("COMMIT")
    finally:
        conn.close()
