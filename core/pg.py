"""What only PostgreSQL has: indexes for its planner, and roles, privileges and triggers
that make the server itself enforce who may do what.

The trust model. On SQLite, roles are kept by simdeck itself: they stop mistakes, not
someone who can write the file. On PostgreSQL each operator connects as their own
login role, and the server enforces:

- who they are: ``session_user``, which a client cannot choose once connected;
- what their role allows: membership of the group roles ``simdeck_viewer`` ⊂
  ``simdeck_operator`` ⊂ ``simdeck_admin`` ⊂ ``simdeck_support`` (each group is a
  member of the one before, as ``lifecycle.Role`` ranks them), with table privileges
  per group;
- the audit's actor: a trigger writes ``session_user`` over whatever the client sent;
- the lifecycle: a trigger refuses any change of ``endpoint.state`` that the table in
  ``core/lifecycle.py`` does not allow (the allowed pairs are generated from it, into
  the table ``lifecycle_transition``), with the role each pair needs; others refuse an
  endpoint created in a state creation cannot give, and the deletion of one that is not
  Terminated (purge is the only delete).

The pairs are written when the schema is created or migrated: a change to the lifecycle
table comes with a schema version whose migration runs ``install`` again.

The owner of the tables (and superusers) are outside these checks, as root is outside a
SQLite file's: they could drop any trigger anyway. The owner installs, builds the demo,
grants roles and repairs; operators, simdeck admins included, connect as their own roles.

Both triggers are per statement with transition tables: a bulk action of 100,000
endpoints is checked by one join, not 100,000 function calls.
"""

from __future__ import annotations

from collections.abc import Iterable

import peewee as pw

from .db import database
from .lifecycle import ACTIONS, LIVE, NETWORK_EVENTS, STATES, Outcome, Role, State, resolve

GROUP_PREFIX = "simdeck_"


def group_role(role: Role) -> str:
    """The PostgreSQL group role of a simdeck role: ``simdeck_operator``."""
    return GROUP_PREFIX + role.value


# --- indexes ------------------------------------------------------------------------

#: Single-column indexes that SQLite extends with the rowid for free; on PostgreSQL the
#: keyset sorts (ORDER BY col, id) need the id in the index, else the planner sorts.
REPLACED = ("endpoint_iccid", "endpoint_name", "endpoint_state", "endpoint_last_activity",
            "endpoint_tags")

#: The name and the reference in lower case, in one column the server keeps
#: (``GENERATED … STORED``): ``lower(name) || U+001F || lower(reference)``. A free text is
#: tested on it by ``LIKE`` with the pattern in lower case, which is what ``ILIKE`` does
#: on a UTF-8 database, without folding two strings on every row: a walk of the name
#: index testing every entry took 1.45 s with two ``ILIKE``s, 0.21 s with this one
#: ``LIKE`` (1M demo). The separator is a control character, which no name, reference or
#: search holds: ``%text%`` + U+001F + ``%`` is the name alone, U+001F + ``%text%`` the
#: reference alone.
FOLDED = "folded"
FOLD_SEPARATOR = "\x1f"
FOLDED_SQL = (
    f"ALTER TABLE endpoint ADD COLUMN IF NOT EXISTS {FOLDED} text GENERATED ALWAYS AS"
    " (lower(name) || chr(31) || lower(reference)) STORED"
)

#: The columns a search tests and a list row shows, beside the ICCID and the name: a walk of
#: those two orders is an index-only scan that tests every condition on the index entry
#: and reads no row (``INCLUDE``; the visibility map set by a VACUUM, which the demo
#: build runs and autovacuum keeps up).
COVERED = f"{FOLDED}, state, group_id, tags, last_activity"

#: One index per keyset sort of core.queries (``ORDER BY <columns>, id``).
SORT_INDEXES: list[str] = [
    "CREATE INDEX IF NOT EXISTS endpoint_iccid_id ON endpoint (iccid, id)"
    f" INCLUDE (name, {COVERED})",
    "CREATE INDEX IF NOT EXISTS endpoint_name_id ON endpoint (name, id)"
    f" INCLUDE (iccid, {COVERED})",
    "CREATE INDEX IF NOT EXISTS endpoint_state_iccid_id ON endpoint (state, iccid, id)",
    "CREATE INDEX IF NOT EXISTS endpoint_tags_id ON endpoint (tags, id)",
    "CREATE INDEX IF NOT EXISTS endpoint_last_activity_id ON endpoint (last_activity, id)",
]

