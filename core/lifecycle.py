"""The lifecycle of lifecycle.md as data: display states, operator actions, network events.

Everything that needs to know which action is allowed from which state — the SQL
``WHERE state IN (...)``, the refusal messages, the console's actions menu, the
command line's errors and the state diagram in the docs — reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class State(StrEnum):
    """The display state an operator sees; stored as is in ``endpoint.state``."""

    HOLD = "hold"
    PENDING = "pending"
    PRE_ACTIVE = "pre-active"
    ACTIVE = "active"
    IDLE = "idle"
    DETACHED = "detached"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"

    @property
    def label(self) -> str:
        """The state as the portal writes it: ``Pre-Active``."""
        return "-".join(part.capitalize() for part in self.value.split("-"))


STATES: tuple[State, ...] = tuple(State)

#: How long a Terminated endpoint is kept before it may be purged.
RETENTION_DAYS = 90

#: Active, Idle and Detached are one lifecycle state seen through network presence.
LIVE_ACTIVE: frozenset[State] = frozenset({State.ACTIVE, State.IDLE, State.DETACHED})
#: Every state but Terminated.
LIVE: frozenset[State] = frozenset(STATES) - {State.TERMINATED}
#: States that have a SIM linked.
WITH_SIM: frozenset[State] = frozenset(STATES) - {State.HOLD}

PASSES_TRAFFIC: dict[State, str] = {
    State.HOLD: "No",
    State.PENDING: "No",
    State.PRE_ACTIVE: "No",
    State.ACTIVE: "Yes",
    State.IDLE: "No active session",
    State.DETACHED: "No",
    State.SUSPENDED: "No",
    State.TERMINATED: "No",
}

MEANING: dict[State, str] = {
    State.HOLD: "No SIM linked",
    State.PENDING: "SIM linked, not yet in a group",
    State.PRE_ACTIVE: "SIM linked and grouped, waiting for activation",
    State.ACTIVE: "Grouped, provisioned; in a data session or not yet seen",
    State.IDLE: "Active, attached to a network, no current data session",
    State.DETACHED: "Active, not seen on any mobile network",
    State.SUSPENDED: "Temporarily disabled; any session ended",
    State.TERMINATED: f"Permanently disabled; kept {RETENTION_DAYS} days, then deleted",
}

READY_TO_ACTIVATE = "Ready to Activate"


class Outcome(StrEnum):
    """Target rules whose result depends on the endpoint row, not only its state."""

    SAME = "same"  # the state does not change
    BY_ACTIVATE_IMMEDIATELY = "active or pre-active"  # Active if activate_immediately
    BY_GROUP = "by group"  # no group: Pending; group: as BY_ACTIVATE_IMMEDIATELY
    BEFORE_TERMINATION = "state before termination"
    DELETED = "deleted"


Target = State | Outcome


class Role(StrEnum):
    """Operator roles, each including every right of the one before."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    SUPPORT = "support"

    @property
    def rank(self) -> int:
        """Position in viewer < operator < admin < support."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """True when this role includes the rights of ``needed``."""
        return self.rank >= needed.rank


class Confirm(StrEnum):
    """How an action asks before it changes anything."""

    YES = "yes"  # Yes/No, the answer starts on Yes
    NO_FIRST = "no-first"  # Yes/No starting on No: the action cuts a device off
    TYPED = "typed"  # the operator types "<action> N": the action cannot be undone


@dataclass(frozen=True)
class Action:
    """One operator action: who may do it, from which states, into which, and how it asks."""

    name: str
    label: str
    description: str
    role: Role
    transitions: dict[State, Target]
    #: Offered on the endpoint under the cursor.
    row: bool = True
    #: Offered on marked endpoints or a whole filter, run as a job.
    bulk: bool = True
    confirm: Confirm = Confirm.YES
    #: What the action does, as a progress line says it ("Suspending 41,000 of 100,000").
    progress: str = ""
    #: Said before the confirmation; ``{n}`` is "1,234 endpoints".
    warning: str = ""
    #: The deployment setting that must allow the action ("" when none does).
    policy: str = ""

    @property
    def dangerous(self) -> bool:
        """True when the action cannot be undone (it asks for a typed confirmation)."""
        return self.confirm is Confirm.TYPED

    @property
    def starts_on_no(self) -> bool:
        """True when the confirmation's answer starts on No."""
        return self.confirm is not Confirm.YES

    def warn(self, n: int) -> str:
        """The warning for ``n`` endpoints, or the description when there is none."""
        word = f"{n:,} endpoint{'s' if n != 1 else ''}"
        return (self.warning or "{n}: " + self.description).format(n=word)

    @property
    def sources(self) -> frozenset[State]:
        """The states the action is allowed from."""
        return frozenset(self.transitions)

    def allowed(self, state: State | str) -> bool:
        """True when the action may be applied to an endpoint in ``state``."""
        return State(state) in self.transitions

    def refusal(self, state: State | str) -> str:
        """The reason an endpoint in ``state`` is skipped, in the operator's words."""
        allowed = ", ".join(s.label for s in STATES if s in self.transitions)
        return f"{State(state).label}: {self.label.lower()} is allowed only from {allowed}"


