"""The lifecycle under random action sequences, against a small model of lifecycle.md.

The model below is written from the spec's tables, independently of core.lifecycle:
after every step the store must agree with it endpoint by endpoint, the invariants
must hold, and each applied change must have written exactly one audit event.
Examples: SIMDECK_STATEFUL_EXAMPLES (default 100; the slow lane runs 2,000).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from simdeck.core import actions, auth, db, invariants, models, network, records
from simdeck.core.actions import Targets
from simdeck.core.errors import Refused, SimdeckError
from simdeck.core.identifiers import make_iccid, make_imei
from simdeck.core.models import AuditEvent, Endpoint, Imsi, Sim
from simdeck.core.settings import set_setting

from .conftest import PG_URL, _drop_pg_database, _fresh_pg_database

EXAMPLES = int(os.environ.get("SIMDECK_STATEFUL_EXAMPLES", "100"))
GROUPS = ("g-eu", "g-us")
IMEIS = (make_imei("49015420323751"), make_imei("35209900176148"))

ACTIVE_LIKE = {"active", "idle", "detached"}
ALLOWED = {
    "assign_group": {"hold", "pending", "pre-active", "active", "idle", "detached", "suspended"},
    "activate": {"pre-active"},
    "suspend": ACTIVE_LIKE,
    "resume": {"suspended"},
    "delink": {"pending", "pre-active", "active", "idle", "detached", "suspended"},
    "terminate": {"hold", "pending", "pre-active", "active", "idle", "detached", "suspended"},
}
EVENT_RESULT = {"attach": "idle", "session_start": "active", "session_end": "idle",
                "detach": "detached"}


@dataclass
class ModelEndpoint:
    state: str
    group: str | None
    sim: str | None
    activate_immediately: bool
    imei_lock: str | None = None
    before_termination: str | None = None
    old: bool = False  # terminated 90 days ago or more


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.url = _fresh_pg_database() if PG_URL else os.path.join(self.dir.name, "sm.db")
        db.open_database(self.url)
        models.create_schema()
        self.admin = auth.login(user="admin")
        auth.add_operator(self.admin, "sam", "support")
        self.support = auth.login(user="sam")
        for g in GROUPS:
            records.create_group(self.admin, g)
        self.allow_resume = False
        self.pool: list[str] = []
        self.endpoints: dict[int, ModelEndpoint] = {}
        self.serial = 0
        self.audits = 0
        for _ in range(3):
            self._new_sim()

    def teardown(self) -> None:
        db.database.close()
        if PG_URL:
            _drop_pg_database(self.url)
        self.dir.cleanup()

    def _new_sim(self) -> str:
        self.serial += 1
        iccid = make_iccid(f"894450{self.serial:012d}")
        sim = Sim.create(iccid=iccid)
        Imsi.create(sim=sim, position=0, imsi=f"00101{self.serial:010d}")
        self.pool.append(iccid)
        return iccid

    def _expect_audits(self, n: int) -> None:
        self.audits += n
        assert AuditEvent.select().where(AuditEvent.endpoint_id.is_null(False)).count() \
            == self.audits

    def _link_result(self, ep: ModelEndpoint) -> str:
        if ep.group is None:
            return "pending"
        return "active" if ep.activate_immediately else "pre-active"

    # --- rules ----------------------------------------------------------------------

    @rule(data=st.data())
    def add_sim(self, data: st.DataObject) -> None:
        self._new_sim()

    @rule(with_sim=st.booleans(), group=st.sampled_from((None, *GROUPS)), ai=st.booleans())
    def create(self, with_sim: bool, group: str | None, ai: bool) -> None:
        sim = self.pool.pop(0) if with_sim and self.pool else None
        view = records.create_endpoint(self.admin, sim=sim, group=group, activate_immediately=ai)
        ep = ModelEndpoint("hold", group, sim, ai)
        if sim:
            ep.state = self._link_result(ep)
        self.endpoints[view.id] = ep
        assert view.state == ep.state
        self._expect_audits(1)

    @precondition(lambda self: self.endpoints)
    @rule(data=st.data())
    def link(self, data: st.DataObject) -> None:
        eid = data.draw(st.sampled_from(sorted(self.endpoints)))
        ep = self.endpoints[eid]
        if not self.pool:
            self._new_sim()
        sim = self.pool[0]
        if ep.state != "hold":
            with pytest.raises(Refused):
                records.link_sim(self.admin, eid, sim)
            return
        records.link_sim(self.admin, eid, sim)
        self.pool.pop(0)
        ep.sim = sim
        ep.state = self._link_result(ep)
        self._expect_audits(1)

    @precondition(lambda self: self.endpoints)
    @rule(
        data=st.data(),
        name=st.sampled_from(sorted(ALLOWED)),
        group=st.sampled_from(GROUPS),
        bulk=st.booleans(),
    )
    def act(self, data: st.DataObject, name: str, group: str, bulk: bool) -> None:
        ids = data.draw(
            st.lists(st.sampled_from(sorted(self.endpoints)), min_size=1, max_size=6, unique=True)
            if bulk else st.sampled_from(sorted(self.endpoints)).map(lambda i: [i])
        )
        if name == "resume" and not self.allow_resume:
            with pytest.raises(Refused):
                actions.run(self.admin, name, Targets(ids=tuple(ids)))
            return
        result = actions.run(self.admin, name, Targets(ids=tuple(ids)), group=group)
        applied = 0
        for i in ids:
            ep = self.endpoints[i]
            if ep.state not in ALLOWED[name]:
                continue
            applied += 1
            if name == "assign_group":
                if ep.state == "pending":
                    ep.state = "active" if ep.activate_immediately else "pre-active"
                ep.group = group
            elif name == "activate" or name == "resume":
                ep.state = "active"
            elif name == "suspend":
                ep.state = "suspended"
            elif name == "delink":
                self.pool.append(ep.sim or "")
                ep.sim, ep.state = None, "hold"
            elif name == "terminate":
                ep.before_termination, ep.state = ep.state, "terminated"
        assert result.applied == applied
        assert sum(result.skipped.values()) == len(ids) - applied
        self._expect_audits(applied)

    @precondition(lambda self: self.endpoints)
    @rule(data=st.data(), event=st.sampled_from(sorted(EVENT_RESULT)),
          imei=st.sampled_from((None, *IMEIS)))
    def network_event(self, data: st.DataObject, event: str, imei: str | None) -> None:
        linked = sorted(i for i, e in self.endpoints.items() if e.sim)
        if not linked:
            return
        eid = data.draw(st.sampled_from(linked))
        ep = self.endpoints[eid]
        report = network.apply_events(
            self.admin, [{"iccid": ep.sim, "event": event, "imei": imei}]
        )
        assert report.errors == []
        self._expect_audits(1)
        if ep.state not in ACTIVE_LIKE:
            assert report.applied == 0
            return
        if event == "attach" and ep.imei_lock and imei != ep.imei_lock:
            assert report.applied == 0
            return
        assert report.applied == 1
        ep.state = EVENT_RESULT[event]

    @precondition(lambda self: self.endpoints)
    @rule(data=st.data(), imei=st.sampled_from((None, *IMEIS)))
    def edit(self, data: st.DataObject, imei: str | None) -> None:
        eid = data.draw(st.sampled_from(sorted(self.endpoints)))
        ep = self.endpoints[eid]
        if ep.state == "terminated":
            with pytest.raises(Refused):
                records.edit_endpoint(self.admin, eid, imei_lock=imei)
            return
        records.edit_endpoint(self.admin, eid, imei_lock=imei)
        if imei != ep.imei_lock:
            self._expect_audits(1)
        ep.imei_lock = imei

    @rule()
    def toggle_resume_policy(self) -> None:
        self.allow_resume = not self.allow_resume
        set_setting(self.admin, "allow_resume", str(self.allow_resume).lower())

    @precondition(lambda self: any(e.state == "terminated" for e in self.endpoints.values()))
    @rule(data=st.data(), age=st.booleans())
    def reinstate(self, data: st.DataObject, age: bool) -> None:
        eid = data.draw(st.sampled_from(
            sorted(i for i, e in self.endpoints.items() if e.state == "terminated")
        ))
        ep = self.endpoints[eid]
        if age:
            Endpoint.update(terminated_at=models.utcnow() - dt.timedelta(days=95)).where(
                Endpoint.id == eid
            ).execute()
            ep.old = True
        if ep.old:
            with pytest.raises(SimdeckError):
                records.reinstate(self.support, eid, "T-1")
            return
        records.reinstate(self.support, eid, "T-1")
        ep.state, ep.before_termination = ep.before_termination or "hold", None
        self._expect_audits(1)

    @precondition(lambda self: any(e.state == "terminated" for e in self.endpoints.values()))
    @rule()
    def purge(self) -> None:
        terminated = sorted(i for i, e in self.endpoints.items() if e.state == "terminated")
        result = actions.run(self.admin, "purge", Targets(ids=tuple(terminated)))
        gone = [i for i in terminated if self.endpoints[i].old]
        assert result.applied == len(gone)
        for i in gone:
            del self.endpoints[i]
        self._expect_audits(len(gone))

    # --- invariants -----------------------------------------------------------------

    @invariant()
    def store_agrees_with_model(self) -> None:
        stored = {
            e.id: (e.state, e.iccid or None) for e in Endpoint.select(
                Endpoint.id, Endpoint.state, Endpoint.iccid
            )
        }
        expected = {i: (e.state, e.sim) for i, e in self.endpoints.items()}
        assert stored == expected
        ready = {s.iccid for s in Sim.select().where(Sim.endpoint.is_null())}
        assert ready == set(self.pool)

    @invariant()
    def rules_hold(self) -> None:
        assert invariants.violations() == []


LifecycleMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_lifecycle_state_machine = LifecycleMachine.TestCase