#: Every index of ``endpoint`` is written again by an UPDATE that changes an indexed column
#: (``state``: no HOT update), so a bulk suspend of 100,000 endpoints writes 100,000
#: entries into each. PostgreSQL leaves out the ones no query of its own needs:
#:
#: - ``endpoint_group_id`` (peewee's index of the foreign key): ``endpoint_group_state``
#:   ``(group_id, state)`` starts with the same column, and serves the key checks too;
#: - ``endpoint_reference``: no query compares a whole reference (search is a substring,
#:   through the trigram index);
#: - ``endpoint_terminated_at`` over every row: the purge asks for terminated endpoints
#:   only, so a partial index of those replaces it, and no other change writes to it.
WRITE_ONLY = ("endpoint_group_id", "endpoint_reference", "endpoint_terminated_at")

PARTIAL_INDEXES: list[str] = [
    "CREATE INDEX IF NOT EXISTS endpoint_terminated ON endpoint (terminated_at)"
    " WHERE terminated_at IS NOT NULL",
]

#: The expression of the short texts' index (``TEXT_INDEXES``), as queries write it.
PAIRS = "simdeck_pairs(name) || ' ' || simdeck_pairs(reference)"

#: The substring index over name and reference: pg_trgm, when the server has it, on a
#: table of its own (``endpoint_text``: id, name, reference) kept by the triggers below.
#: On ``endpoint`` itself a GIN index would take a new entry for every trigram of every
#: row a bulk action changes (a change of state is no HOT update): half the time of the
#: action's UPDATE, measured. On its own table it is written only when a name or a
#: reference changes.
#:
#: A text of one or two characters holds no trigram. Its rows are found through a third
#: index, over name and reference with every character doubled (``simdeck_pairs``:
#: ``ab`` → ``aabb``): each trigram of that is a pair of characters of the original, so
#: ``%aabb%`` has the trigrams ``aab`` and ``abb``. The index yields a superset of the
#: rows holding ``ab`` (the row test then reads the name and the reference themselves).
TEXT_INDEXES: list[str] = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS endpoint_text_name_trgm ON endpoint_text"
    " USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS endpoint_text_reference_trgm ON endpoint_text"
    " USING gin (reference gin_trgm_ops)",
    r"CREATE OR REPLACE FUNCTION simdeck_pairs(t text) RETURNS text LANGUAGE sql IMMUTABLE"
    r" PARALLEL SAFE STRICT AS $$ SELECT regexp_replace(t, '(.)', '\1\1', 'g') $$",
    f"CREATE INDEX IF NOT EXISTS endpoint_text_pairs ON endpoint_text USING gin (({PAIRS})"
    " gin_trgm_ops)",
]

#: The trigram indexes of schemas before 7, on ``endpoint``.
OLD_TEXT_INDEXES = ("endpoint_name_trgm", "endpoint_reference_trgm")

TEXT_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS endpoint_text (id integer PRIMARY KEY, "
    "name varchar(255) NOT NULL DEFAULT '', reference varchar(255) NOT NULL DEFAULT '')"
)

#: The copy of names and references, kept per statement (transition tables): a bulk
#: action that changes neither costs one join of its rows and no write.
_TEXT_SYNC_SQL = ["""
CREATE OR REPLACE FUNCTION simdeck_text_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  INSERT INTO endpoint_text (id, name, reference)
    SELECT id, name, reference FROM simdeck_new;
  RETURN NULL;
END $$""", """
CREATE OR REPLACE FUNCTION simdeck_text_updated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  UPDATE endpoint_text t SET name = n.name, reference = n.reference
    FROM simdeck_new n JOIN simdeck_old o ON o.id = n.id
   WHERE t.id = n.id
     AND (n.name IS DISTINCT FROM o.name OR n.reference IS DISTINCT FROM o.reference);
  RETURN NULL;
END $$""", """
CREATE OR REPLACE FUNCTION simdeck_text_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  DELETE FROM endpoint_text WHERE id IN (SELECT id FROM simdeck_old);
  RETURN NULL;
END $$
"""]


