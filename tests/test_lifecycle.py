"""Every row of lifecycle.md's operator table, allowed and refused, through core.

The expected results below are written out from lifecycle.md by hand, not read from
core.lifecycle, so a wrong entry in the code's table fails here.
"""

from __future__ import annotations

import datetime as dt

import pytest

from simdeck.core import (
    actions,
    auth,
    identifiers,
    invariants,
    jobs,
    models,
    queries,
    records,
    settings,
)
from simdeck.core.actions import Targets
from simdeck.core.errors import Conflict, NotFound, PermissionDenied, Refused, ValidationError
from simdeck.core.lifecycle import ACTIONS, STATES, State, mermaid
from simdeck.core.models import AuditEvent, Endpoint, Sim

from .conftest import GROUP, OTHER_GROUP, Maker, audit_count, state_of

H, P, PA, A, I, D, S, T = (  # noqa: E741 - the states, by initial
    "hold", "pending", "pre-active", "active", "idle", "detached", "suspended", "terminated",
)

#: action → {from state: to state}; a state not listed is refused.
EXPECTED: dict[str, dict[str, str]] = {
    "assign_group": {H: H, P: A, PA: PA, A: A, I: I, D: D, S: S},
    "activate": {PA: A},
    "suspend": {A: S, I: S, D: S},
    "resume": {S: A},
    "delink": {P: H, PA: H, A: H, I: H, D: H, S: H},
    "terminate": {H: T, P: T, PA: T, A: T, I: T, D: T, S: T},
}


def _run(actor: auth.Actor, action: str, endpoint_id: int) -> actions.Result:
    group = OTHER_GROUP if action == "assign_group" else None
    return actions.run(actor, action, Targets.one(endpoint_id), group=group)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("state", [s.value for s in STATES])
def test_operator_table(make: Maker, admin: auth.Actor, action: str, state: str) -> None:
    make.group(OTHER_GROUP)
    settings.set_setting(admin, "allow_resume", "true")
    eid = make.endpoint(state)
    before_audit = audit_count()
    before = Endpoint.get_by_id(eid)
    result = _run(admin, action, eid)
    expected = EXPECTED[action].get(state)
    after = Endpoint.get_by_id(eid)
    if expected is None:
        assert result.applied == 0
        assert result.status == "refused"
        assert State(state).label in result.message
        assert after.state == state and after.version == before.version
        assert audit_count() == before_audit
    else:
        assert result.applied == 1, result.message
        assert after.state == expected
        events = list(AuditEvent.select().where(AuditEvent.id > 0).order_by(AuditEvent.id.desc())
                      .limit(audit_count() - before_audit))
        assert len(events) == 1
        assert (events[0].from_state, events[0].to_state, events[0].actor) == (
            state, expected, "admin",
        )
    assert invariants.violations() == []


def test_every_action_of_the_code_is_covered_by_the_spec_table() -> None:
    for name, act in ACTIONS.items():
        if name in EXPECTED:
            assert {s.value for s in act.sources} == set(EXPECTED[name]), name


def test_assign_group_pending_without_activate_immediately_goes_pre_active(
    make: Maker, admin: auth.Actor
) -> None:
    ep = records.create_endpoint(admin, sim=make.sim(), activate_immediately=False)
    assert ep.state == P
    actions.run(admin, "assign_group", Targets.one(ep.id), group=make.group())
    assert state_of(ep.id) == PA
    assert queries.view(ep.id).group == GROUP


@pytest.mark.parametrize(
    ("group", "activate", "expected"),
    [(None, True, P), (GROUP, True, A), (GROUP, False, PA)],
)
def test_link_sim_from_hold(
    make: Maker, admin: auth.Actor, group: str | None, activate: bool, expected: str
) -> None:
    make.group()
    ep = records.create_endpoint(admin, group=group, activate_immediately=activate)
    assert ep.state == H
    iccid = make.sim()
    view = records.link_sim(admin, ep.id, iccid)
    assert (view.state, view.iccid, view.sim_status) == (
        expected, iccid, State(expected).label,
    )
    assert Sim.get(Sim.iccid == iccid).endpoint_id == ep.id


@pytest.mark.parametrize("state", [s.value for s in STATES if s is not State.HOLD])
def test_link_sim_refused_out_of_hold(make: Maker, admin: auth.Actor, state: str) -> None:
    eid = make.endpoint(state)
    iccid = make.sim()
    before = audit_count()
    with pytest.raises(Refused, match="Hold"):
        records.link_sim(admin, eid, iccid)
    assert Sim.get(Sim.iccid == iccid).endpoint_id is None
    assert audit_count() == before


