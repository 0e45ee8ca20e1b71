"""The errors core raises for a user's mistake; each says in words what is wrong.

The command line maps each class to an exit code, the console shows the message.
Anything else that escapes core is a bug, not a user's mistake.
"""

from __future__ import annotations


class SimdeckError(Exception):
    """Base of every error that is meant to be shown to the user as it is."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(SimdeckError):
    """A value typed, passed or imported is not valid; names the field and the value."""

    exit_code = 2

    def __init__(self, field: str, value: object, problem: str) -> None:
        shown = "" if value is None or value == "" else f" {value}"
        super().__init__(f"{field}{shown}: {problem}")
        self.field = field
        self.value = value
        self.problem = problem


class InputError(SimdeckError):
    """Input that is wrong as a whole (a CSV file, a reference that matches nothing)."""

    exit_code = 2


class NotFound(InputError):
    """An endpoint, SIM, group, job or operator that does not exist."""


class Refused(SimdeckError):
    """An action the lifecycle, the policy or the data forbids; nothing was changed."""

    exit_code = 1


class Conflict(Refused):
    """Someone else changed the record since it was read; nothing was overwritten."""


class Busy(SimdeckError):
    """The database stayed locked by another writer for longer than we wait."""

    exit_code = 1


class PermissionDenied(SimdeckError):
    """The operator's role (or the read-only mode) does not allow the action."""

    exit_code = 3
