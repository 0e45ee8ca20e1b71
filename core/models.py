"""The tables: Endpoint Group, SIM (with ordered IMSIs), Endpoint, tags, operators, audit, jobs.

Decisions worth knowing:
- The link lives on the SIM (``sim.endpoint_id``, unique): one constraint keeps both
  halves of rule 1 (a SIM on one endpoint, an endpoint with one SIM). A SIM whose
  ``endpoint_id`` is null is Ready to Activate; otherwise its status is its endpoint's.
- ``endpoint.state`` holds the display state (lifecycle.State); the lifecycle state
  ``active`` is the three display states Active, Idle and Detached.
- ``endpoint.iccid`` and ``endpoint.tags`` are copies kept by core in the same
  statement that changes the SIM link or the tags, so the list can sort and page by
  them at a million rows; the invariant tests check they agree.
- ``last_activity`` is epoch seconds, 0 for never seen, so it sorts by key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import peewee as pw

from .db import database, is_sqlite
from .lifecycle import JobStatus

SCHEMA_VERSION = 11


def utcnow() -> dt.datetime:
    """The current time in UTC, without tzinfo, as stored."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Setting(BaseModel):
    """Deployment settings and the schema version (key → value)."""

    key = pw.CharField(primary_key=True)
    value = pw.TextField()


class EndpointGroup(BaseModel):
    name = pw.CharField(max_length=64, unique=True)
    description = pw.TextField(default="")
    apn = pw.CharField(default="")
    ip_pool = pw.CharField(null=True)
    created_at = pw.DateTimeField(default=utcnow)


class Endpoint(BaseModel):
    iccid = pw.CharField(default="")
    name = pw.CharField(default="")
    reference = pw.CharField(default="")
    tags = pw.CharField(default="")
    group = pw.ForeignKeyField(
        EndpointGroup, null=True, on_delete="RESTRICT", column_name="group_id"
    )
    state = pw.CharField(default="hold")
    state_before_termination = pw.CharField(null=True)
    terminated_at = pw.DateTimeField(null=True)
    activate_immediately = pw.BooleanField(default=True)
    static_ip = pw.CharField(null=True)
    imei_lock = pw.CharField(null=True)
    last_activity = pw.BigIntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)


class Sim(BaseModel):
    iccid = pw.CharField(unique=True)
    eid = pw.CharField(null=True, unique=True)
    endpoint = pw.ForeignKeyField(
        Endpoint, null=True, unique=True, on_delete="RESTRICT", column_name="endpoint_id"
    )
    created_at = pw.DateTimeField(default=utcnow)


class Imsi(BaseModel):
    sim = pw.ForeignKeyField(Sim, on_delete="CASCADE", column_name="sim_id")
    position = pw.SmallIntegerField()
    imsi = pw.CharField(unique=True)

    class Meta:
        indexes = ((("sim", "position"), True),)


class EndpointTag(BaseModel):
    tag = pw.CharField()
    endpoint = pw.ForeignKeyField(Endpoint, on_delete="CASCADE", column_name="endpoint_id")

    class Meta:
        primary_key = pw.CompositeKey("tag", "endpoint")


class Operator(BaseModel):
    username = pw.CharField(unique=True)
    role = pw.CharField()
    created_at = pw.DateTimeField(default=utcnow)
    created_by = pw.CharField(default="")


class SavedView(BaseModel):
    """An operator's named filter and sort of the Endpoints screen (``:save``, ``:view``)."""

    owner = pw.CharField()
    name = pw.CharField(max_length=64)
    #: The filter as ``Filter.to_dict`` stores it, in JSON.
    filter = pw.TextField(default="{}")
    sort = pw.CharField(default="name")
    descending = pw.BooleanField(default=False)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "name"), True),)


class Job(BaseModel):
    action = pw.CharField()
    actor = pw.CharField()
    params = pw.TextField(default="{}")
    status = pw.CharField(default=JobStatus.RUNNING.value)
    total = pw.IntegerField(default=0)
    applied = pw.IntegerField(default=0)
    skipped = pw.IntegerField(default=0)
    failed = pw.IntegerField(default=0)
    #: Highest endpoint id already processed; resuming starts after it.
    last_id = pw.BigIntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow)
    heartbeat = pw.DateTimeField(default=utcnow)
    finished_at = pw.DateTimeField(null=True)
    message = pw.TextField(default="")