def test_link_refuses_a_sim_that_is_not_ready(make: Maker, admin: auth.Actor) -> None:
    taken = queries.view(make.endpoint(A)).iccid
    hold = make.endpoint(H)
    with pytest.raises(Refused, match="only a Ready to Activate SIM"):
        records.link_sim(admin, hold, taken)  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="no SIM with this ICCID"):
        records.link_sim(admin, hold, "89014103211118510720")
    with pytest.raises(ValidationError, match="check digit"):
        records.link_sim(admin, hold, "89014103211118510721")
    assert state_of(hold) == H


def test_delink_returns_the_sim_to_the_pool_and_keeps_the_group(
    make: Maker, admin: auth.Actor
) -> None:
    eid = make.endpoint(A)
    iccid = queries.view(eid).iccid
    actions.run(admin, "delink", Targets.one(eid))
    view = queries.view(eid)
    assert (view.state, view.iccid, view.group) == (H, None, GROUP)
    assert queries.sim_page(ready_only=True, search=iccid or "")[0].iccid == iccid
    # The freed SIM can be linked again, here to another endpoint.
    other = records.create_endpoint(admin, group=GROUP).id
    assert records.link_sim(admin, other, iccid or "").state == A


def test_terminate_terminates_the_sim_and_reinstate_restores_it(
    make: Maker, admin: auth.Actor
) -> None:
    eid = make.endpoint(S)
    iccid = queries.view(eid).iccid
    actions.run(admin, "terminate", Targets.one(eid))
    view = queries.view(eid)
    assert (view.state, view.sim_status) == (T, "Terminated")
    # A terminated SIM never returns to the pool.
    assert queries.sim_page(ready_only=True, search=iccid or "") == []
    with pytest.raises(PermissionDenied, match="support"):
        records.reinstate(admin, eid, "TICKET-1")
    auth.add_operator(admin, "sam", "support")
    support = auth.login(user="sam")
    with pytest.raises(ValidationError, match="ticket"):
        records.reinstate(support, eid, " ")
    view = records.reinstate(support, eid, "TICKET-1")
    assert (view.state, view.iccid, view.sim_status) == (S, iccid, "Suspended")
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (last.action, last.actor, last.to_state) == ("reinstate", "sam", S)
    assert "TICKET-1" in last.detail
    assert invariants.violations() == []


def test_reinstate_refused_after_90_days_and_purge_deletes(
    make: Maker, admin: auth.Actor
) -> None:
    old, recent = make.endpoint(T), make.endpoint(T)
    iccid = queries.view(old).iccid
    Endpoint.update(terminated_at=models.utcnow() - dt.timedelta(days=91)).where(
        Endpoint.id == old
    ).execute()
    auth.add_operator(admin, "sam", "support")
    with pytest.raises(Refused, match="90 days ago or more"):
        records.reinstate(auth.login(user="sam"), old, "T-2")
    preview = actions.preview(admin, "purge", Targets(ids=(old, recent)))
    assert (preview.eligible, preview.skipped) == (1, {actions.TOO_RECENT: 1})
    result = actions.run(admin, "purge", Targets(ids=(old, recent)))
    assert (result.applied, result.skipped) == (1, {actions.TOO_RECENT: 1})
    assert Endpoint.get_or_none(Endpoint.id == old) is None
    assert Sim.get_or_none(Sim.iccid == iccid) is None
    assert state_of(recent) == T
    purged = AuditEvent.get((AuditEvent.endpoint_id == old) & (AuditEvent.action == "purged"))
    assert purged.iccid == iccid
    with pytest.raises(PermissionDenied):
        actions.run(_operator(admin), "purge", Targets(ids=(recent,)))


def _operator(admin: auth.Actor) -> auth.Actor:
    auth.add_operator(admin, "olga", "operator")
    return auth.login(user="olga")


def test_resume_follows_the_policy(make: Maker, admin: auth.Actor) -> None:
    eid = make.endpoint(S)
    with pytest.raises(Refused, match="allow_resume"):
        actions.run(admin, "resume", Targets.one(eid))
    assert state_of(eid) == S
    with pytest.raises(PermissionDenied):
        settings.set_setting(_operator(admin), "allow_resume", "true")
    settings.set_setting(admin, "allow_resume", "true")
    assert actions.run(admin, "resume", Targets.one(eid)).applied == 1
    assert state_of(eid) == A


def test_edit_changes_settings_audits_the_difference_and_checks_the_version(
    make: Maker, admin: auth.Actor
) -> None:
    make.group(OTHER_GROUP)
    eid = make.endpoint(A)
    v = queries.view(eid)
    view = records.edit_endpoint(
        admin, eid, expected_version=v.version, name="Truck 7", add_tags=["Fleet-A", "pilot"],
        static_ip="10.1.2.3", imei_lock="49015420323751",
    )
    assert (view.name, view.tags, view.static_ip, view.imei_lock) == (
        "Truck 7", ["fleet-a", "pilot"], "10.1.2.3", "490154203237518",
    )
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.action, event.from_state, event.to_state) == ("edit", A, A)
    assert "Truck 7" in event.detail
    with pytest.raises(Conflict, match="changed by someone else"):
        records.edit_endpoint(admin, eid, expected_version=v.version, name="stale")
    assert queries.view(eid).name == "Truck 7"
    other = make.endpoint(A)
    with pytest.raises(ValidationError, match="already used by"):
        records.edit_endpoint(admin, other, static_ip="10.1.2.3")
    view = records.edit_endpoint(admin, eid, static_ip=None, remove_tags=["pilot"])
    assert (view.static_ip, view.tags) == (None, ["fleet-a"])
    assert invariants.violations() == []


