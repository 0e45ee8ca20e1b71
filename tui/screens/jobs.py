"""The Jobs screen: the latest bulk jobs, what each applied, skipped and failed; resume, export.

The jobs come from core (``core.jobs.list_jobs``) on the reader thread; the table holds
at most a hundred, so it is Textual's ``DataTable``. The selected job's detail (its
targets, group, skipped reasons, message) sits under the table. An interrupted or
cancelled job resumes under the same progress dialog as a bulk action.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import DataTable, Static

from simdeck.core import jobs as core_jobs
from simdeck.core import offers
from simdeck.core.actions import Cancelled, Progress, Result, describe_stored
from simdeck.core.errors import SimdeckError
from simdeck.core.lifecycle import ACTIONS, JobStatus
from simdeck.core.sanitize import printable
from simdeck.tui import keys
from simdeck.tui.format import ago, number, parse_iso, plural, when
from simdeck.tui.screens.base import BaseScreen
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.screens.progress import (
    ExportScreen,
    ProgressScreen,
    label,
    last_job,
    remember,
)
from simdeck.tui.widgets.footer import KeyFooter
from simdeck.tui.widgets.list_keys import KeyedTable
from simdeck.tui.widgets.status import TopBar

#: Below this width the Started column says only how long ago (the detail has the time).
NARROW = 100

#: The theme colour that reinforces a job's status.
TONE: dict[JobStatus, str] = {
    JobStatus.DONE: "$text-success",
    JobStatus.RECORDING: "$text-primary",
    JobStatus.RUNNING: "$text-primary",
    JobStatus.INTERRUPTED: "$text-warning",
    JobStatus.CANCELLED: "$text-warning",
    JobStatus.FAILED: "$text-error",
}


def job_status(status: str) -> JobStatus | None:
    """The stored status as core's JobStatus (None for one this console does not know)."""
    try:
        return JobStatus(status)
    except ValueError:
        return None


def status_word(status: str) -> str:
    """A job status as the screen writes it."""
    known = job_status(status)
    return known.label if known is not None else status.capitalize()


def resumable(status: str) -> bool:
    """True when core would carry the job on (this only words the hint)."""
    known = job_status(status)
    return known is not None and known.resumable


def describe_targets(job: dict[str, Any]) -> str:
    """What a job was asked to act on, in words."""
    targets = job.get("targets") or {}
    if "filter" in targets:
        return describe_stored(targets)
    if "ids" in targets:
        return f"{plural(int(targets['ids']), 'marked endpoint')}"
    return "—"


