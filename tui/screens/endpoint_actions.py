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

from simdeck.core import actions, queries, records
from simdeck.core.actions import Cancelled, Progress, Result, Targets
from simdeck.core.errors import SimdeckError
from simdeck.core.lifecycle import ACTIONS, RETENTION_DAYS, Action, Confirm, State
from simdeck.tui.format import number
from simdeck.tui.marks import Marks
from simdeck.tui.screens.base import EndpointsBase
from simdeck.tui.screens.dialogs import CONTINUE, ConfirmScreen, GroupPicker, SimPicker
from simdeck.tui.screens.progress import ExportScreen, Job, ProgressScreen, last_job, remember


def releases_sim(act: Action) -> bool:
    """True when the action takes the SIM off (every endpoint it touches ends in Hold)."""
    return set(act.transitions.values()) == {State.HOLD}


def confirmation(act: Action, title: str, body: list[str], eligible: int) -> ConfirmScreen:
    """The action's Yes/No (or typed) question, as the lifecycle table says it asks."""
    if act.warning:
        body = [*body, act.warn(eligible)]
    if act.confirm is Confirm.NO_FIRST:
        body = [CONTINUE, *body]
    typed = f"{act.name} {eligible}" if act.confirm is Confirm.TYPED else None
    return ConfirmScreen(title, body, dangerous=act.starts_on_no, typed=typed)


class EndpointActions(EndpointsBase):
    """The lifecycle actions of the Endpoints screen (which this is a base of)."""

    def targets(self) -> tuple[Targets, Any] | None:
        """The marks, or else the cursor row (with that row, when it is the target)."""
        if self.marks.filter is not None:
            return Targets(filter=self.marks.filter, exclude=tuple(sorted(self.marks.exclude)),
                           extra=tuple(sorted(self.marks.ids))), None
        if self.marks.ids:
            return Targets(ids=tuple(sorted(self.marks.ids))), None
        row = self.endpoint_list.cursor_row
        if row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return None
        return Targets.one(row.id), row

    def _hidden(self) -> int:
        """How many marks the current filter hides (runs on the reader thread)."""
        marks = self.marks
        return queries.hidden_marks(self.filter, ids=marks.ids, marked=marks.filter,
                                    exclude=marks.exclude, extra=marks.ids)

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
        self._lifecycle("assign_group", pick_group=True)

    @work(exclusive=True, group="dialog")
    async def _lifecycle(self, name: str, *, pick_group: bool = False) -> None:
        chosen = self.targets()
        if chosen is None:
            return
        targets, row = chosen
        act = ACTIONS[name]
        group: str | None = None
        try:
            actor = self.acting()
            if pick_group:
                actor.require(act.role, act.label.lower())
                groups = await self.read(queries.groups_with_counts)
                group = await self.app.push_screen_wait(GroupPicker(groups))
                if group is None:
                    return

            def read() -> tuple[Any, int, str | None]:
                preview = actions.preview(actor, name, targets, group=group)
                iccid = None
                if releases_sim(act) and targets.is_single():
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
        if releases_sim(act) and targets.is_single():
            # One endpoint: the question names the SIM and the endpoint it leaves.
            if iccid is None and row is not None:
                iccid = row.iccid
            who = (row.name if row is not None and row.name else
                   f"endpoint {targets.ids[0]}")
            body = [f"SIM {iccid or '(none)'} will be de-linked from {who}.", *body]
        confirmed = await self.app.push_screen_wait(
            confirmation(act, title, body, preview.eligible)
        )
        if not confirmed:
            return
        if releases_sim(act) and iccid is None and row is not None:
            iccid = row.iccid
        if targets.is_single():
            await self._apply(name, targets, group, iccid)
            return

        def job(progress: Progress, cancelled: Cancelled, recording: Progress) -> Result:
            return actions.run(actor, name, targets, group=group, progress=progress,
                               cancelled=cancelled, recording=recording)

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

    async def _apply(
        self, name: str, targets: Targets, group: str | None, iccid: str | None
    ) -> None:
        try:
            actor = self.acting()
            result = await self.write(lambda: actions.run(actor, name, targets, group=group))
        except SimdeckError as exc:
            self._report(ACTIONS[name].label, exc.message, "error")
            return
        text = "\n".join(result.lines())
        if releases_sim(ACTIONS[name]) and iccid and targets.is_single() and result.applied == 1:
            text = f"SIM {iccid} de-linked successfully"
        severity = "information" if result.applied and not result.skipped else "warning"
        self._report(ACTIONS[name].label, text, severity, True)

    def _report(self, title: str, text: str, severity: Any, changed: bool = False) -> None:
        self.notify(text, title=title, severity=severity, timeout=8)
        if changed:
            if self.marks:
                self.marks = Marks()
            self.refresh_data()

    def action_purge(self) -> None:
        """Delete the endpoints terminated long enough ago (admin), after a typed yes."""
        self._purge()

    @work(exclusive=True, group="dialog")
    async def _purge(self) -> None:
        act = ACTIONS["purge"]
        # The console's clock decides how long ago the retention ends (a test fixes it).
        now = dt.datetime.fromtimestamp(self.app.now(), dt.UTC).replace(tzinfo=None)
        targets = actions.purge_targets(now)
        try:
            actor = self.acting()
            actor.require(act.role, act.name)
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
        confirmed = await self.app.push_screen_wait(
            confirmation(act, title, body, preview.eligible)
        )
        if not confirmed:
            return

        def job(progress: Progress, cancelled: Cancelled, recording: Progress) -> Result:
            return actions.run(actor, act.name, targets, progress=progress,
                               cancelled=cancelled, recording=recording)

        await self._run_job(act.name, preview.total, job)

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
        row = self.endpoint_list.cursor_row
        if row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return
        try:
            actor = self.acting()
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
        who = row.name or f"endpoint {row.id}"
        if not await self.app.push_screen_wait(ConfirmScreen(
            CONTINUE, [f"SIM {iccid} will be linked to {who}."]
        )):
            return
        endpoint_id = row.id
        try:
            view = await self.write(lambda: records.link_sim(actor, endpoint_id, iccid))
        except SimdeckError as exc:
            self._report(act.label, exc.message, "error")
            return
        title = f"{act.label} · the endpoint is {State(view.state).label}"
        self._report(title, f"SIM {iccid} linked successfully", "information", True)