def test_edit_refused_when_terminated(make: Maker, admin: auth.Actor) -> None:
    eid = make.endpoint(T)
    with pytest.raises(Refused, match="Terminated"):
        records.edit_endpoint(admin, eid, name="x")


def test_static_ip_must_sit_in_the_group_pool(make: Maker, admin: auth.Actor) -> None:
    make.group("pooled", ip_pool="10.20.0.0/16")
    ep = records.create_endpoint(admin, group="pooled", static_ip="10.20.0.9")
    with pytest.raises(ValidationError, match="outside the IP pool 10.20.0.0/16"):
        records.edit_endpoint(admin, ep.id, static_ip="10.99.0.1")
    outside = records.create_endpoint(admin, static_ip="192.0.2.10")
    result = actions.run(admin, "assign_group", Targets(ids=(ep.id, outside.id)), group="pooled")
    assert (result.applied, result.skipped) == (1, {actions.OUTSIDE_POOL: 1})


def test_a_bulk_job_records_what_it_applied_and_skipped(
    make: Maker, admin: auth.Actor
) -> None:
    ids = [make.endpoint(s) for s in (A, I, D, S, H, PA)]
    preview = actions.preview(admin, "suspend", Targets(ids=tuple(ids)))
    assert (preview.total, preview.eligible) == (6, 3)
    result = actions.run(admin, "suspend", Targets(ids=tuple(ids)))
    assert (result.applied, sum(result.skipped.values())) == (3, 3)
    job = jobs.job_view(jobs.get_job(result.job or 0))
    assert (job["status"], job["applied"], job["skipped"], job["pending"]) == ("done", 3, 3, 0)
    skipped = dict(jobs.job_skipped(result.job or 0))
    assert len(skipped) == 3
    assert all("suspend is allowed only from Active, Idle, Detached" in r
               for r in skipped.values())
    assert [state_of(i) for i in ids] == [S, S, S, S, H, PA]


def test_a_filter_target_acts_on_what_the_filter_matches(
    make: Maker, admin: auth.Actor
) -> None:
    ids = [make.endpoint(A) for _ in range(3)] + [make.endpoint(H)]
    result = actions.run(admin, "suspend", Targets(filter=queries.Filter(states=("active",))))
    assert result.applied == 3
    assert [state_of(i) for i in ids] == [S, S, S, H]


def test_a_cancelled_job_resumes_where_it_stopped(
    make: Maker, admin: auth.Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "CHUNK", 2)
    ids = [make.endpoint(A) for _ in range(7)]
    calls = []
    result = actions.run(
        admin, "suspend", Targets(ids=tuple(ids)), cancelled=lambda: len(calls) >= 2,
        progress=lambda done, total: calls.append(done),
    )
    assert result.status == "cancelled" and result.applied == 2
    assert [state_of(i) for i in ids].count(S) == 2
    assert jobs.job_view(jobs.get_job(result.job or 0))["status"] == "cancelled"
    resumed = jobs.resume(admin, result.job or 0)
    assert (resumed.status, resumed.applied) == ("done", 7)
    assert all(state_of(i) == S for i in ids)
    with pytest.raises(Refused, match="already done"):
        jobs.resume(admin, result.job or 0)


def test_a_viewer_changes_nothing(make: Maker, admin: auth.Actor) -> None:
    eid = make.endpoint(A)
    auth.add_operator(admin, "vera", "viewer")
    viewer = auth.login(user="vera")
    before = audit_count()
    for name in ("suspend", "terminate", "delink", "assign_group"):
        with pytest.raises(PermissionDenied, match="viewer"):
            actions.run(viewer, name, Targets.one(eid), group=GROUP)
    with pytest.raises(PermissionDenied):
        records.edit_endpoint(viewer, eid, name="x")
    with pytest.raises(PermissionDenied):
        records.create_endpoint(viewer, name="x")
    with pytest.raises(PermissionDenied):
        records.create_group(viewer, "g2")
    assert audit_count() == before and state_of(eid) == A


def test_an_unknown_os_user_is_refused_with_how_to_get_access(admin: auth.Actor) -> None:
    with pytest.raises(PermissionDenied, match="simdeck users add mallory --role operator"):
        auth.login(user="mallory")


