"""The console: ``run_console`` (what the command line calls) and the Textual app.

The app never reads the database on its event loop: every read runs on one reader
thread (``tui.reader``) that also watches for other operators' changes, and results
come back as messages.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rich.console import Console
from textual import constants, work
from textual.app import App
from textual.binding import Binding, Keymap
from textual.dom import DOMNode
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from simdeck.core import auth, db, offers, views_saved
from simdeck.core.auth import Actor
from simdeck.core.errors import InputError, SimdeckError
from simdeck.core.sanitize import printable
from simdeck.core.store import STORE_ERRORS, explain, open_store
from simdeck.tui import keys
from simdeck.tui.format import SIXTEEN_COLOURS
from simdeck.tui.keys import Command, CommandsProvider
from simdeck.tui.reader import Reader, ask
from simdeck.tui.screens.audit import AuditScreen
from simdeck.tui.screens.base import BaseScreen
from simdeck.tui.screens.command_line import CommandLine, Runner
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.screens.endpoints import EndpointsScreen
from simdeck.tui.screens.groups import GroupsScreen
from simdeck.tui.screens.help import HelpScreen
from simdeck.tui.screens.jobs import JobsScreen
from simdeck.tui.screens.progress import ProgressScreen
from simdeck.tui.screens.settings import SettingsScreen
from simdeck.tui.screens.sims import SimsScreen
from simdeck.tui.widgets.status import TopBar
from simdeck.tui.widgets.virtual_list import VirtualList

T = TypeVar("T")

Clock = Callable[[], "float | dt.datetime"]

_FROZEN = False


def prepare(url: str, *, read_only: bool = False, user: str | None = None) -> Actor:
    """Open the database (creating, migrating or refusing it), and log the operator in."""
    open_store(url, read_only=read_only)
    return auth.login(user=user, read_only=read_only)


def run_console(db_url: str | None, read_only: bool = False) -> None:
    """Open the console on ``db_url``; a problem before it starts is one line and exit 1."""
    url = db_url or os.environ.get("SIMDECK_DB") or db.default_url()
    try:
        actor = prepare(url, read_only=read_only)
    except SimdeckError as exc:
        print(f"simdeck: {printable(exc, multiline=True)}", file=sys.stderr)
        raise SystemExit(1) from None
    except STORE_ERRORS as exc:
        print(f"simdeck: {printable(explain(exc, db.describe(url)), multiline=True)}",
              file=sys.stderr)
        raise SystemExit(1) from None
    # The reader thread opens its own connection; this one is not needed any more.
    db.database.close()
    SimdeckApp(url, read_only, actor=actor, colours=terminal_colours()).run()


def terminal_colours() -> int:
    """How many colours this terminal shows, as Textual will find it (TERM, COLORTERM,
    TEXTUAL_COLOR_SYSTEM)."""
    system = Console(color_system=constants.COLOR_SYSTEM,  # type: ignore[arg-type]
                     force_terminal=True, file=io.StringIO()).color_system
    return {"standard": 16, "windows": 16, "256": 256}.get(str(system), 2**24)


class QuitScreen(ConfirmScreen):
    """Quit with something to lose: says what, and focuses No."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("Quit simdeck?", reasons, dangerous=True)


TopBar.SCREENS = tuple((key, title) for key, _mode, title in keys.SCREENS)


