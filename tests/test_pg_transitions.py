"""The state changes PostgreSQL's lifecycle trigger allows are exactly the lifecycle
table's: every action applied to every kind of row, and every network event."""

from __future__ import annotations

import itertools

from simdeck.core import pg
from simdeck.core.lifecycle import ACTIONS, LIVE, NETWORK_EVENTS, STATES, Role, State, resolve


def _by_brute_force() -> dict[tuple[State, State], Role]:
    """Each (from, to) that some action or event makes for some endpoint row, with the
    least role among those that make it."""
    found: dict[tuple[State, State], Role] = {}
    rows = list(itertools.product((False, True), (False, True), (None, *STATES)))
    for state, act in itertools.product(STATES, ACTIONS.values()):
        if not act.allowed(state):
            continue
        for has_group, immediately, before in rows:
            if before is not None and before not in LIVE:
                continue
            end = resolve(act.transitions[state], state, has_group=has_group,
                          activate_immediately=immediately, before_termination=before)
            if end is not None and end != state:
                known = found.get((state, end))
                if known is None or act.role.rank < known.rank:
                    found[(state, end)] = act.role
    for event in NETWORK_EVENTS.values():
        for state in STATES:
            if state in event.sources and event.result != state:
                found.setdefault((state, event.result), Role.OPERATOR)
    return found


def test_the_generated_pairs_equal_the_lifecycle_tables() -> None:
    assert pg.transitions() == _by_brute_force()


def test_what_the_server_refuses() -> None:
    pairs = pg.transitions()
    assert (State.TERMINATED, State.ACTIVE) in pairs  # reinstate, to a state before
    assert pairs[(State.TERMINATED, State.ACTIVE)] is Role.SUPPORT
    assert pairs[(State.ACTIVE, State.SUSPENDED)] is Role.OPERATOR
    assert (State.HOLD, State.SUSPENDED) not in pairs
    assert (State.SUSPENDED, State.IDLE) not in pairs  # no network event wakes it
    # Hold may be terminated, so reinstate may bring an endpoint back to Hold.
    assert pairs[(State.TERMINATED, State.HOLD)] is Role.SUPPORT


def test_endpoints_are_created_where_creation_leaves_them() -> None:
    # Creating with a SIM is linking it: Pending without a group, else as Activate
    # Immediately says.
    assert pg.initial_states() == {State.HOLD, State.PENDING, State.PRE_ACTIVE, State.ACTIVE}
