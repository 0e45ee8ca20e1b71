"""What every full screen of the console shares: the reader, roles, live refresh, the bar.

A screen reads through ``read`` (the reader thread, awaited), hides what the
operator's role forbids through ``check_action``, and is told of other operators'
changes through ``refresh_data``. Coming back to a screen (from another screen, or
from a dialog under which something changed) reads it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import ModalScreen, Screen

from simdeck.core.errors import SimdeckError
from simdeck.tui import keys
from simdeck.tui.reader import ask
from simdeck.tui.widgets.status import TopBar


class BaseScreen(Screen[None]):
    """A full screen of the console (not a dialog)."""

    #: The title the top bar shows.
    TITLE_TEXT = ""

    def __init__(self) -> None:
        super().__init__()
        self._under_dialog = False
        self._started = False

    # --- the operator and the database --------------------------------------------

    @property
    def actor(self) -> Any:
        """Who is at the keyboard (None until the database is open)."""
        return getattr(self.app, "actor", None)

    @property
    def read_only(self) -> bool:
        """True when the console was opened with ``--read-only``."""
        return bool(getattr(self.app, "read_only", False))

    async def read(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the reader thread and wait for its result (errors are raised)."""
        return await ask(self.app.reader, fn)  # type: ignore[attr-defined]

    def refused(self, title: str, error: SimdeckError) -> None:
        """Say why core refused, in its words."""
        self.notify(error.message, title=title, severity="error", timeout=8)

    def report_problem(self, text: str) -> None:
        """Say what went wrong with reading the database."""
        self.notify(text, title="Cannot read", severity="error", timeout=8)

    def why_not(self, action: str) -> str | None:
        """Why ``action`` is not offered here now (None when it is, or no reason is known)."""
        return None

    def show_top(self) -> None:
        """Draw the top bar: this screen, the database, the operator."""
        bars = self.query(TopBar)
        if not bars:
            return
        app: Any = self.app
        actor = self.actor
        bars.first().show(
            screen=self.TITLE_TEXT,
            database=getattr(app, "database_name", ""),
            user=actor.name if actor else "",
            role=actor.role.value if actor else "",
            read_only=self.read_only,
        )

    # --- start, refresh -------------------------------------------------------------

    def start(self) -> None:
        """The database is open and the operator known: read what the screen shows."""

    def refresh_data(self) -> None:
        """Someone changed something: read what is on screen again."""

    def started(self) -> bool:
        """True once ``start`` has run with an operator known."""
        return self._started

    def on_screen_suspend(self) -> None:
        self._under_dialog = isinstance(self.app.screen, ModalScreen)
        self.app.reader.paused = True  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        app: Any = self.app
        app.reader.paused = False
        app.reader.poll_soon()
        stale = app.take_stale()
        if stale or not self._under_dialog:
            # Back from another screen (or from a dialog something changed under).
            self.refresh_data()
        self._under_dialog = False
        self.show_top()

    # --- roles ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The actor's role, lowered to viewer by --read-only, decides.
        return keys.allowed(action, self.actor)