def _all(states: frozenset[State] | tuple[State, ...], target: Target) -> dict[State, Target]:
    return {s: target for s in STATES if s in states}


_ANY_LIVE = LIVE
_LINKED_LIVE = LIVE - {State.HOLD}

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "link",
            "Link SIM",
            "Link a Ready to Activate SIM to an endpoint in Hold",
            Role.OPERATOR,
            {State.HOLD: Outcome.BY_GROUP},
            bulk=False,
            progress="Linking",
        ),
        Action(
            "assign_group",
            "Assign to group",
            "Give endpoints an Endpoint Group's network configuration",
            Role.OPERATOR,
            {
                **_all(_ANY_LIVE, Outcome.SAME),
                State.PENDING: Outcome.BY_ACTIVATE_IMMEDIATELY,
            },
            progress="Assigning",
        ),
        Action(
            "activate",
            "Activate",
            "Activate Pre-Active endpoints",
            Role.OPERATOR,
            {State.PRE_ACTIVE: State.ACTIVE},
            progress="Activating",
        ),
        Action(
            "suspend",
            "Suspend",
            "Block traffic now; any session ends at once",
            Role.OPERATOR,
            _all(LIVE_ACTIVE, State.SUSPENDED),
            progress="Suspending",
        ),
        Action(
            "resume",
            "Resume",
            "Return Suspended endpoints to Active (when the policy allows it)",
            Role.OPERATOR,
            {State.SUSPENDED: State.ACTIVE},
            progress="Resuming",
            policy="allow_resume",
        ),
        Action(
            "delink",
            "De-link SIM",
            "Detach the SIM; the endpoint goes to Hold, the SIM back to the pool",
            Role.OPERATOR,
            _all(_LINKED_LIVE, State.HOLD),
            confirm=Confirm.NO_FIRST,
            progress="De-linking the SIMs of",
            warning="De-linking cuts {n} off the network: each goes to Hold and its SIM back "
            "to the pool.",
        ),
        Action(
            "terminate",
            "Terminate",
            f"Disable permanently; the record is kept {RETENTION_DAYS} days, then deleted",
            Role.OPERATOR,
            _all(_ANY_LIVE, State.TERMINATED),
            confirm=Confirm.TYPED,
            progress="Terminating",
            warning="Terminate is irreversible: {n} will be disabled permanently, SIMs "
            f"included. Each record is kept {RETENTION_DAYS} days, then deleted.",
        ),
        Action(
            "edit",
            "Edit",
            "Change name, tags, reference, static IP or IMEI lock",
            Role.OPERATOR,
            _all(_ANY_LIVE, Outcome.SAME),
            bulk=False,
            progress="Saving",
        ),
        Action(
            "reinstate",
            "Reinstate",
            f"Return a Terminated endpoint (< {RETENTION_DAYS} days) to its state before "
            "termination",
            Role.SUPPORT,
            {State.TERMINATED: Outcome.BEFORE_TERMINATION},
            bulk=False,
            progress="Reinstating",
        ),
        Action(
            "purge",
            "Purge",
            f"Delete endpoints terminated {RETENTION_DAYS} days ago or more, with their SIMs",
            Role.ADMIN,
            {State.TERMINATED: Outcome.DELETED},
            # Purge takes every endpoint old enough, never the one under the cursor.
            row=False,
            confirm=Confirm.TYPED,
            progress="Purging",
            warning=f"Purge deletes {{n}} terminated {RETENTION_DAYS} days ago or more "
            "permanently, with their SIMs; only the audit trail keeps a 'purged' event.",
        ),
    )
}

class JobStatus(StrEnum):
    """Where a bulk job stands; stored in ``job.status``.

    Interrupted is also derived: a running or recording job whose process is gone.
    """

    #: Its targets are still being recorded: its total is not known yet.
    RECORDING = "recording"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def label(self) -> str:
        """The status as screens write it."""
        if self is JobStatus.RECORDING:
            return "Recording targets"
        return self.value.capitalize()

    @property
    def resumable(self) -> bool:
        """True when ``jobs resume`` may carry the job on."""
        return self in (JobStatus.CANCELLED, JobStatus.FAILED, JobStatus.INTERRUPTED)


@dataclass(frozen=True)
class NetworkEvent:
    """A network event and the state it leaves an active endpoint in."""

    name: str
    result: State
    sources: frozenset[State] = field(default=LIVE_ACTIVE)


NETWORK_EVENTS: dict[str, NetworkEvent] = {
    e.name: e
    for e in (
        NetworkEvent("attach", State.IDLE),
        NetworkEvent("session_start", State.ACTIVE),
        NetworkEvent("session_end", State.IDLE),
        NetworkEvent("detach", State.DETACHED),
    )
}


