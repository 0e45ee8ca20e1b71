"""A bulk job on screen: its progress bar and Cancel, then its result; the skipped ICCIDs' CSV.

``ProgressScreen`` runs the job it is given in a thread worker, moves its bar as core
reports each chunk, and turns into the result (applied, skipped by reason, failed, the
job, cancelled or not) when the job ends. A cancelled job stops after its current chunk
and stays resumable from the Jobs screen. ``ExportForm`` writes a job's skipped ICCIDs
(``iccid,reason``) to a file the operator names; ``ExportScreen`` is that form alone.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import getters, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.widgets import Button, Input, ProgressBar, Static

from simdeck.core import export, store
from simdeck.core import jobs as core_jobs
from simdeck.core.actions import Cancelled, Progress, Result
from simdeck.core.errors import InputError, NotFound, SimdeckError
from simdeck.core.lifecycle import ACTIONS
from simdeck.core.sanitize import printable
from simdeck.core.store import explain
from simdeck.tui.format import number, plural
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.widgets.footer import Dialog

if TYPE_CHECKING:
    from simdeck.tui.app import SimdeckApp

#: A job as a thread runs it: given the progress, cancelled and recording callbacks
#: (core's ``progress``, ``cancelled`` and ``recording``), its result.
Job = Callable[[Progress, Cancelled, Progress], Result]

# The last bulk job each console ran (for "Export skipped" on the Endpoints screen),
# kept beside the app rather than on one screen, since the Jobs screen resumes jobs too.
_LAST: weakref.WeakKeyDictionary[Any, Result] = weakref.WeakKeyDictionary()


def remember(app: App[Any], result: Result) -> None:
    """Note ``result`` as the last bulk job this console ran."""
    if result.job is not None:
        _LAST[app] = result


def last_job(app: App[Any]) -> Result | None:
    """The result of the last bulk job this console ran, if any."""
    return _LAST.get(app)


def label(action: str) -> str:
    """An action's label in the portal's words (the stored name when unknown)."""
    act = ACTIONS.get(action)
    return act.label if act else action


def write_skipped(job_id: int, path: str) -> int:
    """Write the ICCIDs job ``job_id`` skipped, with the reason, as CSV; returns how many.

    The same file as ``simdeck jobs skipped``, written as every export is: to a temporary
    file beside it, then renamed, so an interrupted write leaves no half-written file."""
    core_jobs.get_job(job_id)
    return export.write_file(export.skipped(job_id), "csv", Path(path).expanduser())


def default_path(job_id: int) -> str:
    """Where the skipped ICCIDs of a job go unless the operator says otherwise."""
    return f"skipped-job-{job_id}.csv"


class ExportForm(Vertical):
    """The file to write a job's skipped ICCIDs to, and the button that writes it."""

    if TYPE_CHECKING:
        app = getters.app(SimdeckApp)

    class Written(Message):
        """The CSV was written."""

        def __init__(self, path: str, count: int) -> None:
            super().__init__()
            self.path = path
            self.count = count

    def __init__(self, job_id: int, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="export-form")
        self.job_id = job_id
        self.writing = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="export-row"):
            yield Static("CSV file", classes="export-label")
            yield Input(default_path(self.job_id), id="export-path", compact=True,
                        tooltip="Where the skipped ICCIDs go (columns iccid,reason)")
            yield Button("Export skipped ICCIDs", id="export", compact=True)
        yield Static("", id="export-message", classes="export-message", markup=False)

    def show(self, text: str, *, problem: bool) -> None:
        """A line under the field: what was written, or why nothing was."""
        line = self.query_one("#export-message", Static)
        line.update(printable(text, multiline=True))
        line.set_class(problem, "-problem")
        line.add_class("-shown")

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#export-path")
    async def _export(self, event: Message) -> None:
        event.stop()
        if self.writing:
            return
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.show("File: enter the path of the CSV file to write.", problem=True)
            return
        self.writing = True
        try:
            count = await self.app.read(lambda: write_skipped(self.job_id, path))
        except OSError as exc:
            why = exc.strerror or str(exc)
            self.show(f"File: cannot write {path}: {why}. Nothing was written.", problem=True)
            return
        except NotFound as exc:
            self.show(exc.message, problem=True)
            return
        except InputError as exc:
            # The file's own problem (a missing folder, a folder named so, no room).
            self.show(f"File: {exc.message}. Nothing was written.", problem=True)
            return
        except SimdeckError as exc:
            self.show(exc.message, problem=True)
            return
        finally:
            self.writing = False
        text = f"Wrote {plural(count, 'ICCID')} to {path}"
        self.show(text, problem=False)
        self.notify(text, title="Export skipped ICCIDs")
        self.post_message(self.Written(path, count))


