"""Reading the store, by subject; every name callers use is re-exported here.

- ``filters``: the filter bar and the search box as one SQL condition.
- ``endpoints``: the endpoint list's keyset pages, counts, positions and jump keys.
- ``views``: one endpoint named by id or ICCID, and its full view.
- ``audit``: an endpoint's history, the audit log's pages, typed times.
- ``sims``: the link-SIM picker's pool and the SIM inventory.
- ``groups``: Endpoint Groups and tags as lists.
"""

from __future__ import annotations

from .audit import (
    AuditFilter,
    audit_count,
    audit_for,
    audit_id_at,
    audit_page,
    endpoint_names,
    iso,
    parse_when,
)
from .endpoints import (
    PAGE,
    SORT_COLUMNS,
    SORTS,
    Key,
    Row,
    Segment,
    StateCounts,
    count,
    counts_by_state,
    counts_by_state_estimate,
    group_segments,
    hidden_marks,
    key_at,
    page,
    position,
    row,
)
from .filters import (
    NOTHING,
    TOKEN_FIELDS,
    Filter,
    Token,
    condition,
    endpoint_ids,
    parse_state,
    target_condition,
    target_part_conditions,
    target_parts,
    tokenize,
)
from .groups import group_list, group_names, groups_with_counts, tags
from .sims import SIM_STATUSES, SimRow, sim_count, sim_counts, sim_iccid_at, sim_page, sim_status
from .views import EndpointView, audit_endpoint_id, find_endpoint, list_views, view, views

__all__ = [
    "NOTHING", "PAGE", "SIM_STATUSES", "SORTS", "SORT_COLUMNS", "TOKEN_FIELDS",
    "AuditFilter", "EndpointView", "Filter", "Key", "Row", "Segment", "SimRow", "StateCounts",
    "Token",
    "audit_count", "audit_endpoint_id", "audit_for", "audit_id_at", "audit_page", "condition",
    "count", "counts_by_state", "counts_by_state_estimate", "endpoint_ids", "endpoint_names",
    "find_endpoint",
    "group_list", "group_names", "group_segments", "groups_with_counts", "hidden_marks", "iso",
    "key_at", "list_views", "page", "parse_state", "parse_when", "position", "row",
    "target_condition", "target_part_conditions", "target_parts", "sim_count", "sim_counts",
    "sim_iccid_at", "sim_page",
    "sim_status", "tags", "tokenize",
    "view", "views",
]
