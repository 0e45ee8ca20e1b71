"""The filter bar: Status, Endpoint Group, Tag and Search, applied as the operator types."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Select

from simdeck.core.lifecycle import STATES
from simdeck.core.queries import TOKEN_FIELDS, Filter
from simdeck.tui import keys
from simdeck.tui.widgets.debounce import Debounce

#: Typing in the search box waits this long for the next key before the list follows.
#: Short: the reader thread already drops a query a newer one replaced, and interrupts
#: one that is running, so the debounce only spares the queries of a burst of keys.
DEBOUNCE = 0.015

SEARCH_HINT = (
    "Search: ICCID prefix, name or reference; or "
    + " ".join(f"{f}:" for f in TOKEN_FIELDS[:7])
    + "…  -token negates"
)


class FilterBar(Debounce, Vertical):
    """The four filter controls and, under the search box, its hint or error."""

    BINDINGS: ClassVar = keys.bindings(keys.FILTERS)

    class Changed(Message):
        """The filter the controls describe now."""

        def __init__(self, bar: FilterBar, filter: Filter) -> None:
            super().__init__()
            self.bar = bar
            self.filter = filter

        @property
        def control(self) -> FilterBar:
            """The bar."""
            return self.bar

    class Leave(Message):
        """The operator wants the list back (Escape, or Down in the search box)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._quiet = 0
        #: The options each Select was last given, so the same list is not set again.
        self._options: dict[str, list[tuple[str, str]]] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-controls"):
            yield Select(
                [(s.label, s.value) for s in STATES],
                prompt="Status: all",
                id="filter-status",
                compact=True,
            )
            yield Select([], prompt="Group: all", id="filter-group", compact=True)
            yield Select([], prompt="Tag: all", id="filter-tag", compact=True)
            yield Input(
                placeholder="/ Search",
                id="filter-search",
                compact=True,
            )
        yield Label(SEARCH_HINT, id="search-message", markup=False)

    # --- reading and writing the controls ---------------------------------------------

    @property
    def filter(self) -> Filter:
        """The filter the controls describe."""
        status = self.query_one("#filter-status", Select).value
        group = self.query_one("#filter-group", Select).value
        tag = self.query_one("#filter-tag", Select).value
        return Filter(
            states=(str(status),) if status is not Select.NULL else (),
            group=str(group) if group is not Select.NULL else None,
            tag=str(tag) if tag is not Select.NULL else None,
            search=self.query_one("#filter-search", Input).value,
        )

    def set_choices(
        self, *, groups: list[str] | None = None, tags: list[str] | None = None
    ) -> None:
        """Offer these groups and tags, keeping what is chosen."""
        controls = (("#filter-group", groups, "Group"), ("#filter-tag", tags, "Tag"))
        for wid, values, label in controls:
            if values is None:
                continue
            select: Select[str] = self.query_one(wid, Select)
            current = select.value
            if current is not Select.NULL and current not in values:
                values = [*values, str(current)]
            options = [(v, v) for v in values]
            if self._options.get(wid) == options:
                continue
            self._options[wid] = options
            with self.prevent(Select.Changed):
                select.set_options(options)
                if current is not Select.NULL:
                    select.value = current
            select.prompt = f"{label}: all"

    def clear(self) -> None:
        """Every control back to "all"; one Changed follows."""
        with self.prevent(Select.Changed, Input.Changed):
            for select in self.query(Select):
                select.clear()
            self.query_one("#filter-search", Input).value = ""
        self._emit()

    def show_group(self, name: str, groups: list[str]) -> None:
        """Show only group ``name`` (among ``groups``), every other control at "all";
        no Changed follows: the screen sets the filter itself."""
        self.set_choices(groups=groups)
        with self.prevent(Select.Changed, Input.Changed):
            for select in self.query(Select):
                select.clear()
            self.query_one("#filter-search", Input).value = ""
            self.query_one("#filter-group", Select).value = name

    def show_search(self, text: str) -> None:
        """Search ``text`` with every other control at "all" (a drill-down from another
        screen); one Changed follows."""
        with self.prevent(Select.Changed, Input.Changed):
            for select in self.query(Select):
                select.clear()
            self.query_one("#filter-search", Input).value = text
        self._emit()

    def set_status(self, state: str | None) -> None:
        """Choose a status (a click on a count); None for all."""
        select = self.query_one("#filter-status", Select)
        with self.prevent(Select.Changed):
            if state is None:
                select.clear()
            else:
                select.value = state
        self._emit()

    def show_problem(self, error: str | None, warning: str | None = None) -> None:
        """Under the search box: the error, else the warning, else the hint."""
        label = self.query_one("#search-message", Label)
        label.set_class(error is not None, "-error")
        label.set_class(error is None and warning is not None, "-warning")
        if error is not None:
            label.update(Content(f"Cannot search: {error}"))
        elif warning is not None:
            label.update(Content(f"Note: {warning}"))
        else:
            label.update(Content(SEARCH_HINT))

    def focus_search(self) -> None:
        """Put the cursor in the search box, at once: keys typed right after ``/`` go there."""
        self.screen.set_focus(self.query_one("#filter-search", Input))

    # --- events -----------------------------------------------------------------------

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._emit()

    @on(Input.Changed, "#filter-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.debounce("search", DEBOUNCE, self._emit)

    @on(Input.Submitted, "#filter-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._emit()
        self.post_message(self.Leave())

    def _emit(self) -> None:
        self.cancel_debounce("search")
        self.post_message(self.Changed(self, self.filter))

    def action_leave_filters(self) -> None:
        """Back to the list."""
        self.post_message(self.Leave())