class JobItem(BaseModel):
    """One endpoint of a job and what happened to it: null until processed."""

    #: No index of its own: the primary key (job_id, endpoint_id) starts with it.
    job = pw.ForeignKeyField(Job, on_delete="CASCADE", column_name="job_id", index=False)
    endpoint_id = pw.BigIntegerField()
    iccid = pw.CharField(default="")
    outcome = pw.CharField(null=True)

    class Meta:
        primary_key = pw.CompositeKey("job", "endpoint_id")


class ImportRow(BaseModel):
    """A validated row of a large SIM import, staged so that the import is written in short
    transactions, each taking the row it starts after (``job.last_id``) from here, and can
    be finished or undone after a crash (``importer``). Deleted once the import is over."""

    job = pw.ForeignKeyField(Job, on_delete="CASCADE", column_name="job_id", index=False)
    #: The row number in the file (header = 1): the import's cursor.
    row = pw.IntegerField()
    iccid = pw.CharField()
    eid = pw.CharField(null=True)
    #: The IMSIs in order, separated by spaces.
    imsis = pw.TextField()
    name = pw.CharField(default="")
    reference = pw.CharField(default="")
    #: The tags, separated by spaces.
    tags = pw.TextField(default="")

    class Meta:
        primary_key = pw.CompositeKey("job", "row")


class AuditEvent(BaseModel):
    at = pw.DateTimeField(default=utcnow)
    actor = pw.CharField()
    action = pw.CharField()
    #: Not a foreign key: the trail outlives a purged endpoint.
    endpoint_id = pw.BigIntegerField(null=True)
    iccid = pw.CharField(default="")
    from_state = pw.CharField(null=True)
    to_state = pw.CharField(null=True)
    detail = pw.TextField(default="")
    job = pw.BigIntegerField(null=True, column_name="job_id")


TABLES: list[type[BaseModel]] = [
    Setting,
    SavedView,
    EndpointGroup,
    Endpoint,
    Sim,
    Imsi,
    EndpointTag,
    Operator,
    Job,
    JobItem,
    ImportRow,
    AuditEvent,
]

JOB_ITEM_SKIPPED = (
    "CREATE INDEX IF NOT EXISTS job_item_skipped ON job_item (job_id, outcome)"
    " WHERE outcome <> 'applied'"
)

#: Schema 6, for screens that open at once at a million: the audit log filtered by action,
#: and a job's events (the Jobs screen's drill-down), newest first, each a range of its
#: own index rather than a walk of a million events; the static IPs with their states.
SCREEN_INDEXES: list[str] = [
    "CREATE INDEX IF NOT EXISTS audit_action ON audit_event (action, id)",
    "CREATE INDEX IF NOT EXISTS audit_job ON audit_event (job_id, id) WHERE job_id IS NOT NULL",
    # A bulk preview into a group with an IP pool reads every static IP with its state
    # from this index alone, instead of 100,000 rows in address order.
    "CREATE INDEX IF NOT EXISTS endpoint_static_ip_state ON endpoint (static_ip, state)"
    " WHERE static_ip IS NOT NULL",
]

#: Indexes created after the tables, so a bulk load (the demo) can add them last.
INDEXES: list[str] = [
    "CREATE INDEX IF NOT EXISTS endpoint_iccid ON endpoint (iccid)",
    "CREATE INDEX IF NOT EXISTS endpoint_name ON endpoint (name)",
    "CREATE INDEX IF NOT EXISTS endpoint_state ON endpoint (state, iccid)",
    "CREATE INDEX IF NOT EXISTS endpoint_group_state ON endpoint (group_id, state)",
    "CREATE INDEX IF NOT EXISTS endpoint_last_activity ON endpoint (last_activity)",
    "CREATE INDEX IF NOT EXISTS endpoint_tags ON endpoint (tags)",
    "CREATE INDEX IF NOT EXISTS endpoint_reference ON endpoint (reference)",
    "CREATE INDEX IF NOT EXISTS endpoint_terminated_at ON endpoint (terminated_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS endpoint_static_ip ON endpoint (static_ip)"
    " WHERE static_ip IS NOT NULL AND state <> 'terminated'",
    "CREATE INDEX IF NOT EXISTS endpoint_imei_lock ON endpoint (imei_lock)"
    " WHERE imei_lock IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS sim_ready ON sim (iccid) WHERE endpoint_id IS NULL",
    "CREATE INDEX IF NOT EXISTS endpoint_tag_endpoint ON endpoint_tag (endpoint_id)",
    "CREATE INDEX IF NOT EXISTS audit_endpoint ON audit_event (endpoint_id, id)",
    "CREATE INDEX IF NOT EXISTS audit_at ON audit_event (at)",
    "CREATE INDEX IF NOT EXISTS audit_actor ON audit_event (actor, id)",
    *SCREEN_INDEXES,
    # Only the skipped items: the applied ones (nearly all) and the pending ones cost a
    # bulk job no index write, and a job's reasons are still read from the index alone.
    JOB_ITEM_SKIPPED,
]