class JobsScreen(BaseScreen):
    """Bulk jobs, newest first: their outcome, and the selected one's detail."""

    TITLE_TEXT = "Jobs"
    BINDINGS: ClassVar = keys.bindings(keys.JOBS)
    COMMAND_SCOPES: ClassVar = (keys.JOBS,)
    AUTO_FOCUS = "#jobs-table"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW, "-wide")]

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[dict[str, Any]] = []
        self._selected: int | None = None
        #: The last job this console ran that the cursor was already put on.
        self._shown_own: int | None = None
        self._narrow: bool | None = None
        self._loaded = False

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Static("Reading jobs…", id="jobs-summary")
        yield KeyedTable(cursor_type="row", zebra_stripes=False, id="jobs-table")
        yield Static("", id="job-detail")
        yield KeyFooter()

    @property
    def table(self) -> DataTable[Any]:
        """The table of jobs."""
        return self.query_one("#jobs-table", DataTable)

    def on_mount(self) -> None:
        self.show_top()
        self.composed()

    def begin(self) -> None:
        """The database is open and the operator known: read the jobs."""
        self.show_top()
        self._load()

    def refresh_data(self) -> None:
        """Someone changed something (or the screen is back): read the jobs again."""
        if self._started:
            self._load()

    def action_refresh_jobs(self) -> None:
        """Read the jobs again now."""
        self.refresh_data()

    def _load(self) -> None:
        self.read_and_show(core_jobs.list_jobs, self._show)

    def _show(self, jobs: list[dict[str, Any]]) -> None:
        self.jobs = list(jobs)
        self._loaded = True
        self._fill()

    # --- drawing ----------------------------------------------------------------------

    def on_resize(self) -> None:
        if self._loaded:
            self._fill()

    def _fill(self) -> None:
        table = self.table
        now = float(self.app.now())
        narrow = self.size.width < NARROW
        if narrow != self._narrow:
            self._narrow = narrow
            table.clear(columns=True)
            table.add_column("ID", key="id")
            table.add_column("Action", key="action")
            table.add_column("Actor", key="actor")
            table.add_column("Status", key="status")
            table.add_column(Text("Applied", justify="right"), key="applied")
            table.add_column(Text("Skipped", justify="right"), key="skipped")
            table.add_column(Text("Failed", justify="right"), key="failed")
            table.add_column("Started", key="started")
        else:
            table.clear()
        for job in self.jobs:
            started = parse_iso(job["created_at"])
            cells: list[Any] = [
                Text(str(job["id"]), justify="right"),
                Text(printable(label(job["action"]))),
                Text(printable(job["actor"])),
                Text(printable(status_word(job["status"]))),
                Text(number(job["applied"]), justify="right"),
                Text(number(job["skipped"]), justify="right"),
                Text(number(job["failed"]), justify="right"),
                Text(ago(started, now) if narrow else when(job["created_at"], now)),
            ]
            table.add_row(*cells, key=str(job["id"]))
        count = len(self.jobs)
        self.query_one("#jobs-summary", Static).update(
            Content.assemble(
                (f" {plural(count, 'bulk job')}", "bold"),
                (", newest first" if count else "", "$text-muted"),
            )
        )
        if not self.jobs:
            self._selected = None
            self._show_detail(None)
            return
        ids = [j["id"] for j in self.jobs]
        own = last_job(self.app)
        if own is not None and own.job in ids and own.job != self._shown_own:
            # A job this console ran since the screen was last shown (a bulk action
            # cancelled on the Endpoints screen, say): the cursor goes to it, so R resumes
            # that one. Another operator's new job leaves the cursor where it was.
            self._shown_own = own.job
            self._selected = own.job
        row = ids.index(self._selected) if self._selected in ids else 0
        table.move_cursor(row=row, animate=False)
        self._selected = ids[row]
        self._show_detail(self.jobs[row])
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#jobs-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        job = self.job_by_key(event.row_key.value)
        if job is not None:
            self._selected = job["id"]
            self._show_detail(job)
            self.refresh_bindings()

    def job_by_key(self, key: Any) -> dict[str, Any] | None:
        """The job shown in the row with this key."""
        for job in self.jobs:
            if str(job["id"]) == str(key):
                return job
        return None

    @property
    def selected(self) -> dict[str, Any] | None:
        """The job under the cursor."""
        return next((j for j in self.jobs if j["id"] == self._selected), None)

    def _show_detail(self, job: dict[str, Any] | None) -> None:
        detail = self.query_one("#job-detail", Static)
        detail.update(job_detail(job, float(self.app.now()),
                                 offers.resume_job(self.actor, job, self.policy)))

    def detail_text(self) -> str:
        """What the detail shows (tests)."""
        return str(self.query_one("#job-detail", Static).render())

    # --- actions ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not keys.allowed(action, self.actor):
            return False
        if action == "resume_job":
            # Core's rule: only a cancelled or interrupted job whose action the role and
            # the deployment's policy allow (never a Done one).
            return offers.resume_job(self.actor, self.selected, self.policy)
        if action == "export_job_skipped":
            job = self.selected
            return job is not None and bool(job["skipped"])
        if action == "job_audit":
            return self.selected is not None  # an empty list offers nothing
        return True

    def why_not(self, action: str) -> str | None:
        job = self.selected
        if action in ("resume_job", "export_job_skipped", "job_audit") and job is None:
            return "No job selected"
        if action == "export_job_skipped" and job is not None and not job["skipped"]:
            return f"Job {job['id']} skipped no endpoint: nothing to export."
        if action == "resume_job" and job is not None:
            if not resumable(job["status"]):
                return f"Job {job['id']} is {status_word(job['status']).lower()}: nothing to resume"
            act = ACTIONS.get(job["action"])
            try:
                actor = self.acting()
                if act is not None:
                    actor.require(act.role, act.label.lower())
            except SimdeckError as exc:
                return exc.message
            return (f"Job {job['id']} cannot be resumed: this deployment's policy does not "
                    "allow its action (an admin changes it in Settings)")
        return None

    def on_key(self, event: Any) -> None:
        # R and X where they are not offered (no job, a Done job, nothing skipped): they
        # say why instead of nothing.
        action = {"R": "resume_job", "X": "export_job_skipped"}.get(event.key)
        if action and keys.allowed(action, self.actor) and not self.check_action(action, ()):
            why = self.why_not(action)
            if why:
                event.stop()
                self.notify(why, title=keys.BY_ID[action].label, severity="warning")

    def policy_changed(self) -> None:
        self._show_detail(self.selected)

    def action_resume_job(self) -> None:
        """Resume the selected job (interrupted or cancelled) from its last chunk."""
        self._resume()

    @work(exclusive=True, group="dialog")
    async def _resume(self) -> None:
        job = self.selected
        if job is None:
            self.notify("No job selected", severity="warning")
            return
        act = ACTIONS.get(job["action"])
        title = f"Resume job {job['id']}: {label(job['action'])}"
        try:
            actor = self.acting()
            if act is not None:
                # Core checks it again; asking first spares a question that ends in "no".
                actor.require(act.role, act.label.lower())
        except SimdeckError as exc:
            self.refused(title, exc)
            return
        if not offers.resume_job(actor, job, self.policy):
            self.notify(self.why_not("resume_job") or "Nothing to resume", title=title,
                        severity="warning")
            return
        job_id = int(job["id"])
        if resumable(job["status"]):
            body = [f"{plural(job['pending'], 'endpoint')} of {number(job['total'])} still to "
                    "process; the job carries on after the last chunk it committed."]
            if not await self.app.push_screen_wait(
                ConfirmScreen(title, body, dangerous=bool(act and act.starts_on_no))
            ):
                return

        def run(progress: Progress, cancelled: Cancelled, recording: Progress) -> Result:
            return core_jobs.resume(actor, job_id, progress=progress, cancelled=cancelled,
                                    recording=recording)

        result = await self.app.push_screen_wait(
            ProgressScreen(job["action"], int(job["total"]), job=run, title=title)
        )
        if result is not None:
            remember(self.app, result)
        self.refresh_data()

    @on(DataTable.RowSelected, "#jobs-table")
    async def _job_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.action_job_audit()

    async def action_job_audit(self) -> None:
        """The Audit log, showing the events the selected job wrote."""
        job = self.selected
        if job is None:
            self.notify("No job selected", severity="warning")
            return
        from simdeck.tui.screens.audit import AuditScreen

        await self.app.switch_mode("audit")
        screen = self.app.screen
        if isinstance(screen, AuditScreen):
            screen.show_job(int(job["id"]))

    def action_export_job_skipped(self) -> None:
        """Write the ICCIDs the selected job skipped to a CSV file."""
        job = self.selected
        if job is None:
            self.notify("No job selected", severity="warning")
            return
        if not job["skipped"]:
            self.notify(f"Job {job['id']} skipped no endpoint: nothing to export.",
                        title="Export skipped")
            return
        self.app.push_screen(ExportScreen(int(job["id"]), int(job["skipped"]),
                                          label(job["action"])))


