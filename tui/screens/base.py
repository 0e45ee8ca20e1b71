"""What every full screen of the console shares: the reader, roles, live refresh, the bar.

A screen reads through ``read`` (the reader thread, awaited) and writes through
``write`` (a thread worker, awaited); it starts once, through ``start``, when it is
drawn and the operator is known; it says what went wrong with ``report_problem``;
it hides what the operator's role forbids through ``check_action``, and is told of
other operators' changes through ``refresh_data``. Coming back to a screen (from
another screen, or from a dialog under which something changed) reads it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from textual import events, getters, on
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerFailed

from simdeck.core import db, offers
from simdeck.core.auth import Actor
from simdeck.core.errors import SimdeckError
from simdeck.core.queries import Filter
from simdeck.core.store import STORE_ERRORS, explain
from simdeck.tui import keys
from simdeck.tui.marks import Marks
from simdeck.tui.screens.command_line import CommandLine
from simdeck.tui.widgets.debounce import Debounce
from simdeck.tui.widgets.status import TopBar
from simdeck.tui.widgets.virtual_list import VirtualList

if TYPE_CHECKING:
    from simdeck.tui.app import SimdeckApp

T = TypeVar("T")


class BaseScreen(Debounce, Screen[None]):
    """A full screen of the console (not a dialog)."""

    # For the type checker only: the app module imports this one, so at run time the
    # screen keeps Textual's own ``app`` property, which finds the same object.
    if TYPE_CHECKING:
        app = getters.app(SimdeckApp)

    #: The title the top bar shows.
    TITLE_TEXT = ""

    #: The action ``/`` runs here (into the screen's search or filter box), taken as it is
    #: typed, as ``:`` is: see ``_burst_keys``.
    SLASH_ACTION: str | None = None

    #: What went wrong with the last read (None when it worked); the status line shows it.
    problem: var[str | None] = var(None, init=False)

    def __init__(self) -> None:
        super().__init__()
        self._under_dialog = False
        self._started = False
        self._composed = False

    # --- the operator and the database --------------------------------------------

    @property
    def actor(self) -> Actor | None:
        """Who is at the keyboard (None until the database is open)."""
        return self.app.actor

    def acting(self) -> Actor:
        """Who is at the keyboard; refused, in words, before the database is open."""
        if self.actor is None:
            raise SimdeckError("not logged in yet: the database is still opening")
        return self.actor

    @property
    def read_only(self) -> bool:
        """True when the console was opened with ``--read-only``."""
        return self.app.read_only

    async def read(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the reader thread and wait for its result (errors are raised)."""
        return await self.app.read(fn)

    async def write(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a change through core) in a thread worker and wait for its result.

        The event loop stays free while core writes; the worker's connection is closed
        when it is done, as each thread has its own. Core's refusals are raised here, and
        a failing database as a SimdeckError in words.
        """

        def run() -> T:
            try:
                return fn()
            finally:
                db.database.close()

        worker = self.run_worker(run, thread=True, group="write", exit_on_error=False)
        try:
            return await worker.wait()
        except WorkerFailed as failed:
            error = failed.error
            if isinstance(error, STORE_ERRORS):
                # The database failed under the write: said in words, as core's refusals are.
                raise SimdeckError(explain(error, self.app.database_name)) from None
            if isinstance(error, Exception):
                raise error from None
            raise

    def read_and_show(self, fn: Callable[[], T], show: Callable[[T], None]) -> Worker[None]:
        """Read ``fn`` on the reader thread, then ``show`` its result: how a table screen
        (Groups, Jobs, Settings) reads what it lists. A newer read replaces one still
        waiting; a failure is said in words (``report_problem``) until a read works again."""

        async def run() -> None:
            try:
                found = await self.read(fn)
            except Exception as exc:  # the reader's error, in words, never a traceback
                self.report_problem(explain(exc, self.app.database_name))
                return
            self.problem = None
            show(found)

        # The function, not a coroutine: a read replaced before it starts is never begun.
        return self.run_worker(run, exclusive=True, group=f"{type(self).__name__}-read")

    def refused(self, title: str, error: SimdeckError) -> None:
        """Say why core refused, in its words."""
        self.notify(error.message, title=title, severity="error", timeout=8)

    def report_problem(self, text: str) -> None:
        """Say what went wrong with reading the database: once as a notification, and
        where the screen shows its state (``watch_problem``) until a read works again."""
        if text != self.problem:
            self.notify(text, title="Cannot read", severity="error", timeout=8)
        self.problem = text

    def policy_changed(self) -> None:
        """The deployment's policy changed (``app.policy``): what depends on it is redrawn."""

    @property
    def policy(self) -> offers.Policy:
        """The deployment's policy as last read."""
        return getattr(self.app, "policy", offers.Policy())

    def why_not(self, action: str) -> str | None:
        """Why ``action`` is not offered here now (None when it is, or no reason is known)."""
        return None

    def show_top(self) -> None:
        """Draw the top bar: this screen, the database, the operator."""
        bars = self.query(TopBar)
        if not bars:
            return
        actor = self.actor
        bars.first().show(
            screen=self.TITLE_TEXT,
            database=self.app.database_name,
            user=actor.name if actor else "",
            role=actor.role.value if actor else "",
            read_only=self.read_only,
        )

    # --- start, refresh -------------------------------------------------------------

    def composed(self) -> None:
        """Called by the screen's ``on_mount``: it is drawn, so it may start."""
        self._composed = True
        self.start()

    def start(self) -> None:
        """The database is open and the operator known: ``begin``, once, when drawn."""
        if self._started or not self._composed or self.actor is None:
            return
        self._started = True
        self.begin()

    def begin(self) -> None:
        """Read what the screen shows, the first time."""

    def refresh_data(self) -> None:
        """Someone changed something: read what is on screen again."""

    def started(self) -> bool:
        """True once ``start`` has run with an operator known."""
        return self._started

    def on_screen_suspend(self) -> None:
        self._under_dialog = isinstance(self.app.screen, ModalScreen)
        self.app.reader.paused = True

    def on_screen_resume(self) -> None:
        app = self.app
        app.reader.paused = False
        app.reader.poll_soon()
        stale = app.take_stale()
        if stale or not self._under_dialog:
            # Back from another screen (or from a dialog something changed under).
            self.refresh_data()
        self._under_dialog = False
        self.show_top()

    # --- keys -------------------------------------------------------------------------

    @on(events.Key)
    def _burst_keys(self, event: events.Key) -> None:
        # Keys reach this screen in the order typed, while bindings run later, at the app:
        # ``:`` opens the command line here, so ``:sims`` typed in one burst is ``:sims``,
        # and what is typed before the line is up is sent on to it. ``/`` puts the cursor
        # in the search box here, so ``/st`` in one burst searches ``st``: a letter that
        # reaches the screen while a box has the cursor was sent to the list before the box
        # got it (a box keeps every letter it is sent), and is sent on to the box.
        top = self.app.screen
        if isinstance(top, CommandLine) and top is not self:
            if top.take(event):
                event.stop()
                event.prevent_default()
            return
        box = self.focused
        if isinstance(box, Input):
            if event.is_printable:
                event.stop()
                event.prevent_default()
                box.post_message(events.Key(event.key, event.character))
            return
        if event.character == ":":
            event.stop()
            event.prevent_default()
            self.app.action_command_line()
        elif (event.character == "/" and self.SLASH_ACTION is not None
              and self.check_action(self.SLASH_ACTION, ()) is not False):
            event.stop()
            event.prevent_default()
            getattr(self, f"action_{self.SLASH_ACTION}")()

    # --- roles ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The actor's role, lowered to viewer by --read-only, decides.
        return keys.allowed(action, self.actor)


class EndpointsBase(BaseScreen):
    """What the Endpoints screen's parts (its actions, its forms) share: the list, the
    filter it shows and the marks."""

    filter: var[Filter] = var(Filter)
    marks: var[Marks] = var(Marks)

    @property
    def endpoint_list(self) -> VirtualList:
        """The list."""
        return self.query_one("#endpoints", VirtualList)