#: Schema 9, SQLite only: every distinct trigram (three characters, ASCII letters in
#: lower case) of the names and references, so that a text of one or two characters is
#: looked up as the trigrams that hold it (core/queries/filters.py) instead of testing
#: every name. Kept by triggers on insert and on a text edit; a trigram no longer used
#: stays (the list only needs to hold every one in use). The trigrams of a text are
#: read from its first TRIGRAM_SPAN positions: a longer one is an odd text.
TRIGRAM_SPAN = 256
#: The positions 1 … TRIGRAM_SPAN as a JSON list, each written in four characters
#: ("  1,  2, …, 256"): a trigger takes the first ``4 × (length − 2) − 1`` of them, the
#: positions of one text's trigrams, and reads no more of the list than that.
_POSITIONS = "'" + ",".join(f"{k:>3}" for k in range(1, TRIGRAM_SPAN + 1)) + "'"
#: A name or reference of one or two characters (no trigram), or with some past
#: TRIGRAM_SPAN: the endpoints ``endpoint_odd_text`` lists (an empty one holds no text).
ODD_TEXT = (f"length(name) IN (1, 2) OR length(name) > {TRIGRAM_SPAN + 2}"
            f" OR length(reference) IN (1, 2) OR length(reference) > {TRIGRAM_SPAN + 2}")


def _trigrams_of(column: str) -> str:
    return (f"SELECT lower(substr(new.{column}, p.value, 3)) FROM json_each('[' || "
            f"substr({_POSITIONS}, 1, 4 * (length(new.{column}) - 2) - 1) || ']') AS p")


_NEW_TRIGRAMS = ("INSERT OR IGNORE INTO endpoint_trigram (term) " + _trigrams_of("name")
                 + " UNION ALL " + _trigrams_of("reference") + ";")
SQLITE_TRIGRAMS: list[str] = [
    "CREATE TABLE IF NOT EXISTS endpoint_trigram (term TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS endpoint_trigram_ai AFTER INSERT ON endpoint BEGIN "
    + _NEW_TRIGRAMS + " END",
    "CREATE TRIGGER IF NOT EXISTS endpoint_trigram_au AFTER UPDATE OF name, reference"
    " ON endpoint BEGIN " + _NEW_TRIGRAMS + " END",
]


#: Schema 8, SQLite only: the name order with the reference and the tags beside it, so
#: that a search walking the list sorted by name, or scanning every name and reference
#: for a short or negated text, reads this index alone and fetches a row only when its
#: text and tags match.
SQLITE_SEARCH_INDEXES: list[str] = [
    "CREATE INDEX IF NOT EXISTS endpoint_name_text ON endpoint (name, id, reference, tags)",
]

#: Schema 9, SQLite only, created with ``INDEXES`` (a bulk load keeps them as rows arrive):
#: an EID or IMSI condition tested on each endpoint reads the first two alone; the third
#: lists the few endpoints whose name or reference the trigram list cannot cover.
SQLITE_INDEXES: list[str] = [
    "CREATE INDEX IF NOT EXISTS sim_endpoint_eid ON sim (endpoint_id, eid)",
    "CREATE INDEX IF NOT EXISTS imsi_sim_imsi ON imsi (sim_id, imsi)",
    f"CREATE INDEX IF NOT EXISTS endpoint_odd_text ON endpoint (id) WHERE {ODD_TEXT}",
]


