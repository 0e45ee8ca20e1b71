"""The filter bar: Status, Endpoint Group, Tag and Search, applied as the operator types."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Select

from simdeck.core.lifecycle import STATES
from simdeck.core.queries import TOKEN_FIELDS, Filter
from simdeck.tui import keys
from simdeck.tui.format import safe
from simdeck.tui.widgets.debounce import Debounce

#: Typing in the search box waits this long for the next key before the list follows.
#: Short: the reader thread already drops a query a newer one replaced, and interrupts
#: one that is running, so the debounce only spares the queries of a burst of keys.
DEBOUNCE = 0.008

SEARCH_HINT = (
    "Search: ICCID prefix, name or reference; or "
    + " ".join(f"{f}:" for f in TOKEN_FIELDS[:7])
    + "…  -token negates"
)


#: Searches kept for ↑/↓ in the search box (this console's, newest last).
HISTORY = 50


class FilterSelect(Select[str], inherit_bindings=False):
    """A filter's dropdown: Enter or space opens it; ↓ on it closed goes to the list (the
    bar's binding), as from every other control of the bar."""

    BINDINGS: ClassVar = [Binding("enter,space", "show_overlay", "Show menu", show=False)]


class SearchInput(Input):
    """The search box: ``/`` in an empty box does nothing (the search is already open,
    ``//`` is not a search for a slash); in a box with text it types a slash
    (``ip:10.1.0.0/16``). ↑ and ↓ go through the searches made before; ↓ past the newest
    goes back to the list."""

    BINDINGS: ClassVar = [
        Binding("up", "older", "Older search", show=False),
        Binding("down", "newer", "Newer search", show=False),
    ]

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.history: list[str] = []
        #: Where ↑/↓ are in the history (None: not browsing; the typed text is kept).
        self._at: int | None = None
        self._typed = ""

    def remember(self) -> None:
        """Keep what is in the box as the newest search."""
        text = self.value.strip()
        self._at = None
        if text:
            if text in self.history:
                self.history.remove(text)
            self.history = [*self.history, text][-HISTORY:]

    async def _on_key(self, event: events.Key) -> None:
        if event.character == "/" and not self.value:
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def action_older(self) -> None:
        """The search before the one shown."""
        if not self.history:
            return
        if self._at is None:
            self._typed, self._at = self.value, len(self.history)
        self._at = max(0, self._at - 1)
        self._show(self.history[self._at])

    def action_newer(self) -> None:
        """The search after the one shown; past the newest, the list."""
        if self._at is None:
            self.query_ancestor(FilterBar).action_leave_filters()
            return
        self._at += 1
        if self._at >= len(self.history):
            self._at = None
            self._show(self._typed)
            return
        self._show(self.history[self._at])

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)


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
        self._options: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-controls"):
            yield FilterSelect(
                [(s.label, s.value) for s in STATES],
                prompt="Status: all",
                id="filter-status",
                compact=True,
            )
            yield FilterSelect([], prompt="Group: all", id="filter-group", compact=True)
            yield FilterSelect([], prompt="Tag: all", id="filter-tag", compact=True)
            yield SearchInput(
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
            if self._options.get(wid) == values:
                continue
            self._options[wid] = list(values)
            # Group names and tags are stored text: shown as written, never as markup.
            options = [(safe(v), v) for v in values]
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

    def show_filter(self, f: Filter) -> None:
        """Show ``f`` in the controls (a saved view); no Changed follows: the screen sets
        the filter itself."""
        extra = [v for v in (f.group,) if v]
        self.set_choices(groups=[*self._values("#filter-group"), *extra])
        self.set_choices(tags=[*self._values("#filter-tag"), *([f.tag] if f.tag else [])])
        with self.prevent(Select.Changed, Input.Changed):
            for wid, value in (("#filter-status", f.states[0] if f.states else None),
                               ("#filter-group", f.group), ("#filter-tag", f.tag)):
                select: Select[str] = self.query_one(wid, Select)
                if value is None:
                    select.clear()
                else:
                    select.value = value
            self.query_one("#filter-search", Input).value = f.search

    def _values(self, wid: str) -> list[str]:
        return list(self._options.get(wid, []))

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
            label.update(safe(f"Cannot search: {error}"))
        elif warning is not None:
            label.update(safe(f"Note: {warning}"))
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
        self.query_one("#filter-search", SearchInput).remember()
        self._emit()
        self.post_message(self.Leave())

    def _emit(self) -> None:
        self.cancel_debounce("search")
        self.post_message(self.Changed(self, self.filter))

    def action_leave_filters(self) -> None:
        """Back to the list."""
        self.query_one("#filter-search", SearchInput).remember()
        self.post_message(self.Leave())
