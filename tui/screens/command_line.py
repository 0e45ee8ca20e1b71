"""The ``:`` command line, as in vim and k9s: screens, quit, export, sort and saved views.

``:endpoints :sims :groups :audit :jobs :settings`` open a screen; ``:q`` quits (asking
first when something would be lost); ``:export FILE.csv`` writes the Endpoints screen's
current view through the same code as ``simdeck export``; ``:sort COLUMN [asc|desc]``
sorts it; ``:save NAME`` keeps its filter and sort as the operator's view, ``:view NAME``
opens one. Tab completes the command, the column or the view's name; the candidates
are listed under the line as one types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from simdeck.core import views_saved
from simdeck.core.errors import SimdeckError
from simdeck.core.queries import SORTS
from simdeck.core.sanitize import printable
from simdeck.tui.widgets.endpoint_rows import SORT_LABELS
from simdeck.tui.widgets.footer import Dialog

if TYPE_CHECKING:
    from simdeck.tui.app import SimdeckApp

#: The screens ``:NAME`` opens (the mode of the same name).
SCREEN_WORDS = ("endpoints", "sims", "groups", "audit", "jobs", "settings")

#: Every command and what it takes, for completion and the hints.
WORDS: dict[str, str] = {
    "endpoints": "the Endpoints screen", "sims": "the SIM inventory",
    "groups": "the Endpoint Groups", "audit": "the Audit log", "jobs": "the Jobs",
    "settings": "the deployment settings",
    "export": "FILE.csv — the Endpoints screen's rows, as filtered and sorted",
    "sort": "COLUMN [asc|desc] — " + " ".join(SORTS),
    "save": "NAME — keep this filter and sort as your view",
    "view": "NAME — open one of your saved views",
    "q": "quit",
}


def completions(text: str, views: list[str]) -> list[str]:
    """What the command line can become from ``text`` (without the ``:``), best first."""
    word, space, rest = text.lstrip().partition(" ")
    if not space:
        return [w for w in WORDS if w.startswith(word.lower())]
    word = word.lower()
    rest = rest.lstrip()
    if word == "sort":
        column, _, order = rest.partition(" ")
        if not _:
            return [f"sort {c}" for c in SORTS if c.startswith(column.lower())]
        return [f"sort {column} {o}" for o in ("asc", "desc") if o.startswith(order.lower())]
    if word == "view":
        return [f"view {v}" for v in views if v.lower().startswith(rest.lower())]
    return []


class CommandLine(Dialog["str | None"]):
    """The line at the bottom after ``:``; returns what was typed (None: Esc)."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel"),
        Binding("tab", "complete", "Complete", priority=True),
    ]

    AUTO_FOCUS = "#command-input"  # styles: tui/styles/command_line.tcss

    def __init__(self, views: Callable[[], Awaitable[list[str]]] | list[str]) -> None:
        """``views``: the saved views' names, or how to read them (while one types)."""
        super().__init__()
        self.views: list[str] = views if isinstance(views, list) else []
        self._read_views = None if isinstance(views, list) else views
        #: What was typed before the line was drawn.
        self._early = ""
        self._early_enter = False

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            yield Static("", id="command-hints", markup=False)
            with Horizontal(id="command-row"):
                yield Static(":", id="command-colon")
                yield Input(id="command-input", compact=True)

    def on_mount(self) -> None:
        line = self.line
        line.focus()
        if self._early:
            line.insert_text_at_cursor(self._early)
        if self._early_enter:
            self.call_after_refresh(self._submit)
        self._hint(line.value)
        if self._read_views is not None:
            self.run_worker(self._load_views(), exclusive=True)

    async def _load_views(self) -> None:
        if self._read_views is not None:
            self.views = await self._read_views()
            self._hint(self.line.value)

    @property
    def line(self) -> Input:
        """The line."""
        return self.query_one("#command-input", Input)

    def _hint(self, text: str) -> None:
        found = completions(text, self.views)
        lines = []
        for candidate in found[:8]:
            about = WORDS.get(candidate, "")
            lines.append(f":{candidate}  {about}".rstrip() if about else f":{candidate}")
        if not found and text.strip():
            word = text.split()[0].lower()
            usage = WORDS.get(word)
            lines.append(f":{word} {usage}" if usage else f"No command starts with “{text}”")
        self.query_one("#command-hints", Static).update(
            "\n".join(printable(line) for line in lines))

    def on_key(self, event: events.Key) -> None:
        # Keys typed right after ``:``, sent to the screen before the line had the focus,
        # still go to it (the line itself stops every key it types).
        if self.take(event):
            event.stop()
            event.prevent_default()

    def take(self, event: events.Key) -> bool:
        """Type a key that was meant for the line but reached another node; Enter runs
        it. True when it was taken."""
        lines = self.query("#command-input")
        if event.is_printable and event.character:
            if not lines:
                self._early += event.character  # not drawn yet: typed once it is
                return True
            self.line.focus()
            self.line.insert_text_at_cursor(event.character)
            return True
        if event.key == "enter":
            if not lines:
                self._early_enter = True
                return True
            self.dismiss(self.line.value)
            return True
        return False

    def _submit(self) -> None:
        self.dismiss(self.line.value)

    @on(Input.Changed, "#command-input")
    def _changed(self, event: Input.Changed) -> None:
        self._hint(event.value)

    def action_complete(self) -> None:
        """Tab: the first candidate (the command, the column, the view's name)."""
        found = completions(self.line.value, self.views)
        if found:
            single = len(found) == 1 and found[0] in WORDS and found[0] not in SCREEN_WORDS
            self.line.value = found[0] + (" " if single else "")
            self.line.cursor_position = len(self.line.value)

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Nothing run."""
        self.dismiss(None)


class Runner:
    """Runs one command line on the console (the app's ``action_command_line``)."""

    def __init__(self, app: SimdeckApp) -> None:
        self.app = app

    def say(self, text: str, *, problem: bool = True) -> None:
        """One line, in a notification (the problem in words, or what was done)."""
        self.app.notify(printable(text), title="Command",
                        severity="error" if problem else "information", timeout=6)

    async def run(self, text: str) -> None:
        """Run ``text`` (what followed ``:``)."""
        word, _, rest = text.strip().partition(" ")
        word, rest = word.lower(), rest.strip()
        if not word:
            return
        if word not in WORDS and word != "quit":
            found = [w for w in WORDS if w.startswith(word)]
            if len(found) == 1:
                word = found[0]  # a prefix naming one command (:end, :au) is that command
        handlers: dict[str, Callable[[str], Awaitable[None]]] = {
            "q": self._quit, "quit": self._quit, "export": self._export, "sort": self._sort,
            "save": self._save, "view": self._view,
        }
        if word in SCREEN_WORDS:
            await self._screen(word, rest)
        elif word in handlers:
            await handlers[word](rest)
        else:
            self.say(f":{word}: no such command (Tab lists them: "
                     f"{' '.join(':' + w for w in WORDS)})")

    async def _screen(self, mode: str, rest: str) -> None:
        if mode not in self.app.MODES:
            self.say(f":{mode}: no such screen in this console")
            return
        await self.app.switch_mode(mode)

    async def _quit(self, rest: str) -> None:
        await self.app.action_quit()

    def _endpoints(self, command: str) -> Any:
        from simdeck.tui.screens.endpoints import EndpointsScreen

        screen = self.app.screen
        if not isinstance(screen, EndpointsScreen):
            self.say(f":{command} works on the Endpoints screen (:endpoints, or 1)")
            return None
        return screen

    async def _export(self, rest: str) -> None:
        screen = self._endpoints("export")
        if screen is None:
            return
        if not rest:
            self.say(":export FILE.csv: give the file to write")
            return
        from simdeck.core import export

        f, sort, target = screen.filter, screen.sort, Path(rest).expanduser()

        def write() -> int:
            return export.write_file(export.endpoints(f, sort), export.format_of(rest), target)

        try:
            count = await screen.write(write)
        except OSError as exc:
            self.say(f"File: cannot write {rest}: {exc.strerror or exc}. Nothing was written.")
            return
        except SimdeckError as exc:
            self.say(exc.message)
            return
        self.say(f"Wrote {count:,} endpoints to {rest}", problem=False)

    async def _sort(self, rest: str) -> None:
        screen = self._endpoints("sort")
        if screen is None:
            return
        column, _, order = rest.lower().partition(" ")
        by_label = {label.lower(): key for key, label in SORT_LABELS.items()}
        key = column if column in SORTS else by_label.get(column)
        if key is None:
            self.say(f":sort {column or '…'}: not a column; one of {' '.join(SORTS)}")
            return
        if order.strip() not in ("", "asc", "desc"):
            self.say(f":sort {column} {order.strip()}: the order is asc or desc")
            return
        screen.sort_by_column(key, order.strip() == "desc" if order.strip() else None)

    async def _save(self, rest: str) -> None:
        screen = self._endpoints("save")
        if screen is None:
            return
        actor = screen.acting()
        f, sort, descending = screen.filter, screen.sort, screen.descending
        try:
            view = await screen.write(
                lambda: views_saved.save_view(actor, rest, f, sort, descending))
        except SimdeckError as exc:
            self.say(exc.message)
            return
        self.say(f"Saved the view {view.name} (:view {view.name} opens it)", problem=False)

    async def _view(self, rest: str) -> None:
        actor = self.app.actor
        if actor is None:
            return
        try:
            view = await self.app.read(lambda: views_saved.load_view(actor, rest))
        except SimdeckError as exc:
            self.say(exc.message)
            return
        if self.app.current_mode != "endpoints":
            await self.app.switch_mode("endpoints")
        from simdeck.tui.screens.endpoints import EndpointsScreen

        screen = self.app.screen
        if isinstance(screen, EndpointsScreen):
            screen.show_view(view)
            self.say(f"View {view.name}", problem=False)


__all__ = ["CommandLine", "Runner", "completions"]