def test_read_only_actor_is_refused(make: Maker) -> None:
    eid = make.endpoint(A)
    reader = auth.Actor("admin", auth.Role.ADMIN, read_only=True)
    with pytest.raises(PermissionDenied, match="read-only"):
        actions.run(reader, "suspend", Targets.one(eid))


def test_the_state_diagram_is_drawn_from_the_table() -> None:
    diagram = mermaid()
    assert "Pre-Active --> Active: Activate" in diagram
    assert "Suspended --> Active: Resume" in diagram
    assert "Terminated --> [*]: Purge" in diagram


def test_a_filter_preview_counts_what_the_job_then_does_with_pool_and_states(
    make: Maker, admin: auth.Actor
) -> None:
    make.group("pooled", ip_pool="10.20.0.0/16")
    inside = [make.endpoint(A, static_ip=f"10.20.0.{n}") for n in range(1, 4)]
    outside = [make.endpoint(I, static_ip=f"10.{n}.0.9") for n in (21, 99)]
    outside.append(make.endpoint(D, static_ip="2001:db8::5"))
    plain = [make.endpoint(s) for s in (H, PA, S)]
    gone = make.endpoint(S)
    actions.run(admin, "terminate", Targets.one(gone))
    everything = Targets(filter=queries.Filter())

    preview = actions.preview(admin, "assign_group", everything, group="pooled")

    assert preview.total == len(inside) + len(outside) + len(plain) + 1
    assert preview.eligible == len(inside) + len(plain)
    assert preview.skipped[actions.OUTSIDE_POOL] == len(outside)
    assert sum(preview.skipped.values()) == len(outside) + 1
    result = actions.run(admin, "assign_group", everything, group="pooled")
    assert (result.applied, result.skipped) == (preview.eligible, preview.skipped)


def test_a_preview_of_explicit_ids_counts_the_missing_ones(
    make: Maker, admin: auth.Actor
) -> None:
    ids = (make.endpoint(A), make.endpoint(H), 999_999)
    preview = actions.preview(admin, "suspend", Targets(ids=ids))
    assert (preview.total, preview.eligible) == (3, 1)
    assert preview.skipped[actions.MISSING] == 1


@pytest.mark.parametrize("pool", ["10.0.0.0/8", "10.28.0.0/15", "10.20.0.0/16",
                                  "10.20.0.0/22", "10.20.1.0/24", "10.20.1.16/28",
                                  "10.20.1.9/32", "8.0.0.0/5", "2001:db8::/64"])
def test_a_pool_preview_counts_in_sql_what_python_counts(
    make: Maker, admin: auth.Actor, pool: str
) -> None:
    make.group("pooled", ip_pool=pool)
    addresses = ["10.20.1.9", "10.20.1.17", "10.20.1.31", "10.20.1.32", "10.20.2.1",
                 "10.20.3.255", "10.20.4.0", "10.21.0.1", "10.28.9.9", "10.29.0.1",
                 "10.30.0.1", "10.2.0.1", "100.20.1.9", "11.0.0.1", "9.255.0.1",
                 "2001:db8::5", "2001:db9::5"]
    for n, ip in enumerate(addresses):
        make.endpoint(A if n % 2 else I, static_ip=ip)
    make.endpoint(S, static_ip="10.99.0.1")
    addresses.append("10.99.0.1")
    make.endpoint(T, static_ip="10.98.0.1")  # skipped for its state, whatever its IP
    outside = sum(not identifiers.ip_in_pool(ip, pool) for ip in addresses)
    condition = actions.pool_sql(Endpoint.static_ip, pool)
    if ":" in pool:
        assert condition is None  # an IPv6 pool is checked in Python
    else:
        inside = {ip for (ip,) in Endpoint.select(Endpoint.static_ip).where(
            Endpoint.static_ip.is_null(False) & condition).tuples()}
        assert inside == {ip for ip in [*addresses, "10.98.0.1"]
                          if identifiers.ip_in_pool(ip, pool)}
    active = sum(not identifiers.ip_in_pool(ip, pool)
                 for n, ip in enumerate(addresses[:-1]) if n % 2)
    for f, expected in ((queries.Filter(states=("active",)), active),  # the index alone
                        (queries.Filter(group=GROUP), outside)):  # rows looked up too
        found = actions.preview(admin, "assign_group", Targets(filter=f), group="pooled")
        assert found.skipped.get(actions.OUTSIDE_POOL, 0) == expected, f
    everything = Targets(filter=queries.Filter())
    preview = actions.preview(admin, "assign_group", everything, group="pooled")
    assert preview.skipped.get(actions.OUTSIDE_POOL, 0) == outside
    result = actions.run(admin, "assign_group", everything, group="pooled")
    assert (result.applied, result.skipped) == (preview.eligible, preview.skipped)
