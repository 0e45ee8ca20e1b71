"""What a front end may offer: the rules core applies, asked before anything is shown.

"What is offered is what is allowed": a key in the footer, an entry in a menu or a
palette, a Yes button is offered only when core would do it. Each rule here is the
one core enforces when the thing is done (the role, the lifecycle table, the
deployment's policy, a job's status, a group's emptiness), so a front end never
offers what must then fail, and never words a rule of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import settings
from .auth import Actor
from .lifecycle import ACTIONS, Action, JobStatus, Role


@dataclass(frozen=True)
class Policy:
    """The deployment's settings that decide what is offered (read with ``read``)."""

    allow_resume: bool = False

    @classmethod
    def read(cls) -> Policy:
        """The policy as stored in the bound database."""
        return cls(allow_resume=settings.allow_resume())

    def permits(self, act: Action) -> bool:
        """True unless the action waits on a setting that is off."""
        return not act.policy or bool(getattr(self, act.policy, False))


def _act(action: str) -> Action | None:
    return ACTIONS.get(action)


def may(actor: Actor | None, action: str, policy: Policy) -> bool:
    """The role and the policy allow ``action`` at all (whatever it is done to)."""
    act = _act(action)
    if act is None or actor is None:
        return False
    return actor.can(act.role) and policy.permits(act)


def policy_refusal(action: str, policy: Policy) -> str | None:
    """Why the deployment's policy refuses ``action``, in words (None when it does not)."""
    act = _act(action)
    if act is None or policy.permits(act):
        return None
    return (f"{act.label.lower()} is not allowed by this deployment's policy ({act.policy} "
            "is off); an admin can turn it on in the console's Settings screen or with: "
            f"simdeck settings set {act.policy} true")


def on_row(actor: Actor | None, action: str, state: str | None, policy: Policy) -> bool:
    """May ``action`` be offered on one endpoint in ``state``? None: no endpoint (an
    empty list), so nothing is offered."""
    act = _act(action)
    if act is None or state is None:
        return False
    return may(actor, action, policy) and act.allowed(state)


def on_marks(
    actor: Actor | None, action: str, states: Mapping[str, int] | Iterable[str],
    policy: Policy,
) -> bool:
    """May ``action`` be offered on a marked set whose endpoints are in ``states`` (the
    states present, or counts per state)? Only when at least one of them is eligible:
    an action that every mark would skip is not offered."""
    act = _act(action)
    if act is None or not act.bulk or not may(actor, action, policy):
        return False
    present = [s for s, n in states.items() if n] if isinstance(states, Mapping) else states
    return any(act.allowed(s) for s in present)


def resume_job(actor: Actor | None, job: Mapping[str, Any] | None, policy: Policy) -> bool:
    """May the job (``jobs.job_view``) be resumed? Its status must allow it (not Done,
    not running), and the actor may do its action under the policy."""
    if job is None or actor is None:
        return False
    try:
        status = JobStatus(str(job.get("status")))
    except ValueError:
        return False
    if not status.resumable:
        return False
    act = _act(str(job.get("action")))
    if act is None:  # an import job: the operator's own role decides (core checks it)
        return actor.can(Role.OPERATOR)
    return may(actor, act.name, policy)


def delete_group(actor: Actor | None, group: Mapping[str, Any] | None) -> bool:
    """May the group be deleted? Admins, and only once no endpoint uses it (terminated
    ones included: ``all_endpoints`` of ``queries.groups_with_counts``)."""
    if group is None or actor is None or not actor.can(Role.ADMIN):
        return False
    return int(group.get("all_endpoints", group.get("endpoints", 0))) == 0


def change_settings(actor: Actor | None) -> bool:
    """May the actor change deployment settings (``settings.set_setting``)?"""
    return actor is not None and actor.can(Role.ADMIN)
