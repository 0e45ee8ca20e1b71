"""The footer: the keys of what can be done now, on the screen it belongs to.

Textual's own footer lays out one widget per key, so at a width where the keys do not
all fit the last one is cut mid-word (``space Ma``), and a key that goes away can leave
its characters behind in the last cell (``^p palettet``). This one is a single line,
drawn whole at every repaint: it shows whole items only, dropping those that do not
fit, and every dialog has its own (``Dialog``), so a modal's keys replace the list's.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from textual.binding import Binding
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

from simdeck.core.sanitize import printable

#: The room between two items.
GAP = "  "

ResultType = TypeVar("ResultType")


def _screen_of(widget: Widget) -> Screen[Any] | None:
    try:
        return widget.screen
    except Exception:  # not attached (being removed)
        return None


class KeyFooter(Widget, can_focus=False):
    """One line of ``key Label`` items: what the screen (or the dialog) offers now."""

    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-description-foreground;
        link-style: none;
        link-style-hover: underline;
        link-background-hover: $boost;
        link-color-hover: $foreground;
    }
    """

    def __init__(self, *, palette: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._palette = palette

    @property
    def palette(self) -> bool:
        """True when the command palette's key is shown at the right end."""
        return self._palette

    @palette.setter
    def palette(self, shown: bool) -> None:
        if shown != self._palette:
            self._palette = shown
            self.refresh()

    def on_mount(self) -> None:
        screen = _screen_of(self)
        if screen is not None:
            screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        screen = _screen_of(self)
        if screen is not None:
            screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen[Any]) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.refresh()

    # --- what it shows --------------------------------------------------------------

    def items(self) -> list[tuple[Binding, bool, bool]]:
        """The screen's shown bindings, one per action, in their order: each with whether
        it is enabled now and whether it is the console's own (``?``, ``q``), kept when
        room is short since they work everywhere."""
        screen = _screen_of(self)
        if screen is None:
            return []
        seen: set[str] = set()
        out: list[tuple[Binding, bool, bool]] = []
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            out.append((binding, active.enabled, active.node is self.app))
        return out

    def _item(self, binding: Binding, enabled: bool) -> Content:
        key = printable(self.app.get_key_display(binding))
        item = Content.assemble(
            (key, "bold $footer-key-foreground"),
            " ",
            (printable(binding.description), ""),
        )
        if not enabled:
            item = item.stylize("dim")
        return item.stylize(f"@click=press({binding.key.split(',')[0].strip()!r})")

    def _palette_item(self) -> Content | None:
        if not (self._palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        screen = _screen_of(self)
        if screen is None:
            return None
        active = screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if active is None:
            return None
        return self._item(active.binding, active.enabled)

    def line(self, width: int) -> Content:
        """The footer at ``width`` cells: whole items that fit, in order; an item too wide
        for what is left is dropped, not cut, and the ones after it still get their turn."""
        palette = self._palette_item()
        room = width - 1  # a space before the first item
        if palette is not None:
            room -= palette.cell_length + len(GAP)
        items = [(self._item(binding, enabled), app_wide)
                 for binding, enabled, app_wide in self.items()]
        # The console's own keys first, then the screen's in their order; an item that
        # does not fit in what is left is left out whole.
        keep: set[int] = set()
        used = 0
        for first in (True, False):
            for index, (item, app_wide) in enumerate(items):
                if app_wide != first:
                    continue
                need = item.cell_length + (len(GAP) if keep else 0)
                if used + need <= room:
                    keep.add(index)
                    used += need
        shown = [item for index, (item, _) in enumerate(items) if index in keep]
        left = Content.assemble(" ", Content(GAP).join(shown))
        if palette is None or palette.cell_length + 1 > width:
            return left
        gap = max(width - left.cell_length - palette.cell_length, 0)
        return Content.assemble(left, " " * gap, palette)

    def text(self) -> str:
        """The footer as the operator reads it (tests)."""
        return self.line(self.size.width).plain.rstrip()

    def render(self) -> Content:
        width = self.size.width
        line = self.line(width)
        # Padded to the last cell: nothing from an earlier line survives a repaint.
        return Content.assemble(line, " " * max(width - line.cell_length, 0))

    def action_press(self, key: str) -> None:
        """A click on an item: as if its key were pressed."""
        self.app.simulate_key(key)


class Dialog(ModalScreen[ResultType]):
    """A modal with its own footer: under it, the footer shows the dialog's keys (Esc,
    Enter, …), not those of the screen below, which do not work while it is open."""

    FOOTER_PALETTE: ClassVar[bool] = False

    def on_mount(self) -> None:
        if not self.query(KeyFooter):
            self.mount(KeyFooter(palette=self.FOOTER_PALETTE))