def create_search_indexes() -> None:
    """``SQLITE_SEARCH_INDEXES``, if missing. A bulk load creates them after rebuilding
    the trigram index: the rebuild reads every row through the narrowest index that has
    its columns, and this one would hand them over in name order, not in id order (the
    index would be written as many segments, and slower to search)."""
    for sql in SQLITE_SEARCH_INDEXES:
        database.execute_sql(sql)


#: The substring index over name and reference (FTS5 trigram); kept by triggers.
SQLITE_FTS: list[str] = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS endpoint_text USING fts5("
    "name, reference, content='endpoint', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS endpoint_text_ai AFTER INSERT ON endpoint BEGIN "
    "INSERT INTO endpoint_text(rowid, name, reference) VALUES (new.id, new.name, new.reference);"
    " END",
    "CREATE TRIGGER IF NOT EXISTS endpoint_text_ad AFTER DELETE ON endpoint BEGIN "
    "INSERT INTO endpoint_text(endpoint_text, rowid, name, reference)"
    " VALUES ('delete', old.id, old.name, old.reference); END",
    "CREATE TRIGGER IF NOT EXISTS endpoint_text_au AFTER UPDATE OF name, reference ON endpoint"
    " BEGIN INSERT INTO endpoint_text(endpoint_text, rowid, name, reference)"
    " VALUES ('delete', old.id, old.name, old.reference);"
    " INSERT INTO endpoint_text(rowid, name, reference) VALUES (new.id, new.name, new.reference);"
    " END",
]

#: PostgreSQL's own indexes, roles, privileges and triggers are in core/pg.py.


def create_schema(*, indexes: bool = True) -> None:
    """Create every table (and, unless told not to, every index) on the bound database."""
    database.create_tables(TABLES, safe=True)
    if not is_sqlite():
        from . import pg

        pg.install()
    if indexes:
        create_indexes()
    Setting.insert(key="schema_version", value=str(SCHEMA_VERSION)).on_conflict_ignore().execute()


def create_indexes(*, search: bool = True) -> None:
    """Create the secondary indexes and the substring index, if missing (on SQLite, the
    covering name index too unless ``search`` is False: see ``create_search_indexes``)."""
    if is_sqlite():
        for sql in INDEXES + SQLITE_INDEXES + SQLITE_FTS + SQLITE_TRIGRAMS:
            database.execute_sql(sql)
        apply_text_settings()
        if search:
            create_search_indexes()
        return
    from . import pg

    for sql in pg.indexes(INDEXES):
        database.execute_sql(sql)
    pg.drop_write_only()
    pg.create_text_indexes()


def apply_text_settings() -> None:
    """The trigram index's merge settings (``text_index.SETTINGS``), SQLite only."""
    from . import text_index

    for sql, params in text_index.settings_sql():
        database.execute_sql(sql, params)


def has_schema() -> bool:
    """True when the bound database already holds simdeck's tables."""
    return Setting.table_exists()


def schema_version() -> int:
    """The schema version the bound database was written with; 0 when it has none, -1 when
    the stored value is not a number (``store.open_store`` refuses both)."""
    row = Setting.get_or_none(Setting.key == "schema_version")
    if row is None:
        return 0
    value = str(row.value).strip()
    return int(value) if value.isdigit() else -1


def _v2_job_item_indexes() -> None:
    """Version 2: job items' outcome index holds only the skipped ones; no job_id index.

    A bulk job marks 100,000 items applied: with the full (job_id, outcome) index and the
    separate job_id index each mark was two more index writes, a tenth of the job's time.
    """
    database.execute_sql("DROP INDEX IF EXISTS job_item_outcome")
    database.execute_sql("DROP INDEX IF EXISTS job_item_job_id")
    database.execute_sql(JOB_ITEM_SKIPPED)


def _v4_postgres() -> None:
    """Version 4, PostgreSQL only: an index per keyset sort, the roles, privileges and
    triggers of core/pg.py."""
    if is_sqlite():
        return
    from . import pg

    pg.drop_replaced()
    create_indexes()
    pg.install()


def _v3_import_rows() -> None:
    """Version 3: the staging table of large imports (``ImportRow``)."""
    database.create_tables([ImportRow], safe=True)