class SimdeckApp(App[None]):
    """simdeck's console."""

    # Absolute, so a subclass defined elsewhere (a benchmark, a test) finds it too.
    CSS_PATH: ClassVar = [
        Path(__file__).with_name("app.tcss"),
        *sorted(Path(__file__).with_name("styles").glob("*.tcss")),
    ]
    TITLE = "simdeck"
    BINDINGS: ClassVar = keys.bindings(keys.APP)
    COMMANDS: ClassVar = App.COMMANDS | {CommandsProvider}
    #: The screens, each a mode with its own dialogs; Endpoints is the first.
    DEFAULT_MODE: ClassVar[str] = "endpoints"
    MODES: ClassVar = {
        "endpoints": EndpointsScreen,
        "sims": SimsScreen,
        "groups": GroupsScreen,
        "audit": AuditScreen,
        "jobs": JobsScreen,
        "settings": SettingsScreen,
    }

    class Ready(Message):
        """The database is open and the operator known."""

        def __init__(self, actor: Actor | None, error: BaseException | None) -> None:
            super().__init__()
            self.actor = actor
            self.error = error

    class DataChanged(Message):
        """Another process committed a change."""

    class PolicyRead(Message):
        """The deployment's policy, as read now."""

        def __init__(self, policy: offers.Policy) -> None:
            super().__init__()
            self.policy = policy

    class PollFailed(Message):
        """Looking for changes failed (the database went away, say)."""

        def __init__(self, error: BaseException) -> None:
            super().__init__()
            self.error = error

    def __init__(
        self,
        db_url: str | None = None,
        read_only: bool = False,
        *,
        clock: Clock | None = None,
        actor: Actor | None = None,
        user: str | None = None,
        poll_interval: float = 1.0,
        colours: int | None = None,
    ) -> None:
        #: How many colours the terminal shows (16, 256, or 2**24); None: full colour.
        self._colours = colours
        super().__init__()
        self.db_url = db_url or os.environ.get("SIMDECK_DB") or db.default_url()
        self.database_name = db.describe(self.db_url)
        self.read_only = read_only
        self.clock = clock
        self.actor = actor
        self.user = user
        self.reader = Reader(
            poll_interval=poll_interval,
            on_change=self._changed_elsewhere,
            on_poll_error=self._poll_failed,
        )
        self._stale = False
        #: The keymap in use (binding id → keys), so the help and the menu show its keys.
        self.keymap: dict[str, str] = {}
        #: Why the database could not be opened, when it could not.
        self.setup_problem: str | None = None
        #: The deployment's policy (allow_resume): what it lets the screens offer. Read at
        #: start and again after every change (a setting change is audited like any).
        self.policy = offers.Policy()

    @property
    def colours(self) -> int:
        """How many colours the console draws for: 16 for TERM=xterm and the like (as
        ``run_console`` finds the terminal); a console made without being told (tests,
        screenshots) draws in full colour."""
        return self._colours or 2**24

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables; at 16 colours each state's tone its own ANSI colour."""
        variables = super().get_css_variables()
        if self.colours <= 16:
            variables = {**variables, **SIXTEEN_COLOURS}
            self.theme_variables = variables
        return variables

    def _changed_elsewhere(self) -> None:
        self.post_message(self.DataChanged())  # thread-safe: the reader thread calls it

    def read_policy(self) -> None:
        """Read the deployment's policy on the reader thread; the screens' keys follow."""

        def deliver(result: Any, error: BaseException | None) -> None:
            if error is None:
                self.post_message(self.PolicyRead(result))

        self.reader.submit("policy", offers.Policy.read, deliver)

    def on_simdeck_app_policy_read(self, message: PolicyRead) -> None:
        if message.policy == self.policy:
            return
        self.policy = message.policy
        for screen in self.all_screens():
            screen.refresh_bindings()
            if isinstance(screen, BaseScreen):
                screen.policy_changed()

    def _poll_failed(self, error: BaseException) -> None:
        self.post_message(self.PollFailed(error))

    def now(self) -> float:
        """The time, from the test's fixed clock when one was given."""
        if self.clock is None:
            return time.time()
        value = self.clock()
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return value.timestamp()
        return float(value)

    async def read(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the reader thread and wait for its result (errors are raised).

        The one way the console reads: never on the event loop.
        """
        result: T = await ask(self.reader, fn)
        return result

    def first_page_shown(self) -> None:
        """Called once the list is on screen: settle the memory the start-up made.

        Freezing what exists then (the app, its widgets, the modules) keeps the
        collector's full passes to what was made since: a cursor key never waits behind
        a 40 ms collection of objects that live as long as the app anyway.
        """
        global _FROZEN
        if not _FROZEN:
            _FROZEN = True
            gc.collect()
            gc.freeze()

    # --- start and stop ---------------------------------------------------------------

    def on_load(self) -> None:
        self.reader.start()
        if self.actor is not None:
            self.reader.ready = True
            self.read_policy()
            return
        url, read_only, user = self.db_url, self.read_only, self.user

        def setup() -> Actor:
            actor = prepare(url, read_only=read_only, user=user)
            self.reader.ready = True
            return actor

        def deliver(result: Any, error: BaseException | None) -> None:
            self.post_message(self.Ready(result, error))

        self.reader.submit("setup", setup, deliver, priority=-1)

    def on_simdeck_app_ready(self, message: Ready) -> None:
        if message.error is not None:
            self.setup_problem = explain(message.error, self.database_name)
        else:
            self.actor = message.actor
            self.read_policy()
        for screen in self.all_screens():
            if isinstance(screen, BaseScreen):
                screen.start()

    def on_unmount(self) -> None:
        self.reader.stop()

    def all_screens(self) -> list[Screen[Any]]:
        """Every screen of every mode that has been opened (the Endpoints screen first)."""
        screens: list[Screen[Any]] = []
        for mode in self.MODES:
            try:
                screens += self.get_screen_stack(mode)
            except KeyError:  # a mode not visited yet has no stack
                continue
        return screens

    def _endpoints_screen(self, do: Callable[[EndpointsScreen], Any]) -> None:
        for screen in self.all_screens():
            if isinstance(screen, EndpointsScreen):
                do(screen)

    # --- screens ----------------------------------------------------------------------

    def action_goto(self, mode: str) -> None:
        """Go to one of the screens (Endpoints, SIMs, Groups, Audit, Jobs)."""
        if self.current_mode != mode:
            self.switch_mode(mode)

    # --- live refresh -----------------------------------------------------------------

    def on_simdeck_app_data_changed(self) -> None:
        self.read_policy()
        if isinstance(self.screen, ModalScreen):
            # A dialog is open: the list stays as the operator saw it until it closes.
            self._stale = True
            return
        # The screens of other modes read again when the operator comes back to them.
        if isinstance(self.screen, BaseScreen):
            self.screen.refresh_data()

    def on_simdeck_app_poll_failed(self, message: PollFailed) -> None:
        text = explain(message.error, self.database_name)
        screen = self.screen
        if isinstance(screen, BaseScreen):
            screen.report_problem(text)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification of the console, from any screen: its text is never read as
        markup (a name holding ``[/]`` or ``[@click=…]`` is shown as written) and its
        control characters are shown as escapes, since messages quote names and input."""
        super().notify(printable(message, multiline=True), title=printable(title),
                       severity=severity, timeout=timeout, markup=False)

    def set_keymap(self, keymap: Keymap) -> None:
        self.keymap = dict(keymap)
        super().set_keymap(keymap)

    def update_keymap(self, keymap: Keymap) -> None:
        self.keymap = {**self.keymap, **keymap}
        super().update_keymap(keymap)

    def key_display(self, command: Command) -> str:
        """The command's keys as the footer writes them, or as a keymap remapped them."""
        remapped = self.keymap.get(command.binding().id or "")
        if remapped is None:
            bindings = [Binding(key, command.id, key_display=command.key_display)
                        for key in command.keys]
        else:
            bindings = [Binding(key.strip(), command.id) for key in remapped.split(",")]
        shown = [self.get_key_display(binding) for binding in bindings]
        if (command.action or "").startswith("chord("):
            shown = []
        return " ".join([*dict.fromkeys(shown), *command.chords])

    def take_stale(self) -> bool:
        """True (once) when a change arrived while a dialog was open."""
        stale, self._stale = self._stale, False
        return stale

    # --- actions ----------------------------------------------------------------------

    def action_command_line(self) -> None:
        """The ``:`` command line (pushed at once: the keys typed next go to it)."""
        if not isinstance(self.screen, CommandLine):
            self.push_screen(CommandLine(self._saved_views), self._run_command_line)

    def _run_command_line(self, text: str | None) -> None:
        if text:
            self.run_worker(Runner(self).run(text), group="command-line")

    async def _saved_views(self) -> list[str]:
        """The operator's saved views, for completion (none when they cannot be read)."""
        actor = self.actor
        if actor is None:
            return []
        try:
            return await self.read(lambda: views_saved.view_names(actor))
        except SimdeckError:
            return []  # completion without them; :view still says what is wrong
        except STORE_ERRORS:
            return []

    def quit_reasons(self) -> list[str]:
        """What quitting now would lose: marks, a running job, a result not yet closed."""
        reasons: list[str] = []
        for screen in self.all_screens():
            if isinstance(screen, ProgressScreen):
                if screen.result is None:
                    reasons.append("A bulk job is running: quitting stops it after its "
                                   "current chunk (the Jobs screen resumes it).")
                else:
                    reasons.append("The result of a bulk job is on screen, not yet closed.")
        for screen in self.all_screens():
            if isinstance(screen, EndpointsScreen) and screen.marks:
                shown = screen.marks.describe(screen.filter, screen.endpoint_list.count)
                reasons.append(f"Endpoints: {shown}; the marks are lost on quitting.")
        return reasons

    async def action_quit(self) -> None:
        """Leave the console; with marks, a running job or an unread result, ask first."""
        if isinstance(self.screen, QuitScreen):
            return
        reasons = self.quit_reasons()
        if not reasons:
            self.exit()
            return
        self._ask_quit(reasons)

    def action_help_quit(self) -> None:
        """Ctrl+c quits as q does (asking first when something would be lost); in a text
        box it copies."""
        self.run_worker(self.action_quit(), group="quit-key")

    @work(exclusive=True, group="quit")
    async def _ask_quit(self, reasons: list[str]) -> None:
        if await self.push_screen_wait(QuitScreen(reasons)):
            self.exit()

    def action_help(self) -> None:
        """Every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def run_command(self, command: Command) -> None:
        """Run a registry command from the palette, on the widget or screen it belongs to."""
        target: DOMNode = self
        if not command.allowed(self.actor):
            # Forced past what the role offers: say why, in core's words.
            try:
                if self.actor is None:
                    raise InputError("not logged in yet")
                self.actor.require(command.role, command.label.lower())
            except SimdeckError as exc:
                self.notify(exc.message, title=command.label, severity="error", timeout=8)
            return
        if command.scope == keys.LIST:
            lists = self.screen.query(VirtualList)
            if not lists:
                return
            target = lists.first()
        elif command.scope != keys.APP:
            target = self.screen
        if not target.check_action(command.id, ()):
            # Offered when the palette opened, not any more (the row changed meanwhile).
            why = target.why_not(command.id) if isinstance(target, BaseScreen) else None
            self.notify(why or f"{command.label} is not available here now",
                        title=command.label, severity="warning", timeout=8)
            return
        self.call_later(self.run_action, command.action or command.id, target)
