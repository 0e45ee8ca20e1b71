"""The demo on PostgreSQL: COPY, set-based SQL, and one transaction.

- One transaction holds the whole build, schema included (PostgreSQL's DDL is
  transactional): a build that fails or is killed leaves the database as it was.
- The endpoints, the pool SIMs, the audit trail and the jobs are sent with ``COPY``
  (psycopg's ``cursor.copy``): no bind parameters, so no limit on a batch, and the server
  parses rows far faster than it binds them.
- The linked SIMs, their IMSIs and the tag rows are made by the server from the
  endpoints with ``INSERT … SELECT``, as on SQLite; ``_Fleet.sim_rows``, ``imsi_rows`` and
  ``tag_rows`` make the same rows in Python (a test on the PostgreSQL lane compares them).
- Foreign keys are dropped while loading and added back at the end: one validating join
  per key instead of a trigger call per row. The secondary indexes are created after the
  load, with a large ``maintenance_work_mem``; then ANALYZE.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from simdeck.core import models
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

#: Endpoints per COPY write.
BATCH = 50_000

#: The tables whose foreign keys are set aside during the load.
_LOADED = ("endpoint", "sim", "imsi", "endpoint_tag", "job_item")


def _text(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


def _copy(cursor: Any, table: str, columns: Iterable[str],
          rows: Iterable[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write("".join("\t".join(map(_text, row)) + "\n" for row in rows))


def _copy_endpoints(cursor: Any, fleet: _Fleet, say: Callable[[str], None]) -> None:
    # Every value of an endpoint row is digits, letters, '-', ':', '.' or a space: no
    # escaping, and absent values come as \N already.
    columns = ", ".join(ENDPOINT_COLUMNS)
    with cursor.copy(f"COPY endpoint ({columns}, version) FROM STDIN") as copy:
        for a in range(0, fleet.n, BATCH):
            b = min(fleet.n, a + BATCH)
            rows = fleet.endpoint_rows(a, b, null="\\N", no_group="\\N")
            copy.write("".join(["\t".join(map(str, row)) + "\t1\n" for row in rows]))
            if b == fleet.n or b % (5 * BATCH) == 0:
                say(f"endpoints {b:,}/{fleet.n:,}")


def _lpad(fmt: str, value: str) -> str:
    """printf's ``PREFIX%0Nd`` (the IMSI formats) in PostgreSQL's SQL."""
    match = re.fullmatch(r"(\d*)%0(\d+)d", fmt)
    assert match, fmt
    return f"'{match.group(1)}' || lpad(({value})::text, {match.group(2)}, '0')"


def _sim_sql(fleet: _Fleet) -> str:
    """The linked SIMs, made from the endpoints as ``_Fleet.sim_rows`` makes them."""
    head = int(EID_PREFIX) * 10**12 % 97
    esim = f"({_hash_sql('id::bigint', _HASH_A, fleet.esim_salt)} >> 8) % 100 < {_ESIM_PERCENT}"
    check = f"lpad((98 - ((({head} + id) % 97) * 100) % 97)::text, 2, '0')"
    return (
        "INSERT INTO sim (id, iccid, eid, endpoint_id, created_at) "
        "SELECT row_number() OVER (ORDER BY id), iccid, "
        f"CASE WHEN {esim} THEN '{EID_PREFIX}' || lpad(id::text, 12, '0') || {check} END, "
        "id, date_trunc('day', created_at) FROM endpoint WHERE iccid <> '' ORDER BY id"
    )


def _imsi_sql(fleet: _Fleet) -> str:
    """Every IMSI, made from the SIMs as ``_Fleet.imsi_rows`` makes them."""
    h = _hash_sql(f"COALESCE(s.endpoint_id, s.id - {fleet.linked} + {fleet.n})::bigint",
                  _HASH_B, fleet.imsi_salt)
    count = (f"CASE WHEN ({h} >> 8) % 100 < {_MULTI_IMSI_PERCENT} "
             f"THEN 2 + (({h} >> 4) & 1) ELSE 1 END")
    homes = " ".join(f"WHEN '{r.code[:2]}' THEN {r.home}" for r in REGIONS if r.home)
    network = " ".join(f"WHEN {k} THEN {_lpad(fmt, f'{first} + s.id')}"
                       for k, (fmt, first) in enumerate(IMSI_NETWORKS))
    return (
        "INSERT INTO imsi (sim_id, position, imsi) "
        f"SELECT s.id, p.position, CASE (CASE substr(e.name, 4, 2) {homes} ELSE 0 END "
        f"+ p.position) % 3 {network} END "
        "FROM sim s LEFT JOIN endpoint e ON e.id = s.endpoint_id "
        f"CROSS JOIN generate_series(0, 2) AS p(position) WHERE p.position < {count} "
        "ORDER BY s.id, p.position"
    )


_TAGS_SQL = (
    "INSERT INTO endpoint_tag (tag, endpoint_id) "
    "SELECT t.tag, e.id FROM endpoint e "
    "CROSS JOIN LATERAL unnest(string_to_array(e.tags, ' ')) AS t(tag) ORDER BY e.id, t.tag"
)


def _foreign_keys(cursor: Any) -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of every foreign key of the loaded tables."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
        (list(_LOADED),))
    return [(str(t), str(n), str(d)) for t, n, d in cursor.fetchall()]


def load(fleet: _Fleet, say: Callable[[str], None]) -> None:
    """Everything, inside the caller's transaction (see the module's docstring)."""
    cursor = database.connection().cursor()
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cursor.execute("SET LOCAL synchronous_commit = off")
    keys = _foreign_keys(cursor)
    for table, name, _ in keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    _copy(cursor, "endpoint_group", ("id", "name", "description", "apn", "ip_pool",
                                     "created_at"), fleet.group_rows())
    _copy(cursor, "operator", ("username", "role", "created_at", "created_by"),
          fleet.operator_rows())
    _copy_endpoints(cursor, fleet, say)
    say("SIMs")
    cursor.execute(_sim_sql(fleet))
    _copy(cursor, "sim", ("id", "iccid", "eid", "created_at"), fleet.pool_rows())
    say("IMSIs")
    cursor.execute(_imsi_sql(fleet))
    say("tags")
    cursor.execute(_TAGS_SQL)
    say("audit trail and jobs")
    _copy(cursor, "audit_event", ("at", "actor", "action", "endpoint_id", "iccid",
                                  "from_state", "to_state", "detail", "job_id"),
          fleet.audit_rows())
    _copy(cursor, "job", ("id", "action", "actor", "params", "status", "total", "applied",
                          "skipped", "failed", "last_id", "created_at", "heartbeat",
                          "finished_at", "message"), fleet.job_rows())
    _copy(cursor, "job_item", ("job_id", "endpoint_id", "iccid", "outcome"),
          fleet.job_item_rows())
    for table in ("endpoint_group", "endpoint", "sim", "job"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
    say("indexes")
    models.create_indexes()
    for table, name, definition in keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    say("statistics")
    cursor.execute("ANALYZE")
