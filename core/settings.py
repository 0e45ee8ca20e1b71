"""Deployment settings: policy kept in the database (``simdeck settings``), changed by admins
and audited; a setting never changed has its default."""

from __future__ import annotations

import json

from . import models
from .auth import Actor
from .db import retrying
from .errors import InputError
from .lifecycle import AuditAction, Role
from .models import AuditEvent

#: Deployment settings: key → (default, what it decides).
SETTINGS: dict[str, tuple[str, str]] = {
    "allow_resume": (
        "false",
        "may a Suspended endpoint be resumed to Active (off as in the Stacuity document; "
        "BICS, Soracom and emnify allow it)",
    ),
}

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def setting(key: str) -> str:
    """A deployment setting's value (its default when never set)."""
    row = models.Setting.get_or_none(models.Setting.key == key)
    return row.value if row else SETTINGS[key][0]


def all_settings() -> list[dict[str, str]]:
    """Every deployment setting: its key, value now, default and what it decides."""
    return [
        {"key": key, "value": setting(key), "default": default, "about": about}
        for key, (default, about) in SETTINGS.items()
    ]


def allow_resume() -> bool:
    """The deployment's policy: may a Suspended endpoint be resumed?"""
    return setting("allow_resume").lower() in _TRUE


def set_setting(actor: Actor, key: str, value: str) -> None:
    """Change a deployment setting (admins), audited."""
    actor.require(Role.ADMIN, "change settings")
    if key not in SETTINGS:
        raise InputError(f"setting {key!r} does not exist; settings: {', '.join(SETTINGS)}")
    norm = value.strip().lower()
    if norm not in _TRUE + _FALSE:
        raise InputError(f"setting {key}: {value!r} is not true or false")
    norm = "true" if norm in _TRUE else "false"

    def do() -> None:
        models.Setting.insert(key=key, value=norm).on_conflict(
            conflict_target=[models.Setting.key], update={models.Setting.value: norm}
        ).execute()
        AuditEvent.insert(
            at=models.utcnow(), actor=actor.name, action=AuditAction.SETTING_CHANGED,
            detail=json.dumps({key: norm}),
        ).execute()

    retrying(do)