def install_text_table() -> None:
    """``endpoint_text``, its triggers, and its rows for the endpoints already there."""
    database.execute_sql(TEXT_TABLE_SQL)
    schema = _schema()
    for sql in _TEXT_SYNC_SQL:
        database.execute_sql(sql.format(schema=schema))
    for event, table, function in (
        ("INSERT", "NEW TABLE AS simdeck_new", "simdeck_text_inserted"),
        ("UPDATE", "OLD TABLE AS simdeck_old NEW TABLE AS simdeck_new", "simdeck_text_updated"),
        ("DELETE", "OLD TABLE AS simdeck_old", "simdeck_text_deleted"),
    ):
        name = f"endpoint_text_{event.lower()}"
        database.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON endpoint")
        database.execute_sql(
            f"CREATE TRIGGER {name} AFTER {event} ON endpoint REFERENCING {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    database.execute_sql(
        "INSERT INTO endpoint_text (id, name, reference) SELECT id, name, reference "
        "FROM endpoint ON CONFLICT (id) DO NOTHING")


def indexes(shared: Iterable[str]) -> list[str]:
    """The statements that create PostgreSQL's indexes: ``shared`` (models.INDEXES) less
    the ones a sort index replaces and the ones no query needs (``WRITE_ONLY``), then the
    sort indexes and the partial ones."""
    left_out = REPLACED + WRITE_ONLY
    kept = [sql for sql in shared if not any(f" {name} ON " in sql for name in left_out)]
    return kept + SORT_INDEXES + PARTIAL_INDEXES


def drop_write_only() -> None:
    """Drop the indexes that only cost a bulk action writes (``WRITE_ONLY``); peewee
    creates ``endpoint_group_id`` with the table."""
    for name in WRITE_ONLY:
        database.execute_sql(f"DROP INDEX IF EXISTS {name}")


def add_folded_column() -> None:
    """The name and reference in lower case (``FOLDED``), if missing."""
    database.execute_sql(FOLDED_SQL)


def cover_sort_indexes() -> None:
    """The ICCID and name sort indexes again, with the columns a search tests
    (``COVERED``): a schema before 10 made them without, one before 11 with the
    reference instead of ``FOLDED``."""
    add_folded_column()
    for name in ("endpoint_iccid_id", "endpoint_name_id"):
        database.execute_sql(f"DROP INDEX IF EXISTS {name}")
    for sql in SORT_INDEXES[:2]:
        database.execute_sql(sql)


def drop_replaced() -> None:
    """Drop the single-column indexes an older schema made (the sort indexes replace them)."""
    for name in REPLACED:
        database.execute_sql(f"DROP INDEX IF EXISTS {name}")


def create_text_indexes() -> None:
    """pg_trgm's indexes; without the extension, substring search still works, by a scan."""
    for name in OLD_TEXT_INDEXES:
        database.execute_sql(f"DROP INDEX IF EXISTS {name}")
    for sql in TEXT_INDEXES:
        try:
            with database.atomic():
                database.execute_sql(sql)
        except pw.DatabaseError:
            return


# --- the lifecycle, as pairs ----------------------------------------------------------


def transitions() -> dict[tuple[State, State], Role]:
    """Every change of ``endpoint.state`` the lifecycle allows, with the least role that
    may make it: each action's rule resolved for every kind of row, and every network
    event. Unchanged states are not listed: they are no change."""
    pairs: dict[tuple[State, State], Role] = {}

    def allow(a: State, b: State | None, role: Role) -> None:
        if b is None or a == b:
            return
        known = pairs.get((a, b))
        pairs[(a, b)] = role if known is None or role.rank < known.rank else known

    for act in ACTIONS.values():
        for src, target in act.transitions.items():
            if target is Outcome.BEFORE_TERMINATION:
                for before in LIVE:
                    allow(src, before, act.role)
                continue
            for has_group in (False, True):
                for immediately in (False, True):
                    allow(src, resolve(target, src, has_group=has_group,
                                       activate_immediately=immediately), act.role)
    for event in NETWORK_EVENTS.values():
        for src in event.sources:
            allow(src, event.result, Role.OPERATOR)
    return dict(sorted(pairs.items(), key=lambda kv: (STATES.index(kv[0][0]),
                                                      STATES.index(kv[0][1]))))


