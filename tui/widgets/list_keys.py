"""Keys a vim or k9s user already has, on every list of the console.

``j``/``k``, ``G``, Ctrl+d/u/f/b, Home/End are plain bindings (``tui.keys``, scope LIST);
``gg`` is a *chord*: ``g`` waits for the next key. A chord's second key is always taken
by the chord, whatever it is, so ``g`` followed by a key that means something else
(``gt``, ``g`` Esc) does nothing at all rather than that other thing: no key sequence a
vim hand types to move can reach an action that changes data.

``Chords`` serves the lists (``gg``) and the Endpoints screen (``yi``, ``ye``, ``ym``
copy; ``o`` and a column letter sorts); ``KeyedTable`` and ``KeyedOptionList`` give
Textual's DataTable (Jobs, Groups) and OptionList (the group picker, the actions menu)
the same keys as ``VirtualList``.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, OptionList

#: How long a chord's first key waits for its second (vim's 'timeoutlen' is 1 s).
CHORD_TIMEOUT = 1.5

#: The vim keys of every list that Textual's own lists lack (VirtualList has them all
#: from the registry).
VIM_BINDINGS: list[BindingType] = [
    Binding("k", "cursor_up", "Up", show=False),
    Binding("j", "cursor_down", "Down", show=False),
    Binding("ctrl+b", "page_up", "Page up", show=False),
    Binding("ctrl+f", "page_down", "Page down", show=False),
    Binding("ctrl+u", "half_page_up", "Half page up", show=False),
    Binding("ctrl+d", "half_page_down", "Half page down", show=False),
    Binding("home", "first", "First", show=False),
    Binding("end,G", "last", "Last", show=False),
    Binding("g", "chord('g')", "gg: first", show=False),
]
#: The first key of ``gg``.
CHORD_G: BindingType = VIM_BINDINGS[-1]


class Chords:
    """Two-key sequences: the first key's binding calls ``action_chord``; the next key
    pressed, whatever it is, completes it (``CHORDS``: sequence → action) or ends it."""

    #: Sequence → action string run on this node.
    CHORDS: ClassVar[dict[str, str]] = {}

    _chord: tuple[str, float] | None = None

    def action_chord(self, key: str) -> None:
        """Wait for the second key of a chord that starts with ``key``."""
        self._chord = (key, time.monotonic())

    def chord_pending(self) -> str | None:
        """The first key of the chord waiting for its second, if any (tests, the footer)."""
        if self._chord is None or time.monotonic() - self._chord[1] > CHORD_TIMEOUT:
            return None
        return self._chord[0]

    async def on_key(self, event: events.Key) -> None:
        # The first key is taken here rather than by its binding (which the help, the
        # footer and the palette list): keys typed fast reach this widget before the
        # binding of the one before has run, and ``gg`` would be two lone ``g``s.
        node: Any = self
        if node.app.screen is not node.screen:
            return  # typed for a screen that is opening over this one (the : line)
        first = self.chord_pending()
        if first is None:
            self._chord = None
            if event.character and any(c.startswith(event.character) for c in self.CHORDS):
                event.stop()
                event.prevent_default()
                self.action_chord(event.character)
            return
        if event.key in ("shift", "ctrl", "alt"):
            return
        self._chord = None
        # The second key belongs to the chord, even when it completes nothing.
        event.stop()
        event.prevent_default()
        action = self.CHORDS.get(first + (event.character or event.key))
        if action is not None:
            await node.run_action(action)


class ListKeys(Chords):
    """The moves every list shares, on a widget with ``action_cursor_up/down``."""

    CHORDS: ClassVar[dict[str, str]] = {"gg": "first"}

    def _half(self) -> int:
        node: Any = self
        return max(1, (node.scrollable_content_region.height or 2) // 2)


class KeyedTable(ListKeys, DataTable[Any]):
    """Textual's DataTable with the console's list keys (Home and End move the cursor)."""

    BINDINGS: ClassVar = VIM_BINDINGS

    def action_first(self) -> None:
        """First row."""
        if self.row_count:
            self.move_cursor(row=0)

    def action_last(self) -> None:
        """Last row."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def action_half_page_up(self) -> None:
        """Up half a screen."""
        self.move_cursor(row=max(0, self.cursor_row - self._half()))

    def action_half_page_down(self) -> None:
        """Down half a screen."""
        self.move_cursor(row=min(max(0, self.row_count - 1), self.cursor_row + self._half()))


class KeyedOptionList(ListKeys, OptionList):
    """Textual's OptionList with the console's list keys."""

    BINDINGS: ClassVar = VIM_BINDINGS

    def action_half_page_up(self) -> None:
        """Up half a screen."""
        self.highlighted = max(0, (self.highlighted or 0) - self._half())

    def action_half_page_down(self) -> None:
        """Down half a screen."""
        if self.option_count:
            self.highlighted = min(self.option_count - 1, (self.highlighted or 0) + self._half())
