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
    State.TERMINATED: "Permanently disabled; kept 90 days, then deleted",
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


@dataclass(frozen=True)
class Action:
    """One operator action: who may do it, from which states, into which."""

    name: str
    label: str
    description: str
    role: Role
    transitions: dict[State, Target]
    dangerous: bool = False
    bulk: bool = True

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
        ),
        Action(
            "activate",
            "Activate",
            "Activate Pre-Active endpoints",
            Role.OPERATOR,
            {State.PRE_ACTIVE: State.ACTIVE},
        ),
        Action(
            "suspend",
            "Suspend",
            "Block traffic now; any session ends at once",
            Role.OPERATOR,
            _all(LIVE_ACTIVE, State.SUSPENDED),
        ),
        Action(
            "resume",
            "Resume",
            "Return Suspended endpoints to Active (when the policy allows it)",
            Role.OPERATOR,
            {State.SUSPENDED: State.ACTIVE},
        ),
        Action(
            "delink",
            "De-link SIM",
            "Detach the SIM; the endpoint goes to Hold, the SIM back to the pool",
            Role.OPERATOR,
            _all(_LINKED_LIVE, State.HOLD),
        ),
        Action(
            "terminate",
            "Terminate",
            "Disable permanently; the record is kept 90 days, then deleted",
            Role.OPERATOR,
            _all(_ANY_LIVE, State.TERMINATED),
            dangerous=True,
        ),
        Action(
            "edit",
            "Edit",
            "Change name, tags, reference, static IP or IMEI lock",
            Role.OPERATOR,
            _all(_ANY_LIVE, Outcome.SAME),
        ),
        Action(
            "reinstate",
            "Reinstate",
            "Return a Terminated endpoint (< 90 days) to its state before termination",
            Role.SUPPORT,
            {State.TERMINATED: Outcome.BEFORE_TERMINATION},
            bulk=False,
        ),
        Action(
            "purge",
            "Purge",
            "Delete endpoints terminated 90 days ago or more, with their SIMs",
            Role.ADMIN,
            {State.TERMINATED: Outcome.DELETED},
            dangerous=True,
        ),
    )
}

RETENTION_DAYS = 90


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
