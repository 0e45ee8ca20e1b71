"""One virtual list for every long list of the console: endpoints, SIMs, the audit log.

A ``ScrollView`` on Textual's line API: ``render_line`` draws only the rows on screen,
from a small window of rows (at most ``WINDOW``) that came from SQL pages read *by
key* on the reader thread (see ``tui.reader``) and arrived as messages. Nothing here
touches the database: the rows come from a *source* (``tui.sources.Source``).

How it maps a million rows onto a scrollbar:

- The virtual height is the row count (plus the header line), so the scrollbar is
  true to size; ``scroll_y`` is the index of the top row on screen.
- The window is a contiguous run of rows ``[base, base + len(rows))``. When the screen
  nears either end of it (a screen's height away) the next page is read by key
  (``after(last key)`` / ``before(first key)``) and the far end trimmed. Cursor keys,
  Page Up/Down and the wheel only ever extend the window this way.
- A jump far away reads a page where the operator lands: Home is ``first()``, End is
  ``last()`` (placed at ``count - len(page)``), and a scrollbar drag into the middle
  asks the source for the key of that row (``key_at``: one key read off the sort index
  from the nearer end) and pages by key from there. Until a page arrives its rows
  are drawn as "…" placeholders; a drag costs one query, since a newer request
  replaces the one still waiting.
- A refresh (another operator changed something) re-reads the cursor row by id, finds
  its new place with ``position(key)``, reads the rows around it and keeps it on the
  same line of the screen: no jump, no flicker.

Rendered rows are kept in a small LRU of strips keyed by the row's values, so moving
the cursor re-renders two rows and scrolling one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from simdeck.core.sanitize import printable
from simdeck.tui import keys
from simdeck.tui.reader import BACKGROUND, COUNTS, URGENT, Reader
from simdeck.tui.widgets.list_keys import CHORD_G, ListKeys

#: Rows read per page, and the most rows the window keeps.
PAGE = 120
WINDOW = 720
#: A refresh that gave way to the operator's own reads is tried again after this pause.
REFRESH_RETRY = 0.3
#: How many strips the render cache keeps.
STRIP_CACHE = 600

Cell = str | tuple[str, str]
"""A cell: its text, or its text and a tone (``success``, ``warning``, … see the CSS)."""

#: A live refresh's other reads: given the source (on the reader thread), the count
#: (None: not counted) and what the screen needs with the rows.
Together = Callable[[Any], tuple["int | None", Any]]

TONES = ("muted", "disabled", "primary", "secondary", "accent", "success", "warning", "error")


@dataclass(frozen=True)
class Column:
    """A column: the sort it stands for and how wide it may be."""

    key: str
    label: str
    width: int
    min_width: int = 0
    grow: int = 0
    align: Literal["left", "right"] = "left"
    #: When even the smallest widths do not fit, columns with the highest ``drop`` go first.
    drop: int = 0
    #: The header when the column is narrower than ``label``.
    short: str = ""
    #: Shown only when the list is at least this wide (the detail pane has it anyway).
    only_from: int = 0
    #: Where a value too long is cut: at the ``end``, or in the ``middle`` (names whose
    #: ends tell them apart: ``VM-APAC-ET…0000527``).
    cut: Literal["end", "middle"] = "end"

    @property
    def sortable(self) -> bool:
        """True when a click on the header sorts by it."""
        return bool(self.key)


@dataclass
class _Window:
    """Rows read for one request, and where they go."""

    kind: str
    base: int
    rows: list[Any]
    at_end: bool = False
    at_start: bool = False
    count: int | None = None
    anchor: Hashable | None = None
    anchor_index: int | None = None
    cursor_line: int | None = None
    user_epoch: int = 0
    #: What a live refresh read with its rows (``reload(together=…)``), else ``_NOTHING``.
    together: Any = None


@runtime_checkable
class HasReader(Protocol):
    """An app whose reads run on a ``Reader`` thread (the console, or a test's app)."""

    reader: Reader


class VirtualList(ListKeys, ScrollView, can_focus=True):
    """A keyset-paged list of any length; see the module docstring."""

    BINDINGS: ClassVar = [*keys.bindings(keys.LIST), CHORD_G]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-list--header",
        "virtual-list--header-sorted",
        "virtual-list--cursor",
        "virtual-list--marked",
        "virtual-list--mark",
        "virtual-list--placeholder",
        "virtual-list--empty",
        *(f"virtual-list--tone-{tone}" for tone in TONES),
    }

    DEFAULT_CSS = """
    VirtualList {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .virtual-list--header { text-style: bold; background: $panel; color: $foreground; }
        & > .virtual-list--header-sorted {
            text-style: bold; color: $text-accent; background: $panel;
        }
        /* The cursor of a list without the focus is grey, of the focused one the
           theme's primary: opaque both (a translucent colour loses its alpha in a
           component style and drew both alike), and apart at 16 colours too. */
        & > .virtual-list--cursor {
            background: $panel-lighten-2;
            color: $foreground;
            text-style: none;
        }
        &:focus > .virtual-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .virtual-list--marked { background: $secondary 35%; }
        & > .virtual-list--mark { color: $text-accent; text-style: bold; }
        & > .virtual-list--placeholder { color: $text-disabled; }
        & > .virtual-list--empty { color: $text-muted; text-style: italic; }
        & > .virtual-list--tone-muted { color: $text-muted; }
        & > .virtual-list--tone-disabled { color: $text-disabled; text-style: strike; }
        & > .virtual-list--tone-primary { color: $text-primary; }
        & > .virtual-list--tone-secondary { color: $text-secondary; }
        & > .virtual-list--tone-accent { color: $text-accent; }
        & > .virtual-list--tone-success { color: $text-success; text-style: bold; }
        & > .virtual-list--tone-warning { color: $text-warning; }
        & > .virtual-list--tone-error { color: $text-error; text-style: bold; }
    }
    """

    class CursorMoved(Message):
        """The cursor is on another row (``row`` is None until that row is read)."""

        def __init__(self, vlist: VirtualList, index: int, row: Any | None) -> None:
            super().__init__()
            self.vlist = vlist
            self.index = index
            self.row = row

        @property
        def control(self) -> VirtualList:
            """The list."""
            return self.vlist

    class CountChanged(Message):
        """The number of rows is known (or changed); ``source`` may hold more (counts)."""

        def __init__(self, vlist: VirtualList, count: int, source: Any) -> None:
            super().__init__()
            self.vlist = vlist
            self.count = count
            self.source = source

        @property
        def control(self) -> VirtualList:
            """The list."""
            return self.vlist

    class HeaderClicked(Message):
        """The operator clicked a sortable column's header."""

        def __init__(self, vlist: VirtualList, column: Column) -> None:
            super().__init__()
            self.vlist = vlist
            self.column = column

        @property
        def control(self) -> VirtualList:
            """The list."""
            return self.vlist

    class Failed(Message):
        """A read failed; ``error`` says why (shown to the operator, never raised)."""

        def __init__(self, vlist: VirtualList, error: BaseException, *, new_query: bool) -> None:
            super().__init__()
            self.vlist = vlist
            self.error = error
            #: True when the first page of a new query failed (a search the database
            #: refused, say), False for a later page, a count or a refresh.
            self.new_query = new_query

        @property
        def control(self) -> VirtualList:
            """The list."""
            return self.vlist

    class Recovered(Message):
        """A read succeeded again after one failed."""

        def __init__(self, vlist: VirtualList) -> None:
            super().__init__()
            self.vlist = vlist

        @property
        def control(self) -> VirtualList:
            """The list."""
            return self.vlist

    class _Loaded(Message):
        def __init__(self, ticket: int, generation: int, window: _Window) -> None:
            super().__init__()
            self.ticket = ticket
            self.generation = generation
            self.window = window

    class _Counted(Message):
        def __init__(self, generation: int, count: int) -> None:
            super().__init__()
            self.generation = generation
            self.count = count

    class _TailRead(Message):
        def __init__(self, generation: int, epoch: int, window: _Window) -> None:
            super().__init__()
            self.generation = generation
            self.epoch = epoch
            self.window = window

    class _Error(Message):
        def __init__(self, ticket: int, generation: int, error: BaseException) -> None:
            super().__init__()
            self.ticket = ticket
            self.generation = generation
            self.error = error

    def __init__(
        self,
        columns: Sequence[Column],
        render_row: Callable[[Any, float], Sequence[Cell]],
        *,
        marks: bool = False,
        empty: str = "Nothing to show",
        clock: Callable[[], float] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.render_row = render_row
        self.show_marks = marks
        self.empty_text = empty
        self.clock = clock
        #: Tells whether a row is marked (set by the screen that holds the marks).
        self.is_marked: Callable[[Any], bool] = lambda row: False
        self.sort_key = ""
        self.sort_descending = False
        self.source: Any = None
        self.generation = 0
        self.cursor = 0
        self._base = 0
        self._rows: list[Any] = []
        self._count: int | None = None
        self._at_end = False
        self._stale = False
        self._pending: tuple[int, str] | None = None
        self._want_end = False
        self._user_epoch = 0
        self._placing = False
        self._failed = -1
        self._refresh_wanted = False
        self._refresh_timer: Timer | None = None
        #: What the live refresh under way reads with its rows (``reload``).
        self._together: Together | None = None
        #: Given what ``together`` read, in the handler that draws the refreshed rows.
        self.on_together: Callable[[Any], None] | None = None
        #: True from a failed read until the next one that works.
        self.failing = False
        self._announced: tuple[int, Hashable | None, Any] | None = None
        self._widths: list[tuple[Column, int]] = []
        self._layout_width = -1
        self._strips: LRUCache[Hashable, Strip] = LRUCache(STRIP_CACHE)
        self._styles: dict[str, Style] = {}
        self._slot = f"vlist-{id_of(self)}"
        self._count_slot = self._slot + "-count"
        self._tail_slot = self._slot + "-tail"
        #: The last page, read ahead once the count is known, so End is pure drawing.
        self._tail: _Window | None = None
        #: What the tail was read for: (generation, ``_data_epoch``); None when not asked.
        self._tail_for: tuple[int, int] | None = None
        #: Moves on whenever rows may have changed (a new source, a live refresh).
        self._data_epoch = 0

    # --- what the owner calls ---------------------------------------------------------

    @property
    def reader(self) -> Reader:
        """The app's reader thread."""
        app = self.app
        assert isinstance(app, HasReader), "the list's app runs a Reader"
        return app.reader

    @property
    def count(self) -> int | None:
        """How many rows the source has, once counted."""
        return self._count

    @property
    def reading(self) -> bool:
        """True while a page is being read."""
        return self._pending is not None

    @property
    def stale(self) -> bool:
        """True from a new source until its first page arrives (the old rows still show)."""
        return self._stale

    @property
    def cursor_row(self) -> Any | None:
        """The row under the cursor, if it has been read."""
        return self._row_at(self.cursor)

    def set_source(self, source: Any, *, keep_cursor: bool = False) -> None:
        """Show another query. ``keep_cursor`` keeps the cursor on the same row (re-sorting)."""
        anchor = self.cursor_row if keep_cursor and not self._stale else None
        line = self.cursor - int(self.scroll_y)
        old = self.source
        self.source = source
        self.generation += 1
        self._refresh_wanted = False
        self._together = None
        self._stale = True
        self._want_end = False
        self._forget_tail()
        self.reader.discard(self._count_slot)
        if anchor is not None and old is not None:
            self._request_refresh(anchor_row=anchor, anchor_ident=old.ident(anchor), line=line)
        else:
            self._request("first", partial(_read_first, limit=self._limit()))
        self.request_count()

    def request_count(self) -> None:
        """Count the rows again (after a change), in the background."""
        source, generation = self.source, self.generation
        if source is None:
            return

        def deliver(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.post_message(self._Error(-1, generation, error))
            else:
                self.post_message(self._Counted(generation, result))

        self.reader.submit(
            self._count_slot, source.count, deliver, priority=COUNTS, interruptible=True
        )

    def reload(self, *, together: Together | None = None) -> bool:
        """Read the rows on screen again, keeping the cursor on its row (live refresh).

        ``together(source)``, run on the reader thread right after the rows, reads what
        must change with them (the count, the counts per state, the detail): it returns
        the count and what ``on_together`` is then given, in the same handler that draws
        the rows, so the whole picture changes in one repaint. True when the rows are
        read so; False when they are read afresh (the count and the rest come apart).
        """
        if self.source is None:
            return False
        self._refresh_wanted = True
        self._together = together
        self._forget_tail()
        if self._stale:
            self._together = None
            self.set_source(self.source)
            return False
        top = int(self.scroll_y)
        row = self.cursor_row
        if row is not None and top <= self.cursor < top + self._page_height():
            self._request_refresh(
                anchor_row=row, anchor_ident=self.source.ident(row), line=self.cursor - top
            )
        elif (top_row := self._row_at(top)) is not None:
            # The cursor is off screen (the wheel moved the view): keep the view instead.
            self._request_refresh(
                anchor_row=top_row, anchor_ident=self.source.ident(top_row), line=0,
                follow=False,
            )
        else:
            self._together = None
            self._plan(force=True)
            self.request_count()
            return False
        if together is None:
            self.request_count()
        return together is not None

    def refresh_rows(self) -> None:
        """Draw every row again (marks changed)."""
        self._strips.clear()
        self.refresh()

    def set_sort_indicator(self, key: str, descending: bool) -> None:
        """Show which column the list is sorted by, and which way."""
        if (key, descending) == (self.sort_key, self.sort_descending):
            return  # a new filter: nothing to draw until its rows come
        self.sort_key, self.sort_descending = key, descending
        self.refresh_lines(int(self.scroll_y), 1)
        self.refresh()

    def visible_rows(self) -> list[Any]:
        """The rows on screen that have been read (tests use it)."""
        top = int(self.scroll_y)
        out = []
        for index in range(top, top + self._page_height()):
            row = self._row_at(index)
            if row is not None:
                out.append(row)
        return out

    # --- cursor -----------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        """Cursor up one row."""
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        """Cursor down one row."""
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        """Cursor up one screen."""
        self.move_cursor(self.cursor - max(1, self._page_height() - 1), page=-1)

    def action_page_down(self) -> None:
        """Cursor down one screen."""
        self.move_cursor(self.cursor + max(1, self._page_height() - 1), page=1)

    def action_half_page_up(self) -> None:
        """Cursor up half a screen (vim's Ctrl+u)."""
        self.move_cursor(self.cursor - max(1, self._page_height() // 2), page=-1)

    def action_half_page_down(self) -> None:
        """Cursor down half a screen (vim's Ctrl+d)."""
        self.move_cursor(self.cursor + max(1, self._page_height() // 2), page=1)

    def action_first(self) -> None:
        """First row."""
        self.move_cursor(0)

    def action_last(self) -> None:
        """Last row; when the count is not known yet, the last page says where that is."""
        if self._count is None and not self._at_end:
            self._want_end = True
            self._request("last", partial(_read_last, limit=self._limit(), count=None))
            return
        self.move_cursor(self._extent() - 1)

    def move_cursor(self, index: int, *, page: int = 0) -> None:
        """Put the cursor on row ``index`` (clamped) and keep it on screen."""
        extent = self._extent()
        index = max(0, min(index, extent - 1)) if extent else 0
        self._user_epoch += 1
        old = self.cursor
        self.cursor = index
        height = self._page_height()
        top = int(self.scroll_y)
        if page and old >= top and old < top + height:
            # Page keys move the view with the cursor, so the cursor keeps its line.
            new_top = top + (index - old)
        elif index < top:
            new_top = index
        elif index >= top + height:
            new_top = index - height + 1
        else:
            new_top = top
        new_top = max(0, min(new_top, max(0, extent - height)))
        if new_top != top:
            self.scroll_to(y=new_top, animate=False, immediate=True)
            self.refresh()
        else:
            self._refresh_index(old)
            self._refresh_index(index)
        self._announce()
        self._plan()

    def _refresh_index(self, index: int) -> None:
        line = index - int(self.scroll_y) + 1
        if 0 < line < self.size.height:
            self.refresh_lines(int(self.scroll_y) + line, 1)

    def _announce(self) -> None:
        row = self._row_at(self.cursor)
        ident = self.source.ident(row) if row is not None and self.source is not None else None
        # The row itself too: a row changed in place (its state, say) is news as well.
        state = (self.cursor, ident, row)
        if state != self._announced:
            self._announced = state
            self.post_message(self.CursorMoved(self, self.cursor, row))

    # --- reading pages ----------------------------------------------------------------

    def _limit(self) -> int:
        return max(PAGE, self._page_height() * 3)

    def _page_height(self) -> int:
        return max(1, self.size.height - 1)

    def _extent(self) -> int:
        """Rows the cursor may reach: the count, or what has been read so far."""
        if self._count is not None:
            return self._count
        return self._base + len(self._rows)

    def _row_at(self, index: int) -> Any | None:
        offset = index - self._base
        if 0 <= offset < len(self._rows):
            return self._rows[offset]
        return None

    def _request(self, kind: str, read: Callable[[Any], _Window]) -> None:
        source, generation, epoch = self.source, self.generation, self._user_epoch
        if source is None:
            return
        ticket_box: list[int] = []

        def run() -> _Window:
            window = read(source)
            window.user_epoch = epoch
            return window

        def deliver(result: Any, error: BaseException | None) -> None:
            ticket = ticket_box[0] if ticket_box else -1
            if error is not None:
                self.post_message(self._Error(ticket, generation, error))
            else:
                self.post_message(self._Loaded(ticket, generation, result))

        # Interruptible: a read that a newer one replaced is stopped, not waited for.
        ticket = self.reader.submit(self._slot, run, deliver, priority=URGENT, interruptible=True)
        ticket_box.append(ticket)
        self._pending = (ticket, kind)

    def _request_refresh(
        self, *, anchor_row: Any, anchor_ident: Hashable, line: int, follow: bool = True
    ) -> None:
        """Read the rows around ``anchor_row`` again; keep it ``line`` rows from the top."""
        height = self._page_height()
        around = partial(
            _read_around,
            anchor_row=anchor_row,
            anchor_ident=anchor_ident,
            before_n=max(line, 0) + height,
            after_n=max(height - line, 0) + height,
            line=line if follow else None,
            limit=self._limit(),
        )
        together = self._together
        if together is None:
            self._request("refresh", around)
            return

        def read(source: Any) -> _Window:
            window = around(source)
            count, window.together = together(source)
            if count is not None:
                window.count = count
            return window

        self._request("refresh", read)

    def _plan(self, *, force: bool = False) -> None:
        """Ask for the page the screen needs next, if any (one request at a time)."""
        if self.source is None or self._stale or (self._pending is not None and not force):
            return
        height = self._page_height()
        top = int(self.scroll_y)
        bottom = top + height
        count = self._count
        if count is not None:
            if count == 0:
                return
            bottom = min(bottom, count)
        start, end = self._base, self._base + len(self._rows)
        limit = self._limit()
        margin = height
        if not self._rows:
            self._jump(top)
            return
        far_below = top >= end + limit // 2
        far_above = bottom <= start - limit // 2
        if far_below or far_above:
            self._jump(top)
        elif start > 0 and top - margin < start:
            want = max(limit, start - top + margin)
            first_key = self.source.key(self._rows[0])
            self._request("before", partial(_read_before, key=first_key, base=start, limit=want))
        elif not self._at_end and bottom + margin > end:
            want = max(limit, bottom - end + margin)
            last_key = self.source.key(self._rows[-1])
            self._request("after", partial(_read_after, key=last_key, base=end, limit=want))
        else:
            self._read_tail_ahead()

    # --- the last page, read ahead ----------------------------------------------------

    def _read_tail_ahead(self) -> None:
        """Read the last page in the background (once per query and change), so that End
        draws it at once instead of waiting for it."""
        count, source = self._count, self.source
        if source is None or self._stale or count is None or self._at_end:
            return
        want = (self.generation, self._data_epoch)
        if self._tail_for == want or count <= self._limit():
            return
        self._tail_for, self._tail = want, None
        generation, epoch = want

        def deliver(result: Any, error: BaseException | None) -> None:
            if error is None:
                self.post_message(self._TailRead(generation, epoch, result))

        self.reader.submit(
            self._tail_slot, partial(_read_last, source, limit=self._limit(), count=count),
            deliver, priority=BACKGROUND, interruptible=True,
        )

    def on_virtual_list__tail_read(self, message: _TailRead) -> None:
        message.stop()
        if (message.generation, message.epoch) == self._tail_for == (
            self.generation, self._data_epoch
        ):
            self._tail = message.window
            # Drawn now, while the operator reads: End then only shows these strips.
            self.call_later(self._draw_ahead, message.window)

    def _draw_ahead(self, window: _Window) -> None:
        if window is not self._tail or not self.is_mounted:
            return
        base = self._styles.get("")
        if base is None:
            base = self._styles[""] = self.rich_style
        width, rows = self.size.width, window.rows
        for offset in range(max(0, len(rows) - self._page_height()), len(rows)):
            self._strip(rows[offset], offset == len(rows) - 1, width, base)

    def _use_tail(self, count: int) -> bool:
        """Show the last page read ahead, if it is still the last page of ``count`` rows."""
        tail = self._tail
        if (tail is None or tail.count != count
                or self._tail_for != (self.generation, self._data_epoch)):
            return False
        self._apply(replace(tail, rows=list(tail.rows)), False)
        return True

    def _forget_tail(self) -> None:
        """The rows may have changed: the last page read ahead is read again when needed."""
        self._data_epoch += 1
        self._tail = None
        self._tail_for = None
        self.reader.discard(self._tail_slot)

    def _jump(self, top: int) -> None:
        count = self._count
        limit = self._limit()
        height = self._page_height()
        if top <= height:
            self._request("first", partial(_read_first, limit=limit))
        elif count is None:
            return
        elif top + height >= count - limit // 2:
            if not self._use_tail(count):
                self._request("last", partial(_read_last, limit=limit, count=count))
        else:
            self._request(
                "seek", partial(_read_seek, start=max(0, top - height), limit=limit, count=count)
            )

    # --- results ----------------------------------------------------------------------

    def on_virtual_list__loaded(self, message: _Loaded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        current = self.reader.is_current(self._slot, message.ticket)
        if self._pending is not None and self._pending[0] == message.ticket:
            self._pending = None
        window = message.window
        if not current:
            if window.kind == "refresh":
                self._retry_refresh()
            self._plan()
            return
        was_stale = self._stale
        if window.kind == "refresh" and window.user_epoch != self._user_epoch and not was_stale:
            # The operator moved while the rows were read: read again once they rest.
            self._retry_refresh()
            self._plan()
            return
        if window.kind == "refresh":
            self._refresh_wanted = False
        together = window.together if window.kind == "refresh" and self._together else None
        if together is not None:
            self._together = None
        self._apply(window, was_stale)
        if together is not None and self.on_together is not None:
            self.on_together(together)

    def _retry_refresh(self) -> None:
        """A refresh gave way to the operator's own reads; do it when they pause."""
        if self._refresh_timer is not None:
            self._refresh_timer.stop()

        def again() -> None:
            self._refresh_timer = None
            if self._refresh_wanted and self._pending is None:
                self.reload()
            elif self._refresh_wanted:
                self._retry_refresh()

        self._refresh_timer = self.set_timer(REFRESH_RETRY, again)

    def _apply(self, window: _Window, was_stale: bool) -> None:
        if self.failing:
            self.failing = False
            self.post_message(self.Recovered(self))
        rows = window.rows
        previous = self._announced[1] if self._announced else None
        kind = window.kind
        if kind == "after" and not was_stale:
            if window.base != self._base + len(self._rows):
                self._plan()
                return
            self._rows.extend(rows)
            self._at_end = window.at_end
            if window.at_end:
                self._set_count(self._base + len(self._rows))
            self._trim(keep_end=True)
        elif kind == "before" and not was_stale:
            if window.base != self._base:
                self._plan()
                return
            shift = 0
            new_base = self._base - len(rows)
            if new_base < 0 or (window.at_start and new_base != 0):
                # The first row is not where we placed it (rows came or went before it
                # since the count): it is row 0, and every index moves by the difference.
                shift = new_base
                new_base = 0
            self._rows[:0] = rows
            self._base = new_base
            if shift:
                self._shift(shift)
            self._trim(keep_end=False)
        else:
            self._rows = list(rows)
            self._base = window.base
            self._at_end = window.at_end
            self._stale = False
            if was_stale and window.count is None and kind != "refresh":
                self._count = None
            if window.count is not None:
                self._set_count(window.count, announce=kind != "refresh" or was_stale)
            if was_stale and kind == "first":
                self.cursor = 0
                self._announced = None
                self._scroll_quietly(0)
            if kind == "refresh":
                self._place_anchor(window, previous)
            if self._want_end and kind == "last":
                self._want_end = False
                self.move_cursor(self._extent() - 1)
        self._update_virtual_size()
        self.refresh()
        self._announce()
        self._plan()

    def _place_anchor(self, window: _Window, previous: Hashable | None) -> None:
        """After a refresh, the cursor is on its row again, on the same screen line."""
        index = window.anchor_index or 0
        if window.cursor_line is not None:
            # The anchor was the cursor row: it stays under the cursor, on the same line
            # (or, gone, the cursor stays on that line over the row that took its place).
            self.cursor = index
            top = index - window.cursor_line
        else:
            # The anchor was the top row (the cursor was scrolled away): keep the view,
            # and the cursor on its row if that row was read again.
            top = index
            if previous is not None and self.source is not None:
                for offset, row in enumerate(self._rows):
                    if self.source.ident(row) == previous:
                        self.cursor = self._base + offset
                        break
        extent = max(self._extent(), self._base + len(self._rows))
        self.cursor = max(0, min(self.cursor, extent - 1))
        top = max(0, min(top, max(0, extent - self._page_height())))
        self._update_virtual_size()
        self._scroll_quietly(top)

    def _scroll_quietly(self, top: int) -> None:
        """Scroll without counting it as the operator's move (refresh keeps its view)."""
        self._placing = True
        try:
            self.scroll_to(y=top, animate=False, immediate=True)
        finally:
            self._placing = False

    def _shift(self, by: int) -> None:
        """Every index moved down by ``by`` (up when negative): cursor and view follow."""
        self.cursor = max(0, self.cursor - by)
        self._scroll_quietly(max(0, int(self.scroll_y) - by))

    def _trim(self, *, keep_end: bool) -> None:
        excess = len(self._rows) - WINDOW
        if excess <= 0:
            return
        if keep_end:
            del self._rows[:excess]
            self._base += excess
        else:
            del self._rows[-excess:]
            self._at_end = False

    def on_virtual_list__counted(self, message: _Counted) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        cursor, read_to = self.cursor, self._base + len(self._rows)
        self._set_count(message.count)
        # Drawn again only when the lines change: the line after the rows read (a
        # placeholder until counted), the empty list's message, the clamped cursor.
        # Rows on screen stay as they are: the scrollbar alone shows the count.
        redraw = (message.count == 0 or self.cursor != cursor
                  or int(self.scroll_y) + self._page_height() > read_to)
        self._update_virtual_size(lines_unchanged=not redraw)
        if redraw:
            self.refresh()
        self._plan()

    def _set_count(self, count: int, *, announce: bool = True) -> None:
        changed = count != self._count
        self._count = count
        if self.cursor >= count > 0:
            self.cursor = count - 1
        if changed or announce:
            self.post_message(self.CountChanged(self, count, self.source))

    def on_virtual_list__error(self, message: _Error) -> None:
        message.stop()
        if self._pending is not None and self._pending[0] == message.ticket:
            self._pending = None
        if message.generation != self.generation or message.generation == self._failed:
            # Stale, or the query already failed: one message per query is enough.
            return
        self.failing = True
        new_query = self._stale
        if self._stale:
            self._failed = message.generation
            self._stale = False
            self._rows, self._base, self._count, self._at_end = [], 0, 0, True
            self._update_virtual_size()
            self.refresh()
        self.post_message(self.Failed(self, message.error, new_query=new_query))

    # --- geometry ---------------------------------------------------------------------

    def _update_virtual_size(self, *, lines_unchanged: bool = False) -> None:
        rows = self._extent()
        if self._count is None and not self._at_end:
            rows += 1
        size = Size(self.size.width, rows + 1)
        if size == self.virtual_size:
            return
        if (lines_unchanged and self.show_vertical_scrollbar
                and size.height > self.container_size.height):
            # Only the scrollbar changes (the count came): no layout, no line redrawn.
            self.set_reactive(VirtualList.virtual_size, size)
            self._scroll_update(size)
            return
        self.virtual_size = size

    def on_resize(self, event: events.Resize) -> None:
        self._layout_width = -1
        self._strips.clear()
        self._update_virtual_size()
        self._plan()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(old_value) != int(new_value):
            if not self._placing:
                self._user_epoch += 1
            self._plan()

    def on_focus(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()
        # Drawn again in the new styles: a focus change restyles the cursor only once
        # the CSS has seen the new :focus state, after on_focus/on_blur ran.
        self.refresh()

    def _layout(self, width: int) -> list[tuple[Column, int]]:
        """Column widths for ``width`` cells: computed once per width, never per row.

        Every column gets its smallest width; then the room left goes, in turn, to the
        fixed columns that are never dropped (identifiers), to the growing columns up to
        the width they want, to the other fixed columns, and what remains to the growing
        columns again.
        """
        if width == self._layout_width:
            return self._widths
        avail = width - (2 if self.show_marks else 0)
        columns = [c for c in self.columns if width >= c.only_from]

        def need(cols: list[Column]) -> int:
            return sum(c.min_width or c.width for c in cols) + len(cols)

        while len(columns) > 1 and need(columns) > avail:
            droppable = [c for c in columns if c.drop]
            if not droppable:
                break
            columns.remove(max(droppable, key=lambda c: c.drop))
        widths = [c.min_width or c.width for c in columns]
        spare = avail - need(columns)

        def fill(indexes: list[int], cap: bool) -> None:
            nonlocal spare
            while spare > 0:
                open_ = [i for i in indexes if not cap or widths[i] < columns[i].width]
                if not open_:
                    return
                total = sum(columns[i].grow or 1 for i in open_)
                budget = spare
                for i in open_:
                    share = max(1, budget * (columns[i].grow or 1) // total)
                    if cap:
                        share = min(share, columns[i].width - widths[i])
                    share = min(share, spare)
                    widths[i] += share
                    spare -= share
                    if spare <= 0:
                        return

        fixed = [i for i, c in enumerate(columns) if not c.grow and not c.drop]
        growers = [i for i, c in enumerate(columns) if c.grow]
        optional = [i for i, c in enumerate(columns) if not c.grow and c.drop]
        fill(fixed, True)
        fill(growers, True)
        fill(optional, True)
        fill(growers, False)
        self._widths = list(zip(columns, widths, strict=True))
        self._layout_width = width
        return self._widths

    # --- drawing ----------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(name, partial=True)
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._styles.get("")
        if base is None:
            base = self._styles[""] = self.rich_style
        if y == 0:
            return self._header(width, base)
        index = int(self.scroll_y) + y - 1
        extent = self._extent()
        if index >= extent:
            if index == 0 and self._count == 0 and not self._stale:
                return self._message_strip(self.empty_text, width, base)
            if index == extent and self._count is None and not self._at_end:
                return self._placeholder(width, base, index)
            return Strip.blank(width, base)
        row = self._row_at(index)
        if row is None:
            return self._placeholder(width, base, index)
        return self._strip(row, index == self.cursor, width, base)

    def _strip(self, row: Any, cursor: bool, width: int, base: Style) -> Strip:
        """The row drawn, from the cache when it was drawn before (by its values, wherever
        it was on screen: a far jump back finds its rows drawn)."""
        marked = self.show_marks and self.is_marked(row)
        now = self.clock() if self.clock else 0.0
        key = (row, cursor, marked, width, int(now // 30))
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(row, cursor, marked, width, base, now)
            self._strips.set(key, strip)
        return strip

    def _render_row(
        self, row: Any, cursor: bool, marked: bool, width: int, base: Style, now: float
    ) -> Strip:
        line = base
        if marked:
            line = line + self._style("virtual-list--marked")
        cursor_style = self._style("virtual-list--cursor") if cursor else None
        if cursor_style is not None:
            line = line + cursor_style
        segments: list[Segment] = []
        if self.show_marks:
            mark_style = line + self._style("virtual-list--mark")
            if cursor_style is not None:
                mark_style = mark_style + cursor_style
            segments.append(Segment("● " if marked else "  ", mark_style))
        cells = self.render_row(row, now)
        layout = self._layout(width)
        by_key = {c.key or c.label: i for i, c in enumerate(self.columns)}
        for column, w in layout:
            cell = cells[by_key[column.key or column.label]]
            if isinstance(cell, tuple):
                text, tone = cell
                style = line + self._style(f"virtual-list--tone-{tone}")
                if cursor_style is not None:
                    style = style + cursor_style
            else:
                text, style = cell, line
            # Stored text: drawn as segments (never markup), control characters as escapes.
            shown = _fit(printable(text), w, column.align, column.cut)
            segments.append(Segment(shown, style))
            segments.append(Segment(" ", line))
        return _finish(segments, width, line)

    def _header(self, width: int, base: Style) -> Strip:
        header = base + self._style("virtual-list--header")
        sorted_style = base + self._style("virtual-list--header-sorted")
        segments: list[Segment] = []
        if self.show_marks:
            segments.append(Segment("  ", header))
        for column, w in self._layout(width):
            label = column.label
            if column.short and len(label) + 2 > w:
                label = column.short
            style = header
            if column.key and column.key == self.sort_key:
                label = f"{label} {'▼' if self.sort_descending else '▲'}"
                style = sorted_style
            segments.append(Segment(_fit(label, w, column.align), style))
            segments.append(Segment(" ", header))
        return _finish(segments, width, header)

    def _placeholder(self, width: int, base: Style, index: int) -> Strip:
        style = base + self._style("virtual-list--placeholder")
        if index == self.cursor:
            style = style + self._style("virtual-list--cursor")
        pad = "  " if self.show_marks else ""
        return _finish([Segment(pad + "…", style)], width, style)

    def _message_strip(self, text: str, width: int, base: Style) -> Strip:
        style = base + self._style("virtual-list--empty")
        return _finish([Segment("  " + printable(text), style)], width, base)

    def column_at(self, x: int) -> Column | None:
        """The column drawn at ``x`` (for header clicks)."""
        pos = 2 if self.show_marks else 0
        for column, w in self._layout(self.size.width):
            if pos <= x < pos + w + 1:
                return column
            pos += w + 1
        return None

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self.column_at(offset.x)
            if column is not None and column.sortable:
                self.post_message(self.HeaderClicked(self, column))
            return
        index = int(self.scroll_y) + offset.y - 1
        if index < self._extent():
            self.move_cursor(index)


# --- reads, run on the reader thread ---------------------------------------------------


def _read_first(source: Any, *, limit: int) -> _Window:
    rows = source.first(limit)
    short = len(rows) < limit
    return _Window("first", 0, rows, at_end=short, at_start=True,
                   count=len(rows) if short else None)


def _read_after(source: Any, *, key: Any, base: int, limit: int) -> _Window:
    rows = source.after(key, limit)
    return _Window("after", base, rows, at_end=len(rows) < limit)


def _read_before(source: Any, *, key: Any, base: int, limit: int) -> _Window:
    rows = source.before(key, limit)
    return _Window("before", base, rows, at_start=len(rows) < limit)


def _read_last(source: Any, *, limit: int, count: int | None) -> _Window:
    rows = source.last(limit)
    if not rows:
        return _Window("last", 0, [], at_end=True, at_start=True, count=0)
    if count is None or count < len(rows) or len(rows) < limit:
        # Not counted yet (or the list shrank): place the page by its first key.
        count = source.position(source.key(rows[0])) + len(rows)
    return _Window("last", count - len(rows), rows, at_end=True, count=count)


def _read_seek(source: Any, *, start: int, limit: int, count: int) -> _Window:
    key = source.key_at(start - 1, count) if start > 0 else None
    if start > 0 and key is None:
        return _read_last(source, limit=limit, count=None)
    rows = source.after(key, limit) if key is not None else source.first(limit)
    return _Window("seek", start, rows, at_end=len(rows) < limit)


def _read_around(
    source: Any,
    *,
    anchor_row: Any,
    anchor_ident: Hashable,
    before_n: int,
    after_n: int,
    line: int | None,
    limit: int,
) -> _Window:
    """The anchor row as it is now, where it is now, and the rows around it."""
    try:
        old_key = source.key(anchor_row)
    except (AttributeError, KeyError, TypeError, ValueError):
        old_key = None
    row = source.fetch(anchor_ident)
    key = source.key(row) if row is not None else old_key
    if key is None:
        return _read_first(source, limit=limit)
    index = source.position(key)
    before = source.before(key, before_n) if index > 0 else []
    after = source.after(key, after_n)
    rows = before + ([row] if row is not None else []) + after
    base = index - len(before)
    at_end = len(after) < after_n
    return _Window(
        "refresh", base, rows, at_end=at_end, at_start=base == 0,
        count=base + len(rows) if at_end else None,
        anchor=anchor_ident if row is not None else None,
        anchor_index=index, cursor_line=line,
    )


def id_of(obj: object) -> int:
    """A stable number for an object (the reader slot of an unnamed list)."""
    return id(obj)


def _fit(text: str, width: int, align: str, cut: str = "end") -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    size = len(text) if text.isascii() else cell_len(text)
    if size > width:
        if width == 1:
            return "…"
        if cut == "middle" and width >= 8 and text.isascii():
            tail = (width - 1) // 2
            return text[: width - 1 - tail] + "…" + text[-tail:]
        return set_cell_size(text, width - 1) + "…"
    if size == width:
        return text
    pad = " " * (width - size)
    return pad + text if align == "right" else text + pad


def _finish(segments: list[Segment], width: int, style: Style) -> Strip:
    strip = Strip(segments)
    return strip.adjust_cell_length(width, style)
