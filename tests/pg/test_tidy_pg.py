"""``simdeck db tidy`` on PostgreSQL: refused, nothing to do there."""

from __future__ import annotations

import pytest

from simdeck.core import auth, text_index
from simdeck.core.errors import Refused


def test_tidy_is_refused_on_postgresql_with_what_keeps_its_indexes(
    store: str, admin: auth.Actor
) -> None:
    with pytest.raises(Refused) as refused:
        text_index.tidy_store(admin, store)
    assert str(refused.value) == (
        "nothing to tidy on PostgreSQL: its trigram indexes (pg_trgm) are kept by PostgreSQL "
        "itself (autovacuum); simdeck db tidy is for SQLite")
    assert refused.value.exit_code == 1