class ExportScreen(Dialog["int | None"]):
    """Export one job's skipped ICCIDs to CSV; returns how many were written."""

    if TYPE_CHECKING:
        app = getters.app(SimdeckApp)

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, job_id: int, skipped: int, what: str = "") -> None:
        super().__init__()
        self.job_id = job_id
        self.skipped = skipped
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(Content.styled(f"Export skipped ICCIDs · job {self.job_id}", "bold"),
                         id="export-title")
            about = f"{printable(self.what)}: " if self.what else ""
            yield Static(f"{about}{plural(self.skipped, 'endpoint')} skipped.", markup=False)
            yield ExportForm(self.job_id, id="export-form")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(ExportForm.Written)
    def _written(self, event: ExportForm.Written) -> None:
        self.dismiss(event.count)

    @on(Button.Pressed, "#close")
    def action_cancel(self) -> None:
        """Nothing more to write."""
        self.dismiss(None)


class ProgressScreen(Dialog["Result | None"]):
    """A bulk job's progress bar with Cancel, then its result; returns the result.

    Without a ``job`` it only shows what it is told (``advance``, ``show_result``).
    """

    if TYPE_CHECKING:
        app = getters.app(SimdeckApp)

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel"),
        Binding("escape", "close", "Close"),
        # The console's own q and Ctrl+c are not active under a dialog: the dialog takes
        # them, so quitting under a running job asks first rather than doing nothing.
        Binding("q", "quit_job", "Quit"),
        Binding("ctrl+c", "quit_job", "Quit", show=False),
    ]

    #: True once the job has ended (the result is on screen).
    finished: var[bool] = var(False)

    def __init__(self, action: str, total: int, *, job: Job | None = None,
                 title: str | None = None) -> None:
        super().__init__()
        self.action = action
        self.total = total
        self.job = job
        self.title_text = title or f"{label(action)}: {plural(total, 'endpoint')}"
        self.done = 0
        #: True while core records the job's targets (before the first chunk): a job
        #: starts so, until core reports otherwise.
        self.recording = job is not None
        #: True once core reported the job started (it exists, and can be resumed).
        self.started = False
        #: Quit the console once the job has stopped (asked with q).
        self.quit_after = False
        self.result: Result | None = None
        self._cancel = threading.Event()
        self._app: SimdeckApp | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-dialog", classes="dialog"):
            yield Static(Content.styled(printable(self.title_text), "bold"), id="progress-title",
                         markup=False)
            yield ProgressBar(total=max(self.total, 1), show_eta=False, id="progress-bar")
            yield Static(self._line(), id="progress-line", markup=False)
            yield Static("", id="result-body", markup=False)
            yield Static("", id="result-note", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="warning")
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self._app = self.app
        self.query_one("#close", Button).display = False
        self.query_one("#result-body").display = False
        self.query_one("#result-note").display = False
        self.query_one("#cancel", Button).focus()
        if self.job is not None:
            self.run_worker(self._work, thread=True, group="write", exit_on_error=False)

    # --- the job's thread -----------------------------------------------------------

    def _work(self) -> None:
        assert self.job is not None
        outcome: Result | str
        try:
            outcome = self.job(self.report, self.is_cancelled, self.report_recording)
        except SimdeckError as exc:
            outcome = exc.message
        except Exception as exc:  # shown in words in the dialog, never a traceback
            outcome = explain(exc, self._app.database_name if self._app else "")
        finally:
            store.close_connection()
        self._call(self.show_result, outcome)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._app is None:
            return
        try:
            self._app.call_from_thread(fn, *args)
        except RuntimeError:
            # The console is closing: stop after this chunk; the job stays resumable.
            self._cancel.set()

    def report(self, done: int, total: int) -> None:
        """Core's progress callback (the job's thread): move the bar."""
        self._call(self.advance, done, total)

    def report_recording(self, done: int, total: int) -> None:
        """Core's recording callback (the job's thread): targets recorded so far."""
        self._call(self.advance, done, total, True)

    def is_cancelled(self) -> bool:
        """Core's cancelled callback (the job's thread): has Cancel been pressed?"""
        return self._cancel.is_set()

    # --- on screen ------------------------------------------------------------------

    def _line(self) -> str:
        if self.recording:
            return f"Recording targets {number(self.done)} of {number(self.total)}…"
        act = ACTIONS.get(self.action)
        doing = act.progress if act is not None and act.progress else label(self.action)
        return f"{printable(doing)} {number(self.done)} of {plural(self.total, 'endpoint')}…"

    def advance(self, done: int, total: int, recording: bool = False) -> None:
        """Show ``done`` of ``total`` endpoints processed (or, while ``recording``, of the
        targets recorded: the first phase of a job, counted as progress too)."""
        if self.finished:
            return
        self.started = True
        self.recording = recording
        self.done, self.total = done, total
        self.query_one("#progress-bar", ProgressBar).update(total=max(total, 1), progress=done)
        if not self._cancel.is_set():
            self.query_one("#progress-line", Static).update(self._line())

    def action_cancel(self) -> None:
        """Cancel the job after its current chunk; once it has ended, close."""
        if self.finished:
            self.dismiss(self.result)
            return
        if self.job is None or self._cancel.is_set():
            return
        self._cancel.set()
        self.query_one("#cancel", Button).disabled = True
        phase = "recorded" if self.recording else "done"
        self.query_one("#progress-line", Static).update(
            f"Cancelling… the job stops after its current chunk ({number(self.done)} of "
            f"{number(self.total)} {phase})."
        )

    @work(exclusive=True, group="progress-quit")
    async def action_quit_job(self) -> None:
        """q: quit the console; while the job runs, ask first, then cancel it and quit once
        it has stopped (it stays resumable)."""
        if self.finished or self.job is None:
            await self.app.run_action("quit")
            return
        job = "the job"
        if not await self.app.push_screen_wait(ConfirmScreen(
            f"Quit while {label(self.action).lower()} runs?",
            [f"{job.capitalize()} stops after its current chunk and can be resumed from "
             "the Jobs screen (key 5).", "Quit anyway?"],
            dangerous=True,
        )):
            return
        if self.finished:
            self.app.exit()
            return
        self.quit_after = True
        self.action_cancel()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(self.result)

    def show_result(self, outcome: Result | str) -> None:
        """The job ended: its result (or core's refusal) replaces the progress."""
        if self.quit_after:
            self.finished = True
            self.app.exit()
            return
        if isinstance(outcome, str):
            if not self.started:
                # Refused before anything started (a role, a job already done): a message.
                self.notify(outcome, title=label(self.action), severity="error", timeout=10)
                self.finished = True
                self.dismiss(None)
                return
            self._show_problem(outcome)
            return
        self.result = outcome
        self.finished = True
        bar = self.query_one("#progress-bar", ProgressBar)
        processed = outcome.applied + sum(outcome.skipped.values()) + outcome.failed
        bar.update(total=max(outcome.total, 1), progress=processed)
        self.query_one("#progress-title", Static).update(
            Content.styled(printable(result_title(outcome)), "bold")
        )
        self.query_one("#progress-line", Static).update(
            f"{number(processed)} of {plural(outcome.total, 'endpoint')} processed."
        )
        body = self.query_one("#result-body", Static)
        body.update(printable("\n".join(result_lines(outcome)), multiline=True))
        body.display = True
        note = result_note(outcome)
        if note:
            line = self.query_one("#result-note", Static)
            line.update(printable(note, multiline=True))
            line.display = True
        if outcome.skipped and outcome.job is not None:
            dialog = self.query_one("#progress-dialog")
            dialog.mount(ExportForm(outcome.job, id="result-export"),
                         before=self.query_one("#progress-dialog .dialog-buttons"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Esc cancels the job while it runs and closes its result once it has ended: the
        # footer says which.
        if action == "cancel":
            return not self.finished
        if action == "close":
            return self.finished
        return True

    def action_close(self) -> None:
        """Close the result."""
        self.dismiss(self.result)

    def watch_finished(self, finished: bool) -> None:
        if self.is_mounted:
            self.refresh_bindings()
        if not finished or not self.is_mounted:
            return
        self.query_one("#cancel", Button).display = False
        close = self.query_one("#close", Button)
        close.display = True
        # After the layout that the result made, so a short terminal scrolls to it.
        self.call_after_refresh(close.focus)

    def _show_problem(self, text: str) -> None:
        self.finished = True
        self.query_one("#progress-title", Static).update(
            Content.styled(f"{printable(label(self.action))} stopped", "bold")
        )
        self.query_one("#progress-line", Static).update(
            f"{number(self.done)} of {plural(self.total, 'endpoint')} processed before it stopped."
        )
        line = self.query_one("#result-note", Static)
        line.update(printable(f"{text}\nThe Jobs screen (key 5) shows the job and can resume it.",
                              multiline=True))
        line.add_class("-problem")
        line.display = True


def result_title(result: Result) -> str:
    """The result's heading: the action, the job and how it ended."""
    job = f" · job {result.job}" if result.job is not None else ""
    return f"{label(result.action)}{job} · {result.status}"


def result_lines(result: Result) -> list[str]:
    """Applied, skipped by reason, failed: the counts, aligned."""
    skipped = sum(result.skipped.values())
    lines = [f"Applied  {number(result.applied):>9}",
             f"Skipped  {number(skipped):>9}"]
    lines += [f"{number(n):>11} — {why}" for why, n in sorted(result.skipped.items())]
    lines.append(f"Failed   {number(result.failed):>9}")
    return lines


def result_note(result: Result) -> str:
    """What to do next, when the job did not finish."""
    if result.status == "cancelled":
        processed = result.applied + sum(result.skipped.values()) + result.failed
        return (f"Cancelled after {number(processed)} of {number(result.total)}: job "
                f"{result.job} can be resumed from the Jobs screen (key 5).")
    if result.status == "interrupted":
        return (f"{result.message}\nResume job {result.job} from the Jobs screen (key 5).")
    return ""


__all__ = ["ExportForm", "ExportScreen", "ProgressScreen", "last_job", "remember",
           "result_lines", "result_title", "write_skipped"]