def _v5_saved_views() -> None:
    """Version 5: each operator's saved views (``SavedView``); on PostgreSQL, granted to
    the roles as core/pg.py says."""
    database.create_tables([SavedView], safe=True)
    if not is_sqlite():
        from . import pg

        pg.grant_saved_views()


def _v6_screen_indexes() -> None:
    """Version 6: the audit log's action and job indexes and the static IPs' with their
    states (``SCREEN_INDEXES``), on SQLite and PostgreSQL alike."""
    for sql in SCREEN_INDEXES:
        database.execute_sql(sql)


def _v7_postgres_write_indexes() -> None:
    """Version 7, PostgreSQL only: fewer indexes for a bulk action to write
    (``pg.WRITE_ONLY``), the purge's partial one instead, and the trigram indexes on a
    table of their own (``pg.TEXT_INDEXES``), filled from the endpoints."""
    if is_sqlite():
        return
    from . import pg

    pg.install()
    create_indexes()
    database.execute_sql("ANALYZE endpoint_text")


def _v8_search_indexes() -> None:
    """Version 8, SQLite only: the covering name index searches walk and scan
    (``SQLITE_SEARCH_INDEXES``), and the trigram index's merge settings
    (``text_index.SETTINGS``), which a database built before them never stored."""
    if not is_sqlite():
        return
    create_search_indexes()
    if database.table_exists("endpoint_text"):
        apply_text_settings()


def _v9_short_text_search() -> None:
    """Version 9, SQLite only: the trigram list of short texts (``SQLITE_TRIGRAMS``), filled
    from the trigram index, and the odd texts' and the SIM side's search indexes
    (``SQLITE_INDEXES``)."""
    if not is_sqlite():
        return
    from . import text_index

    for sql in SQLITE_TRIGRAMS + SQLITE_INDEXES:
        database.execute_sql(sql)
    if database.table_exists("endpoint_text"):
        text_index.fill_trigrams(database.connection())


def _v10_postgres_search_indexes() -> None:
    """Version 10, PostgreSQL only: the ICCID and name sort indexes cover what a search
    tests (``pg.COVERED``: a walk reads no row), and the index of doubled characters
    finds a text of two characters (``pg.TEXT_INDEXES``). ``migrate`` then runs
    ``VACUUM endpoint`` (outside the transaction) so that walks read the index alone."""
    if is_sqlite():
        return
    from . import pg

    pg.cover_sort_indexes()
    pg.create_text_indexes()


def _v11_postgres_folded_text() -> None:
    """Version 11, PostgreSQL only: the name and reference in lower case, kept by the
    server (``pg.FOLDED``), which the ICCID and name sort indexes cover instead of the
    reference: a search tests one ``LIKE`` where it folded two strings with ``ILIKE``.
    Adding the column writes the table anew (about 10 s at a million endpoints, with
    the table locked); ``migrate`` then runs ``VACUUM ANALYZE endpoint``."""
    if is_sqlite():
        return
    from . import pg

    pg.cover_sort_indexes()


#: version → the function that brings a database from version-1 to version: plain SQL
#: statements on the bound database, run in one transaction with the version's bump.
MIGRATIONS: dict[int, Callable[[], None]] = {
    2: _v2_job_item_indexes, 3: _v3_import_rows, 4: _v4_postgres, 5: _v5_saved_views,
    6: _v6_screen_indexes, 7: _v7_postgres_write_indexes, 8: _v8_search_indexes,
    9: _v9_short_text_search,
    10: _v10_postgres_search_indexes, 11: _v11_postgres_folded_text,
}


def migrate() -> None:
    """Bring an older database up to SCHEMA_VERSION, one step at a time."""
    current = schema_version()
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with database.atomic():
            step = MIGRATIONS.get(version)
            if step is not None:
                step()
            Setting.insert(key="schema_version", value=str(version)).on_conflict(
                conflict_target=[Setting.key], update={Setting.value: str(version)}
            ).execute()
    if not is_sqlite() and current < 11 and not database.in_transaction():
        # Versions 10's and 11's covering indexes answer a walk alone once the visibility
        # map is set: a VACUUM, which no transaction may hold; with the statistics a
        # search's probe reads.
        database.execute_sql("VACUUM ANALYZE endpoint")
