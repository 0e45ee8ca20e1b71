"""The counts per state never hold the list back: the first page is painted first; counts
that are slow to count exactly show as estimates marked ≈ until the exact ones arrive."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from textual.widgets import Input

from simdeck.core import queries
from simdeck.core.queries import Filter
from simdeck.core.queries import endpoints as planner
from simdeck.tui.widgets.status import StateCounts
from tests.tui.conftest import endpoints_screen, settle, shown_ids, the_list, wait_for


def counts_text(app: Any) -> str:
    return str(endpoints_screen(app).query_one(StateCounts).render())


async def test_estimated_counts_are_marked_until_the_exact_ones_replace_them(
    fleet_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every search counts as slow to count exactly, and the exact count waits for a signal.
    monkeypatch.setattr(planner, "EXACT_UNDER", 1)
    exact_may_finish = threading.Event()
    counting = queries.counts_by_state

    def slow_exact(f: Filter) -> dict[Any, int]:
        if f.search:
            exact_may_finish.wait(10)
        return counting(f)

    monkeypatch.setattr(queries, "counts_by_state", slow_exact)
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "≈" not in counts_text(app)
        assert "│ 30 endpoints" in counts_text(app)
        await pilot.press("slash")
        endpoints_screen(app).query_one("#filter-search", Input).insert_text_at_cursor("taxi")
        want = [r.id for r in queries.page(Filter(search="taxi"), "name", limit=100)]
        # The first page is painted while the exact count still runs…
        await wait_for(pilot, lambda: shown_ids(app) == want)
        # …and the counts show the estimate, marked.
        await wait_for(pilot, lambda: "≈" in counts_text(app))
        text = counts_text(app)
        assert text.startswith("≈ Hold 0"), text
        assert "Active 2" in text and "Idle 1" in text and "│ ≈5 endpoints" in text
        assert the_list(app).count is None or the_list(app).count == len(want)
        exact_may_finish.set()
        await wait_for(pilot, lambda: "≈" not in counts_text(app))
        await settle(pilot)
        text = counts_text(app)
        assert "Active 2" in text and "│ 5 endpoints" in text and "estimated" not in text
        assert the_list(app).count == 5


async def test_an_estimate_for_a_search_typed_over_is_not_shown(
    fleet_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planner, "EXACT_UNDER", 1)
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = endpoints_screen(app)
        old_source = the_list(app).source
        await pilot.press("slash", *"reefer")
        await settle(pilot)
        # An estimate that arrives for a source the list no longer shows changes nothing.
        screen.post_message(screen.CountsEstimated(old_source, {s: 99 for s in
                                                                 queries.counts_by_state(
                                                                     Filter())}))
        await settle(pilot)
        assert "99" not in counts_text(app) and "≈" not in counts_text(app)
        assert "│ 6 endpoints" in counts_text(app)


async def test_counts_of_a_bigger_fleet_stay_on_one_line_at_120_columns(
    fleet_db: str, make_app: Any
) -> None:
    """Four-digit counts in every state and the pane open: the line closes its gaps
    rather than folding the total onto a line of its own."""
    from simdeck.core.lifecycle import STATES

    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        counts = endpoints_screen(app).query_one(StateCounts)
        many = dict(zip(STATES, (826, 1192, 754, 9039, 4032, 2032, 1154, 971), strict=True))
        counts.show(many, total=20000)
        await pilot.pause()
        text = counts_text(app)
        assert "Suspended 1,154" in text and "Terminated 971" in text and "20k" in text
        assert "\n" not in text and len(text) <= counts.size.width - 2
        assert counts.size.height == 1


async def test_estimated_counts_of_a_big_fleet_stay_on_one_line_and_the_list_keeps_its_size(
    fleet_db: str, make_app: Any
) -> None:
    """An estimate (marked ≈) of four-digit counts in every state at 120 columns: rounded
    to thousands rather than folded onto a second line, which pushed the list down a
    line while the exact count ran and back up when it came."""
    from simdeck.core.lifecycle import STATES

    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        counts = endpoints_screen(app).query_one(StateCounts)
        lines = the_list(app).size.height
        many = dict(zip(STATES, (1982, 3059, 1990, 23456, 9926, 5006, 3076, 2518),
                        strict=True))
        counts.show(many, total=None, approximate=True)
        await pilot.pause()
        text = counts_text(app)
        assert text.startswith("≈ Hold 2k") and "Terminated 3k" in text and "≈51k" in text
        assert counts.size.height == 1 and "\n" not in text
        assert the_list(app).size.height == lines
        counts.show(many, total=51013)
        await pilot.pause()
        assert "Hold 1,982" in counts_text(app) and counts.size.height == 1
        assert the_list(app).size.height == lines