def job_detail(job: dict[str, Any] | None, now: float, resume: bool = True) -> Content:
    """The selected job in full: targets, group, counts, skipped reasons, message."""
    if job is None:
        return Content.assemble(
            ("No bulk job yet. ", "bold"),
            ("An action on several marked endpoints (Endpoints screen, key 1) runs as a job "
             "and is listed here.", "$text-muted"),
        )
    known = job_status(job["status"])
    word, tone = status_word(job["status"]), TONE.get(known, "") if known else ""
    parts: list[str | Content | tuple[str, str]] = [
        (f"Job {job['id']}", "bold"), " · ", (printable(label(job["action"])), "bold"), " · ",
        (printable(word), f"bold {tone}".strip()), f" · by {printable(job['actor'])}\n",
        ("Targets   ", "$text-muted"), printable(describe_targets(job)), "\n",
    ]
    if job.get("group"):
        parts += [("Group     ", "$text-muted"), printable(job["group"]), "\n"]
    parts += [
        ("Outcome   ", "$text-muted"),
        f"{number(job['applied'])} applied · {number(job['skipped'])} skipped · "
        f"{number(job['failed'])} failed · {number(job['pending'])} pending, of "
        f"{number(job['total'])}\n",
        ("Started   ", "$text-muted"), when(job["created_at"], now),
    ]
    if job.get("finished_at"):
        parts += [("   Ended ", "$text-muted"), when(job["finished_at"], now)]
    reasons = job.get("skipped_by_reason") or {}
    if reasons:
        parts.append(("\nSkipped by reason", "$text-muted"))
        for why, n in sorted(reasons.items()):
            parts.append(f"\n{number(n):>11} — {printable(why)}")
    if job.get("message"):
        parts += ["\n", ("Message   ", "$text-muted"), printable(job["message"], multiline=True)]
    if resume and resumable(job["status"]):
        parts.append(("\nR resumes it from its last committed chunk.", "$text-warning"))
    elif resumable(job["status"]):
        parts.append(("\nResuming it is not yours to do: its action is not allowed to your "
                      "role or by this deployment's policy.", "$text-muted"))
    if reasons:
        parts.append(("\nX writes its skipped ICCIDs to a CSV file.", "$text-muted"))
    return Content.assemble(*parts)


__all__ = ["JobsScreen", "job_detail", "status_word"]
