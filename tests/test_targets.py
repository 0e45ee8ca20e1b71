"""A mark-all with rows left out and others added: a bulk job acts on exactly that set
(on SQLite, and on PostgreSQL when SIMDECK_TEST_PG names a server)."""

from __future__ import annotations

import json

import pytest

from simdeck.core import actions, auth, queries
from simdeck.core.actions import Targets
from simdeck.core.errors import InputError
from simdeck.core.models import AuditEvent, Job, JobItem
from simdeck.core.queries import Filter
from tests.conftest import Maker, state_of


def test_a_job_acts_on_the_filter_less_exclusions_plus_additions(
    make: Maker, admin: auth.Actor
) -> None:
    active = [make.endpoint("active") for _ in range(6)]
    idle = [make.endpoint("idle") for _ in range(2)]
    targets = Targets(filter=Filter(states=("active",)), exclude=(active[1], active[4]),
                      extra=(idle[0],))
    assert targets.describe() == "all matching state active but 2, and 1 more"
    preview = actions.preview(admin, "suspend", targets)
    assert (preview.total, preview.eligible) == (5, 5)
    events = AuditEvent.select().count()
    result = actions.run(admin, "suspend", targets)
    assert (result.applied, result.total) == (5, 5)
    suspended = {i for i in active + idle if state_of(i) == "suspended"}
    assert suspended == {active[0], active[2], active[3], active[5], idle[0]}
    assert state_of(idle[1]) == "idle"
    assert AuditEvent.select().count() == events + 5
    job = Job.get_by_id(result.job)
    assert {i.endpoint_id for i in JobItem.select().where(JobItem.job == job.id)} == suspended
    params = json.loads(job.params)
    assert Filter.from_dict(params["targets"]["filter"]) == Filter(states=("active",))
    assert (params["targets"]["exclude"], params["targets"]["extra"]) == (2, 1)
    # What the Jobs screen and `jobs show` say the job was for.
    assert actions.describe_stored(params["targets"]) == (
        "all endpoints matching state active but 2, and 1 more")
    # The lists are needed only while recording; the job keeps their sizes.
    assert "exclude" not in params and "extra" not in params


def test_an_exclusion_inside_an_addition_is_left_out(make: Maker, admin: auth.Actor) -> None:
    a, b = make.endpoint("active"), make.endpoint("active")
    targets = Targets(filter=Filter(states=("active",)), exclude=(b,), extra=(b,))
    assert actions.preview(admin, "suspend", targets).total == 1
    actions.run(admin, "suspend", targets)
    assert (state_of(a), state_of(b)) == ("suspended", "active")


def test_hidden_marks_counts_the_exclusions_and_additions(make: Maker) -> None:
    active = [make.endpoint("active") for _ in range(4)]
    idle = make.endpoint("idle")
    marked = Filter(states=("active",))
    # Shown: the marked filter itself; the addition (an Idle endpoint) is hidden by it.
    assert queries.hidden_marks(marked, marked=marked, exclude=(active[0],)) == 0
    assert queries.hidden_marks(marked, marked=marked, exclude=(active[0],), extra=(idle,)) == 1
    # Shown: Idle only; the three Active ones still marked are hidden.
    assert queries.hidden_marks(Filter(states=("idle",)), marked=marked,
                                exclude=(active[0],), extra=(idle,)) == 3


def test_exclusions_need_a_filter() -> None:
    with pytest.raises(InputError, match="need a filter"):
        Targets(ids=(1, 2), exclude=(1,))


def test_an_added_endpoint_outside_the_filters_group_is_counted_once(
    make: Maker, admin: auth.Actor
) -> None:
    """An addition the filter does not match because a column is empty (no group) is in."""
    grouped = [make.endpoint("active") for _ in range(3)]
    pending = make.endpoint("pending")  # a SIM, no group
    targets = Targets(filter=Filter(group="vantiq-connect-eu"), exclude=(grouped[0],),
                      extra=(pending, grouped[1]))
    preview = actions.preview(admin, "terminate", targets)
    assert preview.total == 3  # grouped[1], grouped[2], pending: grouped[1] once
    result = actions.run(admin, "terminate", targets)
    assert result.applied == 3
    assert [state_of(i) for i in (*grouped, pending)] == [
        "active", "terminated", "terminated", "terminated"]