class AuditAction(StrEnum):
    """Every action the audit trail records that is not a lifecycle action's own name."""

    CREATED = "created"
    PURGED = "purged"  # the purge action, as the trail writes it
    REJECTED = "rejected"  # a network event the endpoint's state refuses
    STALE = "stale"
    IMEI_MISMATCH = "imei_mismatch"
    GROUP_CREATED = "group_created"
    GROUP_EDITED = "group_edited"
    GROUP_DELETED = "group_deleted"
    SIMS_IMPORTED = "sims_imported"
    OPERATOR_ADDED = "operator_added"
    OPERATOR_REMOVED = "operator_removed"
    SETTING_CHANGED = "setting_changed"


#: Every action name the audit trail holds, in the order the audit log's filter offers them.
AUDIT_ACTIONS: tuple[str, ...] = (
    AuditAction.CREATED,
    *(name for name in ACTIONS if name != "purge"),
    AuditAction.PURGED,
    *NETWORK_EVENTS,
    *(a for a in AuditAction if a not in (AuditAction.CREATED, AuditAction.PURGED)),
)


def action(name: str) -> Action:
    """The action called ``name`` (dashes or underscores)."""
    return ACTIONS[name.replace("-", "_")]


def resolve(
    target: Target,
    state: State,
    *,
    has_group: bool,
    activate_immediately: bool,
    before_termination: State | None = None,
) -> State | None:
    """The state a row ends in, for a target rule; None when the row is deleted."""
    if isinstance(target, State):
        return target
    if target is Outcome.SAME:
        return state
    if target is Outcome.BY_GROUP and not has_group:
        return State.PENDING
    if target in (Outcome.BY_GROUP, Outcome.BY_ACTIVATE_IMMEDIATELY):
        return State.ACTIVE if activate_immediately else State.PRE_ACTIVE
    if target is Outcome.BEFORE_TERMINATION:
        return before_termination
    return None


def actions_for(state: State | str, role: Role) -> list[Action]:
    """The actions an operator with ``role`` may take on an endpoint in ``state``."""
    return [a for a in ACTIONS.values() if a.allowed(state) and role.allows(a.role)]


def mermaid() -> str:
    """The operator transitions as a Mermaid state diagram, for the docs."""
    lines = ["stateDiagram-v2"]
    for act in ACTIONS.values():
        for src, tgt in act.transitions.items():
            if tgt is Outcome.SAME:
                continue
            if tgt is Outcome.DELETED:
                lines.append(f"    {src.label} --> [*]: {act.label}")
                continue
            if tgt is Outcome.BEFORE_TERMINATION:
                lines.append(f"    {src.label} --> Previous: {act.label}")
                continue
            targets = (
                [tgt]
                if isinstance(tgt, State)
                else [State.ACTIVE, State.PRE_ACTIVE]
                + ([State.PENDING] if tgt is Outcome.BY_GROUP else [])
            )
            for t in targets:
                lines.append(f"    {src.label} --> {t.label}: {act.label}")
    return "\n".join(lines)


def markdown() -> str:
    """docs/lifecycle.md, written from the tables above."""
    out = [
        "# Lifecycle",
        "",
        "Generated from `core/lifecycle.py` by",
        "`python -m simdeck.core.lifecycle > docs/lifecycle.md`",
        "(a test fails when this page and the code differ). The same table drives the SQL,",
        "the refusal messages, the console's actions menu and the command line.",
        "",
        "## States",
        "",
        "| State | Meaning | Passes traffic |",
        "|---|---|---|",
    ]
    out += [f"| {s.label} | {MEANING[s]} | {PASSES_TRAFFIC[s]} |" for s in STATES]
    out += ["", "## Operator actions", "",
            "| Action | Role | Allowed from | Result |", "|---|---|---|---|"]
    for act in ACTIONS.values():
        sources = ", ".join(s.label for s in STATES if s in act.transitions)
        results = sorted({t.label if isinstance(t, State) else t.value
                          for t in act.transitions.values()})
        danger = " (asks for a typed confirmation)" if act.dangerous else ""
        out.append(f"| {act.label}{danger} | {act.role.value} | {sources} | "
                   f"{'; '.join(results)} |")
    out += ["", "`same` keeps the state; `active or pre-active` follows the endpoint's "
            "Activate Immediately; `by group` is Pending without a group. Resume also needs "
            "the deployment's `allow_resume` setting (off by default). Purge takes endpoints "
            f"terminated {RETENTION_DAYS} days ago or more; reinstate, fewer.",
            "", "## Network events (actor `network`)", "",
            "| Event | From | Result |", "|---|---|---|"]
    for ev in NETWORK_EVENTS.values():
        sources = ", ".join(s.label for s in STATES if s in ev.sources)
        out.append(f"| {ev.name} | {sources} | {ev.result.label} |")
    out += ["", "An event for an endpoint in any other state is audited as `rejected`; an "
            "attach whose IMEI differs from the IMEI lock as `imei_mismatch`; an event older "
            "than the endpoint's last activity as `stale`. None of them changes the endpoint.",
            "", "## Diagram", "", "```mermaid", mermaid(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(), end="")
