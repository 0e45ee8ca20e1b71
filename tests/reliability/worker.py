"""One operator acting at random through core for a while; prints a JSON summary.

Run by test_concurrency.py as ``python -m tests.reliability.worker DB USER SEED SECONDS``.
Every outcome a user could see is counted by kind; anything else is a crash (the
traceback reaches stderr and the exit code is not 0).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter

from simdeck.core import actions, auth, db, network, queries, records
from simdeck.core.actions import Targets
from simdeck.core.errors import Busy, SimdeckError
from simdeck.core.lifecycle import STATES
from simdeck.core.models import Endpoint, Sim

GROUPS = ("vantiq-connect-eu", "vantiq-connect-us")


def main() -> None:
    path, user, seed, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    rnd = random.Random(seed)
    db.open_database(path)
    actor = auth.login(user=user)
    outcomes: Counter[str] = Counter()
    applied = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        kind = rnd.choice(["bulk_filter", "bulk_ids", "edit", "link", "create", "events",
                           "single"])
        try:
            applied += step(kind, rnd, actor)
            outcomes[kind + ":ok"] += 1
        except Busy:
            outcomes["busy"] += 1
        except SimdeckError as exc:
            outcomes[f"{kind}:{type(exc).__name__}"] += 1
    print(json.dumps({"user": user, "applied": applied, "outcomes": outcomes}))


def _ids(rnd: random.Random, n: int) -> list[int]:
    top = Endpoint.select(Endpoint.id).order_by(Endpoint.id.desc()).scalar() or 1
    return sorted({rnd.randint(1, top) for _ in range(n)})


def step(kind: str, rnd: random.Random, actor: auth.Actor) -> int:
    names = ["suspend", "assign_group", "activate", "delink", "resume", "terminate"]
    weights = [5, 4, 3, 2, 3, 1]
    if kind in ("bulk_filter", "bulk_ids", "single"):
        name = rnd.choices(names, weights)[0]
        if kind == "bulk_filter":
            state = rnd.choice(STATES).value
            targets = Targets(filter=queries.Filter(states=(state,), group=rnd.choice(GROUPS)))
        else:
            targets = Targets(ids=tuple(_ids(rnd, 1 if kind == "single" else 40)))
        result = actions.run(actor, name, targets, group=rnd.choice(GROUPS))
        return result.applied
    if kind == "edit":
        (eid,) = _ids(rnd, 1)
        ep = Endpoint.get_or_none(Endpoint.id == eid)
        if ep is None:
            return 0
        records.edit_endpoint(actor, eid, expected_version=ep.version,
                              name=f"{actor.name}-{time.monotonic_ns()}")
        return 1
    if kind == "link":
        hold = Endpoint.select(Endpoint.id).where(Endpoint.state == "hold").order_by(
            Endpoint.id).offset(rnd.randint(0, 20)).limit(1).scalar()
        sim = Sim.select(Sim.iccid).where(Sim.endpoint.is_null()).order_by(Sim.iccid).offset(
            rnd.randint(0, 20)).limit(1).scalar()
        if hold is None or sim is None:
            return 0
        records.link_sim(actor, hold, sim)
        return 1
    if kind == "create":
        sim = Sim.select(Sim.iccid).where(Sim.endpoint.is_null()).order_by(Sim.iccid.desc()
            ).offset(rnd.randint(0, 20)).limit(1).scalar()
        records.create_endpoint(actor, name=f"new-{actor.name}", sim=sim,
                                group=rnd.choice((None, *GROUPS)))
        return 1
    linked = Endpoint.select(Endpoint.iccid).where(Endpoint.iccid != "").order_by(
        Endpoint.id).offset(rnd.randint(0, 200)).limit(20)
    events = [{"iccid": i, "event": rnd.choice(["attach", "detach", "session_start",
                                                  "session_end"])} for (i,) in linked.tuples()]
    return network.apply_events(actor, events).applied


if __name__ == "__main__":
    main()
