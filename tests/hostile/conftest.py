"""Fixtures of the corpus tests: the CLI runs as the databases' admin; no database stays open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simdeck.core import auth, db


@pytest.fixture(autouse=True)
def as_admin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The OS user running the CLI is the admin who built the test databases."""
    monkeypatch.setattr(auth, "os_user", lambda: "admin")
    yield
    if db.database.obj is not None:
        db.database.close()
