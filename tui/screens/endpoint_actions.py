"""The Endpoints screen's actions: lifecycle actions on the marks or the cursor row.

Each action asks core for a preview on the reader thread, asks the operator, then
applies through core in a thread worker; the screen only shows what core answers.
One endpoint ends with a notification; more run as a job under a progress dialog
(with Cancel) that turns into the result, whose skipped ICCIDs can be written to CSV.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from textual import work
from textual.reactive import var

from simdeck.core import actions, db, queries, records
from simdeck.core.actions import Cancelled, Progress, Result, Targets
from simdeck.core.errors import SimdeckError
from simdeck.core.lifecycle import ACTIONS, RETENTION_DAYS, State
from simdeck.core.queries import Filter
from simdeck.tui.format import number, plural
from simdeck.tui.marks import Marks
from simdeck.tui.screens.base import BaseScreen
from simdeck.tui.screens.dialogs import CONTINUE, ConfirmScreen, GroupPicker, SimPicker
from simdeck.tui.screens.progress import ExportScreen, Job, ProgressScreen, last_job, remember
from simdeck.tui.widgets.virtual_list import VirtualList

#: Actions that cut a device off without being irreversible: their Yes/No starts on No,
#: as the destructive ones' does, though no typed confirmation is asked.
CUT_OFF = frozenset({"delink"})


class EndpointActions(BaseScreen):
    """The lifecycle actions of the Endpoints screen (which this is the base of)."""

    filter: var[Filter] = var(Filter)
    marks: var[Marks] = var(Marks)

    @property
    def endpoint_list(self) -> VirtualList:
        """The list."""
        return self.query_one("#endpoints", VirtualList)

    def targets(self) -> tuple[Targets, Any] | None:
        """The marks, or else the cursor row (with that row, when it is the target)."""
        if self.marks.filter is not None:
            return Targets(filter=self.marks.filter), None
        if self.marks.ids:
            return Targets(ids=tuple(sorted(self.marks.ids))), None
        row = self.endpoint_list.cursor_row
        if row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return None
        return Targets.one(row.id), row

    def _hidden(self) -> int:
        """How many marks the current filter hides (runs on the reader thread)."""
        return queries.hidden_marks(self.filter, ids=self.marks.ids, marked=self.marks.filter)

    def action_activate(self) -> None:
        """Activate the marked (or cursor) endpoints."""
        self._lifecycle("activate")

    def action_suspend(self) -> None:
        """Suspend the marked (or cursor) endpoints."""
        self._lifecycle("suspend")

    def action_resume(self) -> None:
        """Resume the marked (or cursor) endpoints, when the policy allows it."""
        self._lifecycle("resume")

    def action_delink(self) -> None:
        """De-link the SIM of the marked (or cursor) endpoints."""
        self._lifecycle("delink")

    def action_terminate(self) -> None:
        """Terminate the marked (or cursor) endpoints, after a typed confirmation."""
        self._lifecycle("terminate")

    def action_assign_group(self) -> None:
        """Assign the marked (or cursor) endpoints to an Endpoint Group."""
        self._lifecycle("assign_group")

    @work(exclusive=True, group="dialog")
    async def _lifecycle(self, name: str) -> None:
        chosen = self.targets()
        if chosen is None:
            return
        targets, row = chosen
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        act = ACTIONS[name]
        group: str | None = None
        try:
            if name == "assign_group":
                actor.require(act.role, act.label.lower())
                groups = await self.read(queries.groups_with_counts)
                group = await self.app.push_screen_wait(GroupPicker(groups))
                if group is None:
                    return

            def read() -> tuple[Any, int, str | None]:
                preview = actions.preview(actor, name, targets, group=group)
                iccid = None
                if name == "delink" and targets.is_single():
                    found = queries.views([targets.ids[0]])
                    iccid = found[0].iccid if found else None
                return preview, self._hidden(), iccid

            preview, hidden, iccid = await self.read(read)
        except SimdeckError as exc:
            self.notify(exc.message, title=act.label, severity="error", timeout=8)
            return
        lines = preview.lines()
        title, body = lines[0].rstrip("."), [line.strip() for line in lines[1:]]
        if group is not None:
            title = f"{title} (to {group})"
        if hidden:
            body.append(f"{number(hidden)} marked endpoint{'s are' if hidden != 1 else ' is'} "
                        "hidden by the current filter, and included.")
        if preview.eligible == 0:
            self.notify("\n".join([title, *body]), title=act.label, severity="warning")
            return
        typed = None
        if name == "terminate":
            body.append("Terminate is irreversible. The record is kept 90 days, then deleted.")
            typed = f"terminate {preview.eligible}"
        if name == "delink":
            body.insert(0, CONTINUE)
        confirmed = await self.app.push_screen_wait(
            ConfirmScreen(title, body, dangerous=act.dangerous or name in CUT_OFF, typed=typed)
        )
        if not confirmed:
            return
        if name == "delink" and iccid is None and row is not None:
            iccid = row.iccid
        if targets.is_single():
            self._apply(name, targets, group, iccid)
            return

        def job(progress: Progress, cancelled: Cancelled) -> Result:
            return actions.run(actor, name, targets, group=group, progress=progress,
                               cancelled=cancelled)

        await self._run_job(name, preview.total, job)

    async def _run_job(self, name: str, total: int, job: Job) -> None:
        """Run a bulk job under its progress dialog; the result stays until closed."""
        result = await self.app.push_screen_wait(ProgressScreen(name, total, job=job))
        if result is None:
            return
        remember(self.app, result)
        if result.applied and self.marks:
            self.marks = Marks()
        self.refresh_data()

    @work(thread=True, group="write")
    def _apply(self, name: str, targets: Targets, group: str | None, iccid: str | None) -> None:
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        try:
            result = actions.run(actor, name, targets, group=group)
        except SimdeckError as exc:
            self.app.call_from_thread(self._report, ACTIONS[name].label, exc.message, "error")
            return
        finally:
            db.database.close()
        text = "\n".join(result.lines())
        if name == "delink" and iccid and targets.is_single() and result.applied == 1:
            text = f"SIM {iccid} de-linked successfully"
        severity = "information" if result.applied and not result.skipped else "warning"
        self.app.call_from_thread(self._report, ACTIONS[name].label, text, severity, True)

    def _report(self, title: str, text: str, severity: Any, changed: bool = False) -> None:
        self.notify(text, title=title, severity=severity, timeout=8)
        if changed:
            if self.marks:
                self.marks = Marks()
            self.refresh_data()

    def action_purge(self) -> None:
        """Delete the endpoints terminated 90 days ago or more (admin), after a typed yes."""
        self._purge()

    @work(exclusive=True, group="dialog")
    async def _purge(self) -> None:
        act = ACTIONS["purge"]
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        # The console's clock decides what "90 days ago" is (a test fixes it).
        now = dt.datetime.fromtimestamp(self.app.now(), dt.UTC).replace(tzinfo=None)  # type: ignore[attr-defined]
        targets = actions.purge_targets(now)
        try:
            actor.require(act.role, "purge")
            preview = await self.read(lambda: actions.preview(actor, "purge", targets))
        except SimdeckError as exc:
            self.refused(act.label, exc)
            return
        if preview.total == 0:
            self.notify(f"No endpoint was terminated {RETENTION_DAYS} days ago or more: "
                        "nothing to purge.", title=act.label)
            return
        lines = preview.lines()
        title, body = lines[0].rstrip("."), [line.strip() for line in lines[1:]]
        if preview.eligible == 0:
            self.notify("\n".join([title, *body]), title=act.label, severity="warning")
            return
        body += [
            f"Purge deletes {plural(preview.eligible, 'endpoint')} and their SIMs permanently: "
            "it cannot be undone.",
            "The audit trail keeps a purged event for each.",
        ]
        confirmed = await self.app.push_screen_wait(
            ConfirmScreen(title, body, dangerous=True, typed=f"purge {preview.eligible}")
        )
        if not confirmed:
            return

        def job(progress: Progress, cancelled: Cancelled) -> Result:
            return actions.run(actor, "purge", targets, progress=progress, cancelled=cancelled)

        await self._run_job("purge", preview.total, job)

    def action_export_skipped(self) -> None:
        """Write the ICCIDs the last bulk job of this console skipped to a CSV file."""
        last = last_job(self.app)
        if last is None or last.job is None:
            self.notify("No bulk job has run in this console yet. The Jobs screen (key 5) "
                        "exports any job's skipped ICCIDs.", title="Export skipped")
            return
        skipped = sum(last.skipped.values())
        if not skipped:
            self.notify(f"Job {last.job} ({ACTIONS[last.action].label}) skipped no endpoint: "
                        "nothing to export.", title="Export skipped")
            return
        self.app.push_screen(ExportScreen(last.job, skipped, ACTIONS[last.action].label))

    def action_link(self) -> None:
        """Link a Ready to Activate SIM to the endpoint under the cursor (in Hold)."""
        self._link()

    @work(exclusive=True, group="dialog")
    async def _link(self) -> None:
        act = ACTIONS["link"]
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        row = self.endpoint_list.cursor_row
        if row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return
        try:
            actor.require(act.role, "link SIMs")
        except SimdeckError as exc:
            self.notify(exc.message, title=act.label, severity="error", timeout=8)
            return
        if not act.allowed(row.state):
            self.notify(act.refusal(row.state), title=act.label, severity="warning")
            return
        iccid = await self.app.push_screen_wait(SimPicker(row.name or f"endpoint {row.id}"))
        if iccid is None:
            return
        if not await self.app.push_screen_wait(ConfirmScreen(CONTINUE)):
            return
        self._write_link(row.id, iccid)

    @work(thread=True, group="write")
    def _write_link(self, endpoint_id: int, iccid: str) -> None:
        actor: Any = self.app.actor  # type: ignore[attr-defined]
        try:
            view = records.link_sim(actor, endpoint_id, iccid)
        except SimdeckError as exc:
            self.app.call_from_thread(self._report, "Link SIM", exc.message, "error")
            return
        finally:
            db.database.close()
        title = f"Link SIM · the endpoint is {State(view.state).label}"
        text = f"SIM {iccid} linked successfully"
        self.app.call_from_thread(self._report, title, text, "information", True)
