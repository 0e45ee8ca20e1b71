"""The current time as the store keeps it, for code that must not import the models."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """The current time in UTC, without tzinfo, as stored."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
