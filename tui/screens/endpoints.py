"""The Endpoints screen, the console's home: filters, counts, the list, the detail pane.

The screen holds the state (filter, sort, marks) and asks the reader thread for the
data; its widgets only draw what they are given. Marks are a set of endpoint ids, or
a filter ("every endpoint matching this"), never a million ids.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.reactive import var

from simdeck.core import actions, offers, queries
from simdeck.core.actions import Targets
from simdeck.core.lifecycle import ACTIONS, State
from simdeck.core.queries import Filter
from simdeck.core.sanitize import printable
from simdeck.core.store import STORE_ERRORS, explain
from simdeck.tui import keys
from simdeck.tui.clipboard import clean, clipboard_off
from simdeck.tui.format import clock_time, number
from simdeck.tui.marks import Marks
from simdeck.tui.reader import BACKGROUND, DETAIL
from simdeck.tui.screens.audit import AuditScreen
from simdeck.tui.screens.dialogs import ActionsMenu, ConfirmScreen
from simdeck.tui.screens.endpoint_actions import EndpointActions
from simdeck.tui.screens.endpoint_forms import EndpointForms
from simdeck.tui.sources import EndpointSource, check_search, group_choices, tag_choices
from simdeck.tui.widgets.detail import DetailPane
from simdeck.tui.widgets.endpoint_rows import COLUMNS, SORT_LABELS, SORTS, render_endpoint
from simdeck.tui.widgets.filter_bar import FilterBar
from simdeck.tui.widgets.footer import KeyFooter
from simdeck.tui.widgets.list_keys import Chords
from simdeck.tui.widgets.status import StateCounts, StatusLine, TopBar
from simdeck.tui.widgets.virtual_list import VirtualList

#: The list's first order: by name, so the first screen is a mix of the fleet, not the
#: SIM-less endpoints that sort first by ICCID.
DEFAULT_SORT = "name"
#: The detail follows the cursor once it rests this long (a held key reads nothing).
DETAIL_DEBOUNCE = 0.08
#: Below this width the detail pane goes under the list, and starts hidden.
NARROW = 110
#: From this width the detail pane takes a share of the width rather than a fixed one.
WIDE = 160
#: Below this height the search hint gives its line back (errors still show there).
SHORT = 30
#: ``o`` then one of these letters sorts by that column.
SORT_LETTERS = {"i": "iccid", "n": "name", "s": "state", "g": "group", "t": "tags",
                "a": "last_activity"}
#: Esc clears this many marks or fewer at once; more (or a mark-all) it asks first.
ASK_ABOVE = 5
#: An Esc this soon after a dialog closed is that dialog's Esc repeated: it clears nothing.
ESC_AFTER_DIALOG = 0.3


#: The width from which the footer shows the command palette's key too.
FOOTER_WITH_PALETTE = 140

#: Commands about the endpoint under the cursor that are not lifecycle actions.
ON_A_ROW = frozenset({"actions_menu", "history"})


@dataclass(frozen=True)
class _Together:
    """What a live refresh reads with the rows, to draw with them."""

    source: Any
    counts: dict[State, int]
    detail_id: int | None
    view: Any
    marks: Marks
    states: dict[str, int] | None


class EndpointsScreen(Chords, EndpointForms, EndpointActions):
    """Inventory → Endpoints, past the portal: every key from ``tui.keys``."""

    CHORDS: ClassVar = {
        **{f"o{letter}": f"sort_by('{key}')" for letter, key in SORT_LETTERS.items()},
        "yi": "copy_id('iccid')", "ye": "copy_id('eid')", "ym": "copy_id('imsi')",
    }

    COMMAND_SCOPES: ClassVar = (keys.ENDPOINTS, keys.LIST)
    AUTO_FOCUS = "#endpoints"
    TITLE_TEXT = "Endpoints"
    SLASH_ACTION = "focus_search"
    BINDINGS: ClassVar = keys.bindings(keys.ENDPOINTS)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW, "-wide"), (WIDE, "-huge")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT, "-tall")]

    sort: var[str] = var(DEFAULT_SORT)
    descending: var[bool] = var(False)
    detail_wide: var[bool] = var(True)
    detail_narrow: var[bool] = var(False)

    class DetailLoaded(Message):
        """The detail of one endpoint, read on the reader thread."""

        def __init__(self, endpoint_id: int, view: Any, error: BaseException | None) -> None:
            super().__init__()
            self.endpoint_id = endpoint_id
            self.view = view
            self.error = error

    class CountsEstimated(Message):
        """Counts per state estimated for ``source`` while its exact count runs."""

        def __init__(self, source: Any, counts: dict[State, int]) -> None:
            super().__init__()
            self.source = source
            self.counts = counts

    class MarkedStates(Message):
        """How many marked endpoints are in each state (what the marks are offered)."""

        def __init__(self, marks: Marks, states: dict[str, int]) -> None:
            super().__init__()
            self.marks = marks
            self.states = states

    class ChoicesLoaded(Message):
        """The groups and tags the filters offer."""

        def __init__(self, groups: list[str], tags: list[str]) -> None:
            super().__init__()
            self.groups = groups
            self.tags = tags

    def __init__(self) -> None:
        super().__init__()
        self._detail_id: int | None = None
        self._counts: dict[State, int] | None = None
        self._counts_for: Any = None
        #: Counts estimated for the list's source while its exact count runs.
        self._estimate: dict[State, int] | None = None
        self._estimate_for: Any = None
        self._count: int | None = None
        self._search_failed = False
        self._updated: float | None = None
        #: The state the footer's keys were last worked out for.
        self._keys_for: str | None = None
        #: The marks before they were last cleared or replaced (Ctrl+z).
        self._undo_marks: Marks | None = None
        #: When a dialog over this screen last closed (time.monotonic).
        self._dialog_closed_at = 0.0
        #: The marked endpoints per state, once counted (None: not known yet).
        self._marked_states: dict[str, int] | None = None

    # --- building ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield FilterBar(id="filters")
        yield StateCounts(id="counts")
        with Container(id="body"):
            yield VirtualList(
                COLUMNS,
                render_endpoint,
                marks=True,
                empty="No endpoint matches the filter",
                clock=self.app.now,
                id="endpoints",
            )
            yield DetailPane(id="detail")
        yield StatusLine(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        vlist = self.endpoint_list
        vlist.is_marked = lambda row: self.marks.has(row.id, self.filter)
        vlist.on_together = self._refreshed
        vlist.set_sort_indicator(self.sort, self.descending)
        vlist.focus()
        self._sync_layout()
        self.query_one(StateCounts).show(None, total=None)
        self.query_one(DetailPane).show_message("Opening the database…")
        self.show_top()
        self._update_status()
        self.composed()

    def start(self) -> None:
        """The database is open and the operator known: read the first page."""
        problem = self.app.setup_problem
        if self._composed and problem is not None:
            self.report_problem(problem)
            self.query_one(DetailPane).show_message(problem)
            self.query_one(StateCounts).update("")
            return
        super().start()

    def begin(self) -> None:
        self.show_top()
        self.query_one(DetailPane).show_message("Reading endpoints…")
        self._apply_source()
        self._load_choices()

    # --- layout -----------------------------------------------------------------------

    def on_resize(self) -> None:
        self._sync_layout()
        self.show_top()
        self._update_status()
        self._show_counts()

    def _sync_layout(self) -> None:
        narrow = self.size.width < NARROW
        shown = self.detail_narrow if narrow else self.detail_wide
        self.set_class(not shown, "-no-detail")
        # The palette's key only where every key of the footer still fits beside it (at
        # 120 columns it would cut the last label); ctrl+p works everywhere.
        self.query_one(KeyFooter).palette = self.size.width >= FOOTER_WITH_PALETTE

    def action_toggle_detail(self) -> None:
        """Show or hide the detail pane (remembered per layout)."""
        if self.size.width < NARROW:
            self.detail_narrow = not self.detail_narrow
        else:
            self.detail_wide = not self.detail_wide

    def watch_detail_wide(self) -> None:
        self._detail_toggled()

    def watch_detail_narrow(self) -> None:
        self._detail_toggled()

    def _detail_toggled(self) -> None:
        if not self.is_mounted:
            return
        self._sync_layout()
        if self.detail_visible and self._detail_id is not None:
            self._load_detail(self._detail_id)

    @property
    def detail_visible(self) -> bool:
        """True when the detail pane is on screen."""
        return not self.has_class("-no-detail")

    # --- the query --------------------------------------------------------------------

    def _apply_source(self, *, keep_cursor: bool = False) -> None:
        source = EndpointSource(self.filter, self.sort, self.descending,
                                on_estimate=self._estimated)
        vlist = self.endpoint_list
        vlist.set_sort_indicator(self.sort, self.descending)
        vlist.set_source(source, keep_cursor=keep_cursor)
        self.query_one(StateCounts).set_class(True, "-pending")
        self._update_status()

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        self.set_filter(event.filter)

    def set_filter(self, new: Filter) -> None:
        """Show the endpoints matching ``new`` (an invalid search is explained, not run)."""
        error, warning = check_search(new)
        self.query_one(FilterBar).show_problem(error, warning)
        if error is not None or new == self.filter:
            return
        self.filter = new

    def watch_filter(self) -> None:
        if not self.is_mounted:
            return
        if self.marks.filter is not None:
            # Marks held as a filter are drawn against the filter shown (the rendered
            # rows are kept by whether they are marked: only drawn again, not rendered).
            self.endpoint_list.refresh()
        if self._started:
            self._apply_source()

    @on(FilterBar.Leave)
    def _leave_filters(self) -> None:
        self.set_focus(self.endpoint_list)

    def action_focus_search(self) -> None:
        """Into the search box."""
        self.query_one(FilterBar).focus_search()

    def action_clear_filters(self) -> None:
        """Every filter back to "all", and the list has the focus."""
        self.query_one(FilterBar).clear()
        self.set_focus(self.endpoint_list)

    def action_filter_state(self, state: str) -> None:
        """Filter by one state (a click on its count); a second click shows all again."""
        bar = self.query_one(FilterBar)
        bar.set_status(None if self.filter.states == (state,) else state)

    def action_sort_next(self) -> None:
        """Sort by the next column."""
        index = SORTS.index(self.sort) if self.sort in SORTS else -1
        self._sort_by(SORTS[(index + 1) % len(SORTS)], False)

    def action_sort_reverse(self) -> None:
        """Reverse the order."""
        self._sort_by(self.sort, not self.descending)

    @on(VirtualList.HeaderClicked)
    def _header_clicked(self, event: VirtualList.HeaderClicked) -> None:
        key = event.column.key
        self._sort_by(key, not self.descending if key == self.sort else False)

    def sort_by_column(self, key: str, descending: bool | None = None) -> None:
        """Sort by column ``key``; without an order, the same column again reverses it."""
        if descending is None:
            descending = not self.descending if key == self.sort else False
        self._sort_by(key, descending)

    def action_sort_by(self, key: str) -> None:
        """``o`` then a column's letter: sort by it (again: the other way)."""
        self.sort_by_column(key)

    async def action_copy_id(self, kind: str) -> None:
        """``yi`` ``ye`` ``ym``: the ICCID, EID or IMSI under the cursor to the clipboard."""
        label = {"iccid": "ICCID", "eid": "EID", "imsi": "IMSI"}[kind]
        row = self.endpoint_list.cursor_row
        if row is None:
            self.notify("No endpoint under the cursor", title="Copy", severity="warning")
            return
        endpoint_id = row.id

        def read() -> str:
            found = queries.views([endpoint_id])
            if not found:
                return ""
            view = found[0]
            if kind == "iccid":
                return str(view.iccid or "")
            if kind == "eid":
                return str(view.eid or "")
            return str(view.imsis[0]) if view.imsis else ""

        try:
            value = clean(await self.read(read))
        except STORE_ERRORS as exc:
            self.notify(explain(exc, self.app.database_name), title="Copy", severity="error")
            return
        name = printable(row.name or row.iccid or f"endpoint {row.id}")
        if not value:
            self.notify(f"{name} has no {label}", title="Copy", severity="warning")
            return
        off = clipboard_off()
        if off is not None:
            self.notify(f"Copy is off ({off}). {label} of {name}: {value}", title="Copy",
                        severity="warning", timeout=12)
            return
        self.app.copy_to_clipboard(value)
        self.notify(f"{label} {value} of {name} copied to the clipboard", title="Copy")

    def show_view(self, view: Any) -> None:
        """A saved view: its filter in the bar and the list, its sort."""
        self.query_one(FilterBar).show_filter(view.filter)
        self.query_one(FilterBar).show_problem(*check_search(view.filter))
        self.sort, self.descending = view.sort, view.descending
        if view.filter != self.filter:
            self.filter = view.filter
        elif self._started:
            self._apply_source(keep_cursor=True)
        self.set_focus(self.endpoint_list)

    def _sort_by(self, sort: str, descending: bool) -> None:
        self.sort, self.descending = sort, descending
        if self._started:
            # Re-sorting keeps the cursor on its endpoint, wherever it lands.
            self._apply_source(keep_cursor=True)

    def action_refresh(self) -> None:
        """Read everything again now."""
        self.refresh_data()

    # --- marks ------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        """Mark or unmark the cursor row (within a mark-all: leave it out), then move down."""
        vlist = self.endpoint_list
        row = vlist.cursor_row
        if row is None:
            return
        self.marks = self.marks.toggled(row.id, self.filter)
        vlist.action_cursor_down()

    def action_mark_all(self) -> None:
        """Mark everything the filter matches (held as the filter), keeping the rows
        marked one by one; a mark-all of another filter is replaced only when confirmed."""
        self._mark_all()

    @work(exclusive=True, group="dialog")
    async def _mark_all(self) -> None:
        old = self.marks
        if old.filter is not None and old.filter != self.filter:
            shown = old.describe(self.filter, None)
            replace = await self.app.push_screen_wait(ConfirmScreen(
                "Replace the marks?",
                [f"Now {shown}.", "Only one filter can be marked at a time: mark every "
                 "endpoint matching this filter instead?"],
            ))
            if not replace:
                return
            old = Marks(old.ids)
        self._remember_marks()
        self.marks = old.with_all(self.filter)

    def action_clear_marks(self) -> None:
        """No marks; more than a handful, or a mark-all, only when confirmed. Ctrl+z
        brings back the marks cleared last."""
        if not self.marks:
            return
        if time.monotonic() - self._dialog_closed_at < ESC_AFTER_DIALOG:
            # The Esc that closed a dialog, repeated: it never clears the marks too.
            return
        count = self.marks.count()
        if count is not None and count <= ASK_ABOVE:
            self._remember_marks()
            self.marks = Marks()
            return
        self._clear_marks()

    @work(exclusive=True, group="dialog")
    async def _clear_marks(self) -> None:
        shown = self.marks.describe(self.filter, self.endpoint_list.count)
        clear = await self.app.push_screen_wait(ConfirmScreen(
            "Clear the marks?", [f"Now {shown}.", "Ctrl+z brings them back."]
        ))
        if clear:
            self._remember_marks()
            self.marks = Marks()

    def _remember_marks(self) -> None:
        if self.marks:
            self._undo_marks = self.marks

    def action_undo_marks(self) -> None:
        """The marks as they were before they were last cleared or replaced."""
        if self._undo_marks is None:
            self.notify("No marks to bring back", title="Marks", severity="warning")
            return
        self.marks, self._undo_marks = self._undo_marks, None
        self.notify(f"Marks back: {self.marks.describe(self.filter, self.endpoint_list.count)}",
                    title="Marks")

    def on_screen_resume(self) -> None:
        self._dialog_closed_at = time.monotonic()

    def watch_marks(self) -> None:
        self._marked_states = None
        if self.is_mounted:
            self.refresh_bindings()
            self.endpoint_list.refresh_rows()
            self._update_status()
            self._count_marked_states()

    def _count_marked_states(self) -> None:
        """Count the marked endpoints per state on the reader thread; the keys follow."""
        if not self.marks or not self._started:
            return
        marks = self.marks
        targets = (Targets(filter=marks.filter) if marks.filter is not None
                   else Targets(ids=tuple(sorted(marks.ids))))

        def deliver(result: Any, error: BaseException | None) -> None:
            if error is None:
                self.post_message(self.MarkedStates(marks, dict(result)))

        self.app.reader.submit("marked-states", lambda: actions.target_states(targets),
                               deliver, priority=BACKGROUND)

    def on_endpoints_screen_marked_states(self, event: MarkedStates) -> None:
        if event.marks == self.marks:
            self._marked_states = event.states
            self.refresh_bindings()

    # --- the list's news --------------------------------------------------------------

    @on(VirtualList.CursorMoved, "#endpoints")
    def _cursor_moved(self, event: VirtualList.CursorMoved) -> None:
        self._update_status()
        state = event.row.state if event.row is not None else None
        if state != self._keys_for:
            # The footer offers what the new row's state allows.
            self._keys_for = state
            self.refresh_bindings()
        if event.row is None:
            return
        if event.row.id != self._detail_id or not self.debouncing("detail"):
            self._detail_id = event.row.id
            self.debounce("detail", DETAIL_DEBOUNCE, lambda: self._load_detail(self._detail_id))

    @on(VirtualList.CountChanged, "#endpoints")
    def _count_changed(self, event: VirtualList.CountChanged) -> None:
        if self._count is None:
            self.call_after_refresh(self.app.first_page_shown)
        self._count = event.count
        counts = getattr(event.source, "state_counts", None)
        if event.source is self.endpoint_list.source and counts is not None:
            self._counts = counts
            self._counts_for = event.source
        self._updated = self.app.now()
        if not self.endpoint_list.failing:
            self.problem = None
        if event.count == 0:
            self._detail_id = None
            self.query_one(DetailPane).show_message("No endpoint matches the filter")
        self._show_counts()
        self._update_status()

    @on(VirtualList.Failed, "#endpoints")
    def _list_failed(self, event: VirtualList.Failed) -> None:
        text = explain(event.error, self.app.database_name)
        if event.new_query:
            # The search could not run: say so where the operator is typing, not in a toast.
            self.query_one(FilterBar).show_problem(text)
            self._search_failed = True
            self.problem = None
            self._update_status()
            return
        self.report_problem(text)

    @on(VirtualList.Recovered, "#endpoints")
    def _list_recovered(self) -> None:
        self.problem = None
        if self._search_failed:
            self._search_failed = False
            self.query_one(FilterBar).show_problem(*check_search(self.filter))
        self._update_status()

    def watch_problem(self) -> None:
        self._update_status()

    def _estimated(self, source: Any, estimate: queries.StateCounts) -> None:
        """On the reader thread: counts estimated, the exact ones on their way."""
        self.post_message(self.CountsEstimated(source, estimate.counts))

    def on_endpoints_screen_counts_estimated(self, event: CountsEstimated) -> None:
        if event.source is not self.endpoint_list.source or self._counts_for is event.source:
            return
        self._estimate, self._estimate_for = event.counts, event.source
        self._show_counts()

    def _show_counts(self) -> None:
        vlist = self.endpoint_list
        pending = self._counts_for is not vlist.source
        if pending and self._estimate_for is vlist.source and self._estimate is not None:
            # Marked ≈ until the exact counts replace them.
            self.query_one(StateCounts).show(
                self._estimate, total=None, selected=self.filter.states, approximate=True,
            )
            return
        self.query_one(StateCounts).show(
            self._counts, total=self._count if not pending else None,
            selected=self.filter.states, pending=pending,
        )

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        vlist = self.endpoint_list
        count = vlist.count
        if vlist.stale and self._started:
            position = "Searching…"
        elif count is None:
            position = f"Row {number(vlist.cursor + 1)} of …" if vlist.cursor_row else "Reading…"
        elif count == 0:
            position = "No endpoints"
        else:
            position = f"Row {number(vlist.cursor + 1)} of {number(count)}"
        sort = f"{SORT_LABELS.get(self.sort, self.sort)} {'▼' if self.descending else '▲'}"
        updated = f"updated {clock_time(self._updated)}" if self._updated else ""
        self.query_one(StatusLine).show(
            position=position, sort=sort, marks=self.marks.describe(self.filter, count),
            updated=updated, problem=self.problem,
        )

    # --- detail -----------------------------------------------------------------------

    def _load_detail(self, endpoint_id: int | None) -> None:
        if endpoint_id is None or not self.detail_visible:
            return
        reader = self.app.reader

        def read() -> Any:
            found = queries.views([endpoint_id], history=10)
            return found[0] if found else None

        def deliver(result: Any, error: BaseException | None) -> None:
            self.post_message(self.DetailLoaded(endpoint_id, result, error))

        reader.submit("detail", read, deliver, priority=DETAIL)

    def on_endpoints_screen_detail_loaded(self, event: DetailLoaded) -> None:
        if event.endpoint_id != self._detail_id:
            return
        pane = self.query_one(DetailPane)
        if event.error is not None:
            pane.show_message(explain(event.error))
            return
        offered = self.offered(event.view.state) if event.view is not None else []
        pane.show(event.view, self.app.now(),
                  actions=[(self.app.key_display(c), c.label) for c in offered])

    # --- choices ----------------------------------------------------------------------

    def _load_choices(self) -> None:
        def read() -> tuple[list[str], list[str]]:
            return group_choices(), tag_choices()

        def deliver(result: Any, error: BaseException | None) -> None:
            if error is None:
                self.post_message(self.ChoicesLoaded(*result))

        self.app.reader.submit("choices", read, deliver, priority=BACKGROUND)

    def on_endpoints_screen_choices_loaded(self, event: ChoicesLoaded) -> None:
        self.query_one(FilterBar).set_choices(groups=event.groups, tags=event.tags)

    # --- live refresh -----------------------------------------------------------------

    def refresh_data(self) -> None:
        """Someone changed something: read what is on screen again, cursor kept.

        The rows, the count and counts per state, the detail (with the actions it
        offers) and the marked states are read in one go and drawn in one repaint: the
        operator never sees a row in its new state beside counts or offered actions of
        the old one.
        """
        if not self._started:
            return
        detail_id = self._detail_id if self.detail_visible else None
        marks = self.marks
        targets = None
        if marks:
            targets = (Targets(filter=marks.filter) if marks.filter is not None
                       else Targets(ids=tuple(sorted(marks.ids))))

        def together(source: Any) -> tuple[int | None, Any]:
            counts = queries.counts_by_state(source.filter)
            source.state_counts = counts
            view = None
            if detail_id is not None:
                found = queries.views([detail_id], history=10)
                view = found[0] if found else None
            states = actions.target_states(targets) if targets is not None else None
            return sum(counts.values()), _Together(source, counts, detail_id, view, marks,
                                                   states)

        if not self.endpoint_list.reload(together=together):
            if self._detail_id is not None:
                self._load_detail(self._detail_id)
            self._count_marked_states()
        self._load_choices()

    def _refreshed(self, read: Any) -> None:
        """A live refresh's counts, detail and marked states, drawn with its rows."""
        if not isinstance(read, _Together):
            return
        vlist = self.endpoint_list
        if read.source is vlist.source:
            self._counts, self._counts_for = read.counts, read.source
            self._count = vlist.count
            self._updated = self.app.now()
            self._show_counts()
        if read.marks == self.marks and read.states is not None:
            self._marked_states = read.states
        row = vlist.cursor_row
        if read.detail_id is not None and row is not None and row.id == read.detail_id \
                and read.detail_id == self._detail_id:
            offered = self.offered(read.view.state) if read.view is not None else []
            self.query_one(DetailPane).show(
                read.view, self.app.now(),
                actions=[(self.app.key_display(c), c.label) for c in offered])
        self._keys_for = row.state if row is not None else None
        self._update_status()
        self.refresh_bindings()

    # --- roles ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not keys.allowed(action, self.actor):
            return False
        act = ACTIONS.get(action)
        if act is None:
            if action in ON_A_ROW:
                # Nothing to show the menu or the history of on an empty list.
                vlist = next(self.query("#endpoints").results(VirtualList), None)
                has_row = vlist is not None and vlist.cursor_row is not None
                return has_row or (action == "actions_menu" and bool(self.marks))
            return True
        if not offers.may(self.actor, action, self.policy):
            return False  # the role, or the deployment's policy (allow_resume off)
        if not act.row:
            return True
        if self.marks:
            # On marks: only what at least one marked endpoint allows (once their states
            # are counted; until then, what the role and the policy allow).
            states = self._marked_states
            return states is None or offers.on_marks(self.actor, action, states, self.policy)
        # One endpoint: what its state forbids is not offered (nor shown in the footer);
        # no endpoint (an empty list) is offered nothing. Asked while the screen is still
        # being built or torn down too.
        vlist = next(self.query("#endpoints").results(VirtualList), None)
        row = vlist.cursor_row if vlist is not None else None
        return offers.on_row(self.actor, action, row.state if row else None, self.policy)

    async def on_key(self, event: Any) -> None:
        # A key of an action the deployment's policy refuses (R while allow_resume is off)
        # is not offered; pressed anyway, it says why rather than nothing. Not the second
        # key of a chord (``gg``, ``yi``), which the chords take first.
        if self.chord_pending() is None:
            for command in keys.commands(keys.ENDPOINTS):
                if event.key in command.keys and command.allowed(self.actor):
                    why = offers.policy_refusal(command.id, self.policy)
                    if why:
                        event.stop()
                        self.notify(why, title=command.label, severity="warning", timeout=8)
                        return
        await super().on_key(event)

    def policy_changed(self) -> None:
        # The detail pane lists the actions offered: read it again under the new policy.
        if self._detail_id is not None:
            self._load_detail(self._detail_id)

    async def action_history(self) -> None:
        """The Audit log screen, filtered to the endpoint under the cursor."""
        row = self.endpoint_list.cursor_row
        if row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return
        await self.app.switch_mode("audit")
        screen = self.app.screen
        if isinstance(screen, AuditScreen):
            # By ICCID, as the operator knows it; an endpoint with no SIM by its id.
            screen.show_endpoint(row.iccid or str(row.id))

    def show_endpoint(self, iccid: str, name: str = "") -> None:
        """Show the endpoint with this ICCID (else, by name) alone: a drill-down from the
        SIM inventory or the Audit log."""
        text = iccid or (f"name:{name}" if name else "")
        if text:
            self.query_one(FilterBar).show_search(text)
        self.set_focus(self.endpoint_list)

    # --- the actions menu -------------------------------------------------------------

    def offered(self, state: str | None = None) -> list[keys.Command]:
        """The endpoint actions offered now: on the marks, or on a row in ``state``.

        The same rule as the keys (``check_action``), core's (``offers``): the role and
        the deployment's policy allow it and, for one endpoint, its state does; on marks,
        the bulk actions at least one marked endpoint allows. An action not offered on a
        row picks its endpoints itself (purge: those old enough), so neither a row nor
        marks choose them and the menu leaves it out.
        """
        out = []
        for command in keys.commands(keys.ENDPOINTS):
            act = ACTIONS.get(command.id)
            if act is None or not act.row or not command.allowed(self.actor):
                continue
            if self.marks and state is None:
                states = self._marked_states
                if act.bulk and (
                    offers.may(self.actor, act.name, self.policy) if states is None
                    else offers.on_marks(self.actor, act.name, states, self.policy)
                ):
                    out.append(command)
            elif offers.on_row(self.actor, act.name, state, self.policy):
                out.append(command)
        return out

    def action_actions_menu(self) -> None:
        """The actions menu of the endpoint under the cursor (or of the marks)."""
        self._actions_menu()

    @work(exclusive=True, group="dialog")
    async def _actions_menu(self) -> None:
        row = self.endpoint_list.cursor_row
        if self.marks:
            title = f"Actions on {self.marks.describe(self.filter, self.endpoint_list.count)}"
            offered = self.offered()
        elif row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return
        else:
            name = row.name or row.iccid or f"endpoint {row.id}"
            title = f"Actions on {name} ({State(row.state).label})"
            offered = self.offered(row.state)
        choices = [
            (c.id, self.app.key_display(c), c.label, c.description, c.dangerous) for c in offered
        ]
        chosen = await self.app.push_screen_wait(ActionsMenu(title, choices))
        if chosen is not None:
            await self.run_action(chosen)

    def why_not(self, action: str) -> str | None:
        """The refusal in core's words, when the policy or the cursor row's state forbids
        ``action``."""
        refused = offers.policy_refusal(action, self.policy)
        if refused:
            return refused
        act = ACTIONS.get(action)
        row = self.endpoint_list.cursor_row
        if act is None or not act.row or row is None or self.marks or act.allowed(row.state):
            return None
        return act.refusal(row.state)

    def marked_ids(self) -> frozenset[Hashable]:
        """The explicit marks (tests and, later, bulk actions)."""
        return frozenset(self.marks.ids)

    def status_text(self) -> str:
        """The status line's text (tests)."""
        return str(self.query_one(StatusLine).render())


__all__ = ["EndpointsScreen", "Marks"]
