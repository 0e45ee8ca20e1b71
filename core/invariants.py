"""The rules of lifecycle.md that hold at every moment, checked in SQL over the whole store.

Used by the tests (state machine, concurrency, crash) and by ``simdeck check``; each
returns sentences naming what is wrong, an empty list when all holds.
"""

from __future__ import annotations

from .db import database
from .lifecycle import LIVE_ACTIVE, State

_ACTIVE = ", ".join(f"'{s.value}'" for s in LIVE_ACTIVE)

#: (rule, SQL returning offending endpoint ids or rows, sentence)
_CHECKS: list[tuple[str, str]] = [
    (
        "a SIM is linked to at most one endpoint and an endpoint has at most one SIM",
        "SELECT endpoint_id FROM sim WHERE endpoint_id IS NOT NULL "
        "GROUP BY endpoint_id HAVING COUNT(*) > 1",
    ),
    (
        "an endpoint in Hold has no SIM",
        "SELECT e.id FROM endpoint e JOIN sim s ON s.endpoint_id = e.id WHERE e.state = 'hold'",
    ),
    (
        "an endpoint out of Hold has a SIM (a Terminated one has the SIM it had)",
        "SELECT e.id FROM endpoint e LEFT JOIN sim s ON s.endpoint_id = e.id "
        "WHERE s.id IS NULL AND (e.state NOT IN ('hold', 'terminated') OR "
        "(e.state = 'terminated' AND e.state_before_termination <> 'hold'))",
    ),
    (
        "the endpoint's ICCID is its SIM's",
        "SELECT e.id FROM endpoint e LEFT JOIN sim s ON s.endpoint_id = e.id "
        "WHERE e.iccid <> COALESCE(s.iccid, '')",
    ),
    (
        "every state is a display state",
        "SELECT id FROM endpoint WHERE state NOT IN ("
        + ", ".join(f"'{s.value}'" for s in State)
        + ")",
    ),
    (
        "Pending means no group; Pre-Active, Active, Idle and Detached mean a group",
        "SELECT id FROM endpoint WHERE (state = 'pending' AND group_id IS NOT NULL) OR "
        f"(state IN ('pre-active', {_ACTIVE}) AND group_id IS NULL)",
    ),
    (
        "a Terminated endpoint records when and from which state; no other does",
        "SELECT id FROM endpoint WHERE (state = 'terminated') <> "
        "(terminated_at IS NOT NULL AND state_before_termination IS NOT NULL)",
    ),
    (
        "static IPs are unique among live endpoints",
        "SELECT static_ip FROM endpoint WHERE static_ip IS NOT NULL AND state <> 'terminated' "
        "GROUP BY static_ip HAVING COUNT(*) > 1",
    ),
    (
        "the endpoint's tags are its tag rows",
        "SELECT e.id FROM endpoint e LEFT JOIN (SELECT endpoint_id, COUNT(*) AS n "
        "FROM endpoint_tag GROUP BY endpoint_id) t ON t.endpoint_id = e.id "
        "WHERE COALESCE(t.n, 0) <> (CASE WHEN e.tags = '' THEN 0 ELSE "
        "LENGTH(e.tags) - LENGTH(REPLACE(e.tags, ' ', '')) + 1 END)",
    ),
]

_AUDIT_CHECK = (
    "the latest state-changing audit event of each endpoint ends in its state",
    "SELECT e.id FROM endpoint e JOIN audit_event a ON a.id = ("
    "SELECT MAX(id) FROM audit_event WHERE endpoint_id = e.id AND to_state IS NOT NULL) "
    "WHERE a.to_state <> e.state",
)


def violations(*, audit: bool = True, limit: int = 5) -> list[str]:
    """Every rule broken right now, with up to ``limit`` offending ids each."""
    found = []
    checks = _CHECKS + ([_AUDIT_CHECK] if audit else [])
    for rule, sql in checks:
        rows = database.execute_sql(f"{sql} LIMIT {int(limit)}").fetchall()
        if rows:
            found.append(f"{rule}: broken by {', '.join(str(r[0]) for r in rows)}")
    return found


def unaudited_endpoints(limit: int = 5) -> list[int]:
    """Endpoints with no audit event at all (every endpoint is created through core)."""
    rows = database.execute_sql(
        "SELECT e.id FROM endpoint e WHERE NOT EXISTS "
        f"(SELECT 1 FROM audit_event a WHERE a.endpoint_id = e.id) LIMIT {int(limit)}"
    ).fetchall()
    return [r[0] for r in rows]