def initial_states() -> frozenset[State]:
    """The states an endpoint is created in: Hold, or what linking a SIM to a Hold
    endpoint makes of it (creating with a SIM and a group is a link)."""
    link = ACTIONS["link"].transitions[State.HOLD]
    made = {resolve(link, State.HOLD, has_group=g, activate_immediately=a)
            for g in (False, True) for a in (False, True)}
    return frozenset({State.HOLD} | {s for s in made if s is not None})


def _transition_rows() -> str:
    return ", ".join(f"('{a.value}', '{b.value}', '{group_role(role)}')"
                     for (a, b), role in transitions().items())


# --- roles, privileges, triggers ------------------------------------------------------

#: What each group may do beyond the group before it. Reinstate is support's: the
#: lifecycle trigger checks it, the privileges are admin's.
#: A saved view is the operator's own (``core/views_saved.py``): every role may keep them.
SAVED_VIEW_PRIVILEGES = [
    "GRANT SELECT, INSERT, UPDATE, DELETE ON saved_view TO {role}",
    "GRANT USAGE ON SEQUENCE saved_view_id_seq TO {role}",
]

PRIVILEGES: dict[Role, list[str]] = {
    Role.VIEWER: [
        "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
        # Everyone keeps views of their own (the console's :save), read-only as they are.
        *SAVED_VIEW_PRIVILEGES,
    ],
    Role.OPERATOR: [
        "GRANT INSERT, UPDATE ON endpoint, sim, job, job_item TO {role}",
        "GRANT INSERT, DELETE ON imsi, endpoint_tag TO {role}",
        "GRANT INSERT, UPDATE, DELETE ON import_row TO {role}",
        "GRANT INSERT ON audit_event TO {role}",
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    ],
    Role.ADMIN: [
        "GRANT DELETE ON endpoint, sim, job, job_item TO {role}",
        "GRANT INSERT, UPDATE, DELETE ON endpoint_group, operator, setting TO {role}",
    ],
    Role.SUPPORT: [],
}

_TRUSTED_SQL = """
CREATE OR REPLACE FUNCTION simdeck_trusted() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT pg_has_role(session_user,
                     (SELECT relowner FROM pg_class WHERE oid = 'endpoint'::regclass),
                     'MEMBER')
$$
"""

_MAY_SQL = """
CREATE OR REPLACE FUNCTION simdeck_may(group_role text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = group_role)
    AND pg_has_role(session_user, group_role, 'MEMBER')
$$
"""

_AUDIT_ACTOR_SQL = """
CREATE OR REPLACE FUNCTION simdeck_audit_actor() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  -- An honest client names itself: then the check is one scan of the new rows.
  IF EXISTS (SELECT 1 FROM simdeck_new WHERE actor IS DISTINCT FROM session_user::text)
     AND NOT simdeck_trusted() THEN
    UPDATE audit_event SET actor = session_user
     WHERE id IN (SELECT id FROM simdeck_new
                   WHERE actor IS DISTINCT FROM session_user::text);
  END IF;
  RETURN NULL;
END $$
"""

_TRANSITION_SQL = """
CREATE OR REPLACE FUNCTION simdeck_check_transition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  bad record;
BEGIN
  IF simdeck_trusted() THEN
    RETURN NULL;
  END IF;
  -- The changes grouped by (from, to) first: one hash join and a few groups, however
  -- many rows the statement changed (a LIMIT over the bare join would invite a nested
  -- loop over both transition tables).
  SELECT p.id, p.old_state, p.new_state INTO bad
    FROM (SELECT o.state AS old_state, n.state AS new_state, min(o.id) AS id
            FROM simdeck_old o JOIN simdeck_new n ON n.id = o.id
           WHERE o.state IS DISTINCT FROM n.state
           GROUP BY 1, 2) p
    LEFT JOIN lifecycle_transition t
      ON t.from_state = p.old_state AND t.to_state = p.new_state
   WHERE t.from_state IS NULL OR NOT simdeck_may(t.group_role)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'endpoint %: % to % is not allowed%', bad.id, bad.old_state,
      bad.new_state,
      CASE WHEN EXISTS (SELECT 1 FROM lifecycle_transition t
                         WHERE t.from_state = bad.old_state AND t.to_state = bad.new_state)
           THEN ' for ' || session_user ELSE ' by the lifecycle' END
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$
"""


