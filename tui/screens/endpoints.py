"""The Endpoints screen, the console's home: filters, counts, the list, the detail pane.

The screen holds the state (filter, sort, marks) and asks the reader thread for the
data; its widgets only draw what they are given. Marks are a set of endpoint ids, or
a filter ("every endpoint matching this"), never a million ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from core import actions, db, queries, records
from core.actions import Targets
from core.errors import SimdeckError
from core.lifecycle import ACTIONS, State
from core.models import Endpoint
from core.queries import Filter
from tui import keys
from tui.format import clock_time, number
from tui.problems import explain
from tui.reader import BACKGROUND, DETAIL, URGENT
from tui.screens.dialogs import CONTINUE, ConfirmScreen, GroupPicker, SimPicker
from tui.sources import EndpointSource, check_search, group_choices, tag_choices
from tui.widgets.detail import DetailPane
from tui.widgets.endpoint_rows import COLUMNS, SORT_LABELS, SORTS, render_endpoint
from tui.widgets.filter_bar import FilterBar
from tui.widgets.status import StateCounts, StatusLine, TopBar
from tui.widgets.virtual_list import VirtualList

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


@dataclass(frozen=True)
class Marks:
    """The marked endpoints: explicit ids, or everything a filter matches."""

    ids: frozenset[int] = field(default_factory=frozenset)
    filter: Filter | None = None

    def __bool__(self) -> bool:
        return bool(self.ids) or self.filter is not None

    def has(self, endpoint_id: int, shown: Filter) -> bool:
        """True when the endpoint is marked (a filter mark covers the rows of that filter)."""
        if self.filter is not None:
            return self.filter == shown
        return endpoint_id in self.ids

    def toggled(self, endpoint_id: int) -> Marks:
        """The marks with one endpoint added or taken away."""
        if endpoint_id in self.ids:
            return Marks(self.ids - {endpoint_id})
        return Marks(self.ids | {endpoint_id})

    def describe(self, shown: Filter, count: int | None) -> str:
        """For the status line: ``3 marked`` or ``all 1,234 matching marked``."""
        if self.filter is not None:
            if self.filter == shown and count is not None:
                return f"all {number(count)} matching marked"
            return f"marked: all matching {self.filter.describe()}"
        if self.ids:
            return f"{number(len(self.ids))} marked"
        return ""


class EndpointsScreen(Screen[None]):
    """Inventory → Endpoints, past the portal: every key from ``tui.keys``."""

    COMMAND_SCOPES: ClassVar = (keys.ENDPOINTS, keys.LIST)
    AUTO_FOCUS = "#endpoints"
    BINDINGS: ClassVar = keys.bindings(keys.ENDPOINTS)
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (NARROW, "-wide"), (WIDE, "-huge")]
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-short"), (SHORT, "-tall")]

    filter: var[Filter] = var(Filter)
    sort: var[str] = var(DEFAULT_SORT)
    descending: var[bool] = var(False)
    marks: var[Marks] = var(Marks)
    detail_wide: var[bool] = var(True)
    detail_narrow: var[bool] = var(False)

    class DetailLoaded(Message):
        """The detail of one endpoint, read on the reader thread."""

        def __init__(self, endpoint_id: int, view: Any, error: BaseException | None) -> None:
            super().__init__()
            self.endpoint_id = endpoint_id
            self.view = view
            self.error = error

    class ChoicesLoaded(Message):
        """The groups and tags the filters offer."""

        def __init__(self, groups: list[str], tags: list[str]) -> None:
            super().__init__()
            self.groups = groups
            self.tags = tags

    def __init__(self) -> None:
        super().__init__()
        self._started = False
        self._composed = False
        self._detail_timer: Timer | None = None
        self._detail_id: int | None = None
        self._counts: dict[State, int] | None = None
        self._counts_for: Any = None
        self._count: int | None = None
        self._problem: str | None = None
        self._search_failed = False
        self._updated: float | None = None

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
                clock=self.app.now,  # type: ignore[attr-defined]
                id="endpoints",
            )
            yield DetailPane(id="detail")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    @property
    def endpoint_list(self) -> VirtualList:
        """The list."""
        return self.query_one("#endpoints", VirtualList)

    def on_mount(self) -> None:
        vlist = self.endpoint_list
        vlist.is_marked = lambda row: self.marks.has(row.id, self.filter)
        vlist.set_sort_indicator(self.sort, self.descending)
        vlist.focus()
        self._sync_layout()
        self.query_one(StateCounts).show(None, total=None)
        self.query_one(DetailPane).show_message("Opening the database…")
        self._show_top()
        self._update_status()
        self._composed = True
        self.start()

    def start(self) -> None:
        """The database is open and the operator known: read the first page."""
        if self._started or not self._composed:
            # Not drawn yet: on_mount starts it, the operator being known by then.
            return
        app: Any = self.app
        if app.setup_problem is not None:
            self.report_problem(app.setup_problem)
            self.query_one(DetailPane).show_message(app.setup_problem)
            self.query_one(StateCounts).update("")
            return
        if app.actor is None:
            return
        self._started = True
        self._show_top()
        self.query_one(DetailPane).show_message("Reading endpoints…")
        self._apply_source()
        self._load_choices()

    def _show_top(self) -> None:
        app: Any = self.app
        actor = getattr(app, "actor", None)
        self.query_one(TopBar).show(
            screen="Endpoints",
            database=getattr(app, "database_name", ""),
            user=actor.name if actor else "",
            role=actor.role.value if actor else "",
            read_only=bool(getattr(app, "read_only", False)),
        )

    # --- layout -----------------------------------------------------------------------

    def on_resize(self) -> None:
        self._sync_layout()
        self._show_top()
        self._update_status()
        self._show_counts()

    def _sync_layout(self) -> None:
        narrow = self.size.width < NARROW
        shown = self.detail_narrow if narrow else self.detail_wide
        self.set_class(not shown, "-no-detail")
        self.query_one(Footer).show_command_palette = not narrow

    def action_toggle_detail(self) -> None:
        """Show or hide the detail pane (remembered per layout)."""
        if self.size.width < NARROW:
            self.detail_narrow = not self.detail_narrow
        else:
            self.detail_wide = not self.detail_wide
        self._sync_layout()
        if not self.has_class("-no-detail") and self._detail_id is not None:
            self._load_detail(self._detail_id)

    @property
    def detail_visible(self) -> bool:
        """True when the detail pane is on screen."""
        return not self.has_class("-no-detail")

    # --- the query --------------------------------------------------------------------

    def _apply_source(self, *, keep_cursor: bool = False) -> None:
        source = EndpointSource(self.filter, self.sort, self.descending)
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
        vlist = self.endpoint_list
        vlist.refresh_rows()
        if self._started:
            self._apply_source()

    @on(FilterBar.Leave)
    def _leave_filters(self) -> None:
        self.set_focus(self.endpoint_list)

    def action_focus_search(self) -> None:
        """Into the search box."""
        self.query_one(FilterBar).focus_search()

    def action_clear_filters(self) -> None:
        """Every filter back to "all"."""
        self.query_one(FilterBar).clear()

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
        """Mark or unmark the cursor row, then move down."""
        vlist = self.endpoint_list
        row = vlist.cursor_row
        if row is None:
            return
        if self.marks.filter is not None:
            self.notify(
                "Every endpoint matching the filter is marked; Esc clears the marks, "
                "then mark endpoints one by one.",
                title="Marks",
            )
            return
        self.marks = self.marks.toggled(row.id)
        vlist.action_cursor_down()

    def action_mark_all(self) -> None:
        """Mark everything the filter matches (held as the filter)."""
        self.marks = Marks(filter=self.filter)

    def action_clear_marks(self) -> None:
        """No marks."""
        if self.marks:
            self.marks = Marks()

    def watch_marks(self) -> None:
        if self.is_mounted:
            self.endpoint_list.refresh_rows()
            self._update_status()

    # --- the list's news --------------------------------------------------------------

    @on(VirtualList.CursorMoved, "#endpoints")
    def _cursor_moved(self, event: VirtualList.CursorMoved) -> None:
        self._update_status()
        if event.row is None:
            return
        if event.row.id != self._detail_id or self._detail_timer is None:
            self._detail_id = event.row.id
            if self._detail_timer is not None:
                self._detail_timer.stop()
            self._detail_timer = self.set_timer(
                DETAIL_DEBOUNCE, lambda: self._load_detail(self._detail_id)
            )

    @on(VirtualList.CountChanged, "#endpoints")
    def _count_changed(self, event: VirtualList.CountChanged) -> None:
        if self._count is None:
            self.call_after_refresh(self.app.first_page_shown)  # type: ignore[attr-defined]
        self._count = event.count
        counts = getattr(event.source, "state_counts", None)
        if event.source is self.endpoint_list.source and counts is not None:
            self._counts = counts
            self._counts_for = event.source
        self._updated = self.app.now()  # type: ignore[attr-defined]
        if not self.endpoint_list.failing:
            self._problem = None
        if event.count == 0:
            self._detail_id = None
            self.query_one(DetailPane).show_message("No endpoint matches the filter")
        self._show_counts()
        self._update_status()

    @on(VirtualList.Failed, "#endpoints")
    def _list_failed(self, event: VirtualList.Failed) -> None:
        text = explain(event.error, getattr(self.app, "database_name", ""))
        if event.new_query:
            # The search could not run: say so where the operator is typing, not in a toast.
            self.query_one(FilterBar).show_problem(text)
            self._search_failed = True
            self._problem = None
            self._update_status()
            return
        self.report_problem(text)

    @on(VirtualList.Recovered, "#endpoints")
    def _list_recovered(self) -> None:
        self._problem = None
        if self._search_failed:
            self._search_failed = False
            self.query_one(FilterBar).show_problem(*check_search(self.filter))
        self._update_status()

    def report_problem(self, text: str) -> None:
        """Say what went wrong, in the status line and once as a notification."""
        if text != self._problem:
            self.notify(text, title="Cannot read", severity="error", timeout=8)
        self._problem = text
        self._update_status()

    def _show_counts(self) -> None:
        vlist = self.endpoint_list
        pending = self._counts_for is not vlist.source
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
            updated=updated, problem=self._problem,
        )

    # --- detail -----------------------------------------------------------------------

    def _load_detail(self, endpoint_id: int | None) -> None:
        self._detail_timer = None
        if endpoint_id is None or not self.detail_visible:
            return
        reader = self.app.reader  # type: ignore[attr-defined]

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
        pane.show(event.view, self.app.now())  # type: ignore[attr-defined]

    # --- choices ----------------------------------------------------------------------

    def _load_choices(self) -> None:
        def read() -> tuple[list[str], list[str]]:
            return group_choices(), tag_choices()

        def deliver(result: Any, error: BaseException | None) -> None:
            if error is None:
                self.post_message(self.ChoicesLoaded(*result))

        self.app.reader.submit("choices", read, deliver, priority=BACKGROUND)  # type: ignore[attr-defined]

    def on_endpoints_screen_choices_loaded(self, event: ChoicesLoaded) -> None:
        self.query_one(FilterBar).set_choices(groups=event.groups, tags=event.tags)

    # --- live refresh -----------------------------------------------------------------

    def refresh_data(self) -> None:
        """Someone changed something: read what is on screen again, cursor kept."""
        if not self._started:
            return
        self.endpoint_list.reload()
        if self._detail_id is not None:
            self._load_detail(self._detail_id)
        self._load_choices()

    def on_screen_suspend(self) -> None:
        self.app.reader.paused = True  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        app: Any = self.app
        app.reader.paused = False
        app.reader.poll_soon()
        if app.take_stale():
            self.refresh_data()

    # --- lifecycle actions ------------------------------------------------------------

    async def read(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the reader thread and wait for its result (errors are raised)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def deliver(result: Any, error: BaseException | None) -> None:
            def settle() -> None:
                if future.done():
                    return
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)

            loop.call_soon_threadsafe(settle)

        self.app.reader.submit(f"dialog-{id(future)}", fn, deliver, priority=URGENT)  # type: ignore[attr-defined]
        return await future

    def targets(self) -> tuple[Targets, Any] | None:
        """The marks, or else the cursor row (with that row, when it is the target)."""
        if self.marks.filter is not None:
            return Targets(filter=self.marks.filter), None
        if self.marks.ids:
            return Targets(ids=tuple(sorted(self.marks.ids))), None
        row = self.endpoint_list.cursor_row
        if row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return None
        return Targets.one(row.id), row

    def _hidden(self) -> int:
        """How many marks the current filter hides (runs on the reader thread)."""
        shown = queries.endpoint_ids(self.filter)
        if self.marks.filter is not None:
            if self.marks.filter == self.filter:
                return 0
            marked = queries.endpoint_ids(self.marks.filter)
            return int(marked.count()) - int(
                Endpoint.select().where(Endpoint.id.in_(marked) & Endpoint.id.in_(shown)).count()
            )
        ids = list(self.marks.ids)
        if not ids:
            return 0
        return len(ids) - int(shown.where(Endpoint.id.in_(ids)).count())

    def action_activate(self) -> None:
        """Activate the marked (or cursor) endpoints."""
        self._lifecycle("activate")

    def action_suspend(self) -> None:
        """Suspend the marked (or cursor) endpoints."""
        self._lifecycle("suspend")

    def action_resume(self) -> None:
        """Resume the marked (or cursor) endpoints, when the policy allows it."""
        self._lifecycle("resume")

    def action_delink(self) -> None:
        """De-link the SIM of the marked (or cursor) endpoints."""
        self._lifecycle("delink")

    def action_terminate(self) -> None:
        """Terminate the marked (or cursor) endpoints, after a typed confirmation."""
        self._lifecycle("terminate")

    def action_assign_group(self) -> None:
        """Assign the marked (or cursor) endpoints to an Endpoint Group."""
        self._lifecycle("assign_group")

    @work(exclusive=True, group="dialog")
    async def _lifecycle(self, name: str) -> None:
        chosen = self.targets()
        if chosen is None:
            return
        targets, row = chosen
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        act = ACTIONS[name]
        group: str | None = None
        try:
            if name == "assign_group":
                actor.require(act.role, act.label.lower())
                groups = await self.read(queries.groups_with_counts)
                group = await self.app.push_screen_wait(GroupPicker(groups))
                if group is None:
                    return

            def read() -> tuple[Any, int, str | None]:
                preview = actions.preview(actor, name, targets, group=group)
                iccid = None
                if name == "delink" and targets.is_single():
                    found = queries.views([targets.ids[0]])
                    iccid = found[0].iccid if found else None
                return preview, self._hidden(), iccid

            preview, hidden, iccid = await self.read(read)
        except SimdeckError as exc:
            self.notify(exc.message, title=act.label, severity="error", timeout=8)
            return
        lines = preview.lines()
        title, body = lines[0].rstrip("."), [line.strip() for line in lines[1:]]
        if group is not None:
            title = f"{title} (to {group})"
        if hidden:
            body.append(f"{number(hidden)} marked endpoint{'s are' if hidden != 1 else ' is'} "
                        "hidden by the current filter, and included.")
        if preview.eligible == 0:
            self.notify("\n".join([title, *body]), title=act.label, severity="warning")
            return
        typed = None
        if name == "terminate":
            body.append("Terminate is irreversible. The record is kept 90 days, then deleted.")
            typed = f"terminate {preview.eligible}"
        if name == "delink":
            body.insert(0, CONTINUE)
        confirmed = await self.app.push_screen_wait(
            ConfirmScreen(title, body, dangerous=act.dangerous, typed=typed)
        )
        if not confirmed:
            return
        if name == "delink" and iccid is None and row is not None:
            iccid = row.iccid
        self._apply(name, targets, group, iccid)

    @work(thread=True, group="write")
    def _apply(self, name: str, targets: Targets, group: str | None, iccid: str | None) -> None:
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        try:
            result = actions.run(actor, name, targets, group=group)
        except SimdeckError as exc:
            self.app.call_from_thread(self._report, ACTIONS[name].label, exc.message, "error")
            return
        finally:
            db.database.close()
        text = "\n".join(result.lines())
        if name == "delink" and iccid and targets.is_single() and result.applied == 1:
            text = f"SIM {iccid} de-linked successfully"
        severity = "information" if result.applied and not result.skipped else "warning"
        self.app.call_from_thread(self._report, ACTIONS[name].label, text, severity, True)

    def _report(self, title: str, text: str, severity: Any, changed: bool = False) -> None:
        self.notify(text, title=title, severity=severity, timeout=8)
        if changed:
            if self.marks:
                self.marks = Marks()
            self.refresh_data()

    def action_link(self) -> None:
        """Link a Ready to Activate SIM to the endpoint under the cursor (in Hold)."""
        self._link()

    @work(exclusive=True, group="dialog")
    async def _link(self) -> None:
        act = ACTIONS["link"]
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        row = self.endpoint_list.cursor_row
        if row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return
        try:
            actor.require(act.role, "link SIMs")
        except SimdeckError as exc:
            self.notify(exc.message, title=act.label, severity="error", timeout=8)
            return
        if not act.allowed(row.state):
            self.notify(act.refusal(row.state), title=act.label, severity="warning")
            return
        iccid = await self.app.push_screen_wait(SimPicker(row.name or f"endpoint {row.id}"))
        if iccid is None:
            return
        if not await self.app.push_screen_wait(ConfirmScreen(CONTINUE)):
            return
        self._write_link(row.id, iccid)

    @work(thread=True, group="write")
    def _write_link(self, endpoint_id: int, iccid: str) -> None:
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        try:
            view = records.link_sim(actor, endpoint_id, iccid)
        except SimdeckError as exc:
            self.app.call_from_thread(self._report, "Link SIM", exc.message, "error")
            return
        finally:
            db.database.close()
        title = f"Link SIM · the endpoint is {State(view.state).label}"
        text = f"SIM {iccid} linked successfully"
        self.app.call_from_thread(self._report, title, text, "information", True)

    # --- roles ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return keys.allowed(action, getattr(self.app, "actor", None))

    def marked_ids(self) -> frozenset[Hashable]:
        """The explicit marks (tests and, later, bulk actions)."""
        return frozenset(self.marks.ids)

    def status_text(self) -> str:
        """The status line's text (tests)."""
        return str(self.query_one(StatusLine).render())


__all__ = ["EndpointsScreen", "Marks"]
