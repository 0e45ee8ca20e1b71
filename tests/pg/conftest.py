"""The PostgreSQL-only suites: collected when SIMDECK_TEST_PG names a server (the
PostgreSQL lane of .ci/run), since there is nothing for them to check on SQLite."""

from __future__ import annotations

from tests.conftest import PG_URL

collect_ignore_glob = [] if PG_URL else ["test_*.py"]