_CREATED_SQL = """
CREATE OR REPLACE FUNCTION simdeck_check_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  bad record;
BEGIN
  IF simdeck_trusted() THEN
    RETURN NULL;
  END IF;
  SELECT id, state INTO bad FROM simdeck_new WHERE state NOT IN ({initial}) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'endpoint %: an endpoint is created in {initial_words}, not %',
      bad.id, bad.state USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$
"""

_PURGED_SQL = """
CREATE OR REPLACE FUNCTION simdeck_check_purged() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  bad record;
BEGIN
  IF simdeck_trusted() THEN
    RETURN NULL;
  END IF;
  SELECT id, state INTO bad FROM simdeck_old WHERE state <> 'terminated' LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'endpoint %: only a terminated endpoint is purged, not one in %',
      bad.id, bad.state USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$
"""


def _schema() -> str:
    return str(database.execute_sql("SELECT current_schema()").fetchone()[0])


def create_group_roles() -> bool:
    """The four group roles, each a member of the one before; False when this session may
    not create roles (then the owner alone uses the database until someone who may runs
    ``install``)."""
    steps = []
    previous: Role | None = None
    for role in Role:
        name = group_role(role)
        steps.append(f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN "
                     f"CREATE ROLE {name} NOLOGIN; END IF;")
        if previous is not None:
            steps.append(
                "IF NOT EXISTS (SELECT 1 FROM pg_auth_members WHERE "
                f"roleid = '{group_role(previous)}'::regrole AND member = '{name}'::regrole) "
                f"THEN GRANT {group_role(previous)} TO {name}; END IF;")
        previous = role
    try:
        with database.atomic():
            database.execute_sql("DO $$ BEGIN " + " ".join(steps) + " END $$")
    except pw.DatabaseError:
        return False
    return True


def install() -> None:
    """Roles, privileges, the lifecycle table and both triggers (idempotent)."""
    schema = _schema()
    database.execute_sql(
        "CREATE TABLE IF NOT EXISTS lifecycle_transition (from_state varchar(16) NOT NULL, "
        "to_state varchar(16) NOT NULL, group_role text NOT NULL, "
        "PRIMARY KEY (from_state, to_state))")
    database.execute_sql("DELETE FROM lifecycle_transition")
    database.execute_sql(f"INSERT INTO lifecycle_transition VALUES {_transition_rows()}")
    add_folded_column()
    install_text_table()
    database.execute_sql(_TRUSTED_SQL)
    database.execute_sql(_MAY_SQL)
    database.execute_sql(_AUDIT_ACTOR_SQL.format(schema=schema))
    # peewee hands the driver an empty parameter list: a literal % must be doubled.
    database.execute_sql(_TRANSITION_SQL.format(schema=schema).replace("%", "%%"))
    database.execute_sql("DROP TRIGGER IF EXISTS audit_actor ON audit_event")
    database.execute_sql(
        "CREATE TRIGGER audit_actor AFTER INSERT ON audit_event "
        "REFERENCING NEW TABLE AS simdeck_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION simdeck_audit_actor()")
    initial = sorted(initial_states(), key=STATES.index)
    database.execute_sql(_CREATED_SQL.format(
        schema=schema, initial=", ".join(f"'{s.value}'" for s in initial),
        initial_words=", ".join(s.label for s in initial)).replace("%", "%%"))
    database.execute_sql(_PURGED_SQL.format(schema=schema).replace("%", "%%"))
    database.execute_sql("DROP TRIGGER IF EXISTS endpoint_created ON endpoint")
    database.execute_sql(
        "CREATE TRIGGER endpoint_created AFTER INSERT ON endpoint "
        "REFERENCING NEW TABLE AS simdeck_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION simdeck_check_created()")
    database.execute_sql("DROP TRIGGER IF EXISTS endpoint_purged ON endpoint")
    database.execute_sql(
        "CREATE TRIGGER endpoint_purged AFTER DELETE ON endpoint "
        "REFERENCING OLD TABLE AS simdeck_old "
        "FOR EACH STATEMENT EXECUTE FUNCTION simdeck_check_purged()")
    database.execute_sql("DROP TRIGGER IF EXISTS endpoint_transition ON endpoint")
    database.execute_sql(
        "CREATE TRIGGER endpoint_transition AFTER UPDATE ON endpoint "
        "REFERENCING OLD TABLE AS simdeck_old NEW TABLE AS simdeck_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION simdeck_check_transition()")
    if create_group_roles():
        grant_privileges(schema)


