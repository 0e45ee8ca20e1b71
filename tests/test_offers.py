"""What the front ends may offer is what core then does: each rule of core/offers.py
checked against core doing it."""

from __future__ import annotations

import pytest

from simdeck.core import actions, auth, jobs, offers, queries, records, settings
from simdeck.core.actions import Targets
from simdeck.core.errors import Refused
from simdeck.core.lifecycle import State

from .conftest import Maker


def test_resume_is_offered_only_under_the_policy_and_then_it_works(
    make: Maker, admin: auth.Actor
) -> None:
    ep = make.endpoint(State.SUSPENDED)
    off = offers.Policy.read()
    assert off.allow_resume is False
    assert not offers.on_row(admin, "resume", "suspended", off)
    with pytest.raises(Refused, match="allow_resume is off"):
        actions.run(admin, "resume", Targets.one(ep))
    settings.set_setting(admin, "allow_resume", "true")
    on = offers.Policy.read()
    assert offers.on_row(admin, "resume", "suspended", on)
    assert actions.run(admin, "resume", Targets.one(ep)).applied == 1


def test_nothing_is_offered_on_no_row_or_to_a_viewer(make: Maker, admin: auth.Actor) -> None:
    policy = offers.Policy()
    assert not offers.on_row(admin, "suspend", None, policy)
    viewer = auth.Actor("vera", auth.Role.VIEWER)
    assert not offers.on_row(viewer, "suspend", "active", policy)
    assert offers.on_row(admin, "suspend", "active", policy)


def test_marks_are_offered_what_one_of_them_allows(make: Maker, admin: auth.Actor) -> None:
    hold = make.endpoint(State.HOLD)
    active = make.endpoint(State.ACTIVE)
    policy = offers.Policy()
    only_hold = actions.target_states(Targets(ids=(hold,)))
    assert only_hold == {"hold": 1}
    assert not offers.on_marks(admin, "suspend", only_hold, policy)
    assert actions.preview(admin, "suspend", Targets(ids=(hold,))).eligible == 0
    both = actions.target_states(Targets(ids=(hold, active)))
    assert offers.on_marks(admin, "suspend", both, policy)
    assert actions.preview(admin, "suspend", Targets(ids=(hold, active))).eligible == 1


def test_a_done_job_is_not_offered_resume_a_cancelled_one_is(
    make: Maker, admin: auth.Actor
) -> None:
    ids = tuple(make.endpoint(State.ACTIVE) for _ in range(3))
    done = actions.run(admin, "suspend", Targets(ids=ids[:2]))
    policy = offers.Policy()
    assert not offers.resume_job(admin, jobs.job_view(jobs.get_job(done.job or 0)), policy)
    with pytest.raises(Refused):
        jobs.resume(admin, done.job or 0)
    applying: list[int] = []
    cancelled = actions.run(admin, "terminate", Targets(ids=ids),
                            progress=lambda d, t: applying.append(d),
                            cancelled=lambda: bool(applying))
    view = jobs.job_view(jobs.get_job(cancelled.job or 0))
    assert offers.resume_job(admin, view, policy)
    assert jobs.resume(admin, cancelled.job or 0).status == "done"


def test_a_group_is_offered_delete_only_when_no_endpoint_holds_it(
    make: Maker, admin: auth.Actor
) -> None:
    make.group("emptied")
    ep = records.create_endpoint(admin, group="emptied", name="last-one")
    actions.run(admin, "terminate", Targets.one(ep.id))
    group = next(g for g in queries.groups_with_counts() if g["name"] == "emptied")
    # No live endpoint, but a terminated one still holds it: delete would fail.
    assert (group["endpoints"], group["all_endpoints"]) == (0, 1)
    assert not offers.delete_group(admin, group)
    with pytest.raises(Refused, match="still has 1 endpoints"):
        records.delete_group(admin, "emptied")
    make.group("unused")
    unused = next(g for g in queries.groups_with_counts() if g["name"] == "unused")
    assert offers.delete_group(admin, unused)
    records.delete_group(admin, "unused")
    assert "unused" not in queries.group_list()