def grant_saved_views() -> None:
    """Schema version 5: the saved views' table granted to the roles (when they exist)."""
    found = database.execute_sql("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                 (group_role(Role.VIEWER),)).fetchone()
    if found is None:
        return
    for sql in SAVED_VIEW_PRIVILEGES:
        database.execute_sql(sql.format(schema=_schema(), role=group_role(Role.VIEWER)))


def grant_privileges(schema: str) -> None:
    """Each group's privileges on the tables (groups inherit from the one before)."""
    for role, statements in PRIVILEGES.items():
        for sql in statements:
            database.execute_sql(sql.format(schema=schema, role=group_role(role)))


# --- who is connected -------------------------------------------------------------------


def session_user() -> str:
    """The role this connection logged in as."""
    return str(database.execute_sql("SELECT session_user").fetchone()[0])


def is_trusted() -> bool:
    """True when the session is the tables' owner (or a superuser)."""
    cursor = database.execute_sql(
        "SELECT pg_has_role(session_user, relowner, 'MEMBER') FROM pg_class "
        "WHERE oid = 'endpoint'::regclass")
    return bool(cursor.fetchone()[0])


def session_role() -> Role | None:
    """The highest simdeck role the session user holds through the group roles."""
    names = [group_role(r) for r in Role]
    cursor = database.execute_sql(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) "
        "AND pg_has_role(session_user, oid, 'MEMBER')", (names,))
    held = {str(r[0]) for r in cursor.fetchall()}
    found = [r for r in Role if group_role(r) in held]
    return found[-1] if found else None


def roles_of_members() -> dict[str, Role]:
    """Every login role that holds a simdeck group, directly or not, with its highest."""
    out: dict[str, Role] = {}
    for role in Role:
        cursor = database.execute_sql(
            "SELECT r.rolname FROM pg_roles r WHERE r.rolcanlogin "
            "AND pg_has_role(r.oid, %s, 'MEMBER') AND NOT r.rolsuper", (group_role(role),))
        for (name,) in cursor.fetchall():
            out[str(name)] = role
    return out


# --- granting ---------------------------------------------------------------------------


class NotAllowed(Exception):
    """The session may not create or grant roles (it needs CREATEROLE, or to be a
    superuser); the server's own message says why."""


def _ident(name: str) -> str:
    """A quoted identifier for a statement that takes no parameters (peewee still hands
    the driver an empty list, so % is doubled)."""
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


def grant(user: str, role: Role, *, password: str | None = None) -> None:
    """Make the login role ``user`` (created when missing) a member of ``simdeck_<role>``
    and of no other simdeck group."""
    try:
        with database.atomic():
            exists = database.execute_sql(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
            if not exists:
                database.execute_sql(f"CREATE ROLE {_ident(user)} LOGIN")
            if password is not None:
                database.execute_sql(
                    f"ALTER ROLE {_ident(user)} PASSWORD "
                    + _literal(password))
            _leave_groups(user, keep=group_role(role))
            database.execute_sql(f"GRANT {group_role(role)} TO {_ident(user)}")
    except (pw.ProgrammingError, pw.InternalError, pw.OperationalError) as exc:
        raise NotAllowed(str(exc).strip().splitlines()[0]) from None


def revoke(user: str) -> None:
    """Take ``user`` out of every simdeck group."""
    try:
        with database.atomic():
            _leave_groups(user, keep=None)
    except (pw.ProgrammingError, pw.InternalError, pw.OperationalError) as exc:
        raise NotAllowed(str(exc).strip().splitlines()[0]) from None


def _leave_groups(user: str, keep: str | None) -> None:
    cursor = database.execute_sql(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s AND g.rolname = ANY(%s)",
        (user, [group_role(r) for r in Role]))
    for (name,) in cursor.fetchall():
        if name != keep:
            database.execute_sql(f"REVOKE {name} FROM {_ident(user)}")


def _literal(text: str) -> str:
    """A string literal for a statement that takes no parameters (ALTER ROLE)."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"
