"""The Endpoints screen's forms: edit an endpoint, create one, reinstate one (support).

Each flow reads what the form needs on the reader thread, opens the form (from
``tui.screens.forms``) and gives it a ``save`` that runs the core call in a thread
worker; core's refusals come back to the form, which shows them and stays open, so
nothing is written until core accepts. On success the screen says so and reads again.
"""

from __future__ import annotations

from typing import Any

from textual import work

from simdeck.core import queries, records
from simdeck.core.errors import NotFound, SimdeckError
from simdeck.core.lifecycle import ACTIONS, Role, State
from simdeck.tui.screens.base import EndpointsBase
from simdeck.tui.screens.forms import RELOAD, EditEndpointForm, NewEndpointForm, ReinstateForm


def _who(view: Any) -> str:
    return str(view.name or view.iccid or f"endpoint {view.id}")


class EndpointForms(EndpointsBase):
    """The forms of the Endpoints screen (which this is a base of)."""

    # --- shared -----------------------------------------------------------------------

    def _cursor(self, action: str, label: str) -> Any:
        """The row under the cursor when the role and its state allow ``action`` (else None)."""
        act = ACTIONS[action]
        row = self.endpoint_list.cursor_row
        try:
            self.acting().require(act.role, f"{label} endpoints")
        except SimdeckError as exc:
            self.refused(act.label, exc)
            return None
        if row is None:
            self.notify("No endpoint under the cursor", severity="warning")
            return None
        if not act.allowed(row.state):
            self.notify(act.refusal(row.state), title=act.label, severity="warning")
            return None
        return row

    async def _view(self, endpoint_id: int, title: str) -> Any:
        """The endpoint as it is now, read on the reader thread (None, said why, if gone)."""
        try:
            found = await self.read(lambda: queries.views([endpoint_id]))
        except SimdeckError as exc:
            self.refused(title, exc)
            return None
        if not found:
            self.refused(title, NotFound(f"endpoint {endpoint_id}: it no longer exists"))
            return None
        return found[0]

    def _done(self, title: str, text: str) -> None:
        self.notify(text, title=title, timeout=6)
        self.refresh_data()

    # --- edit -------------------------------------------------------------------------

    def action_edit(self) -> None:
        """Edit the name, tags, reference, static IP or IMEI lock of the cursor endpoint."""
        self._edit()

    @work(exclusive=True, group="dialog")
    async def _edit(self) -> None:
        row = self._cursor("edit", "edit")
        if row is None:
            return
        actor = self.acting()
        while True:
            view = await self._view(row.id, "Edit endpoint")
            if view is None:
                return
            if view.state == State.TERMINATED.value:
                self.notify(ACTIONS["edit"].refusal(view.state), title="Edit endpoint",
                            severity="warning")
                return

            async def save(values: dict[str, Any], view: Any = view) -> Any:
                return await self.write(lambda: records.edit_endpoint(
                    actor, view.id, expected_version=view.version, **values
                ))

            outcome = await self.app.push_screen_wait(EditEndpointForm(view, save))
            if outcome != RELOAD:
                break
        if outcome is not None:
            self._done("Edit endpoint", f"Saved {_who(outcome)}")

    # --- new endpoint -----------------------------------------------------------------

    def action_new_endpoint(self) -> None:
        """Create an endpoint (optionally with a SIM)."""
        self._new_endpoint()

    @work(exclusive=True, group="dialog")
    async def _new_endpoint(self) -> None:
        try:
            actor = self.acting()
            actor.require(Role.OPERATOR, "create endpoints")
            groups = await self.read(queries.groups_with_counts)
        except SimdeckError as exc:
            self.refused("New endpoint", exc)
            return

        async def save(values: dict[str, Any]) -> Any:
            return await self.write(lambda: records.create_endpoint(actor, **values))

        view = await self.app.push_screen_wait(NewEndpointForm(groups, save))
        if view is None:
            return
        sim = f" with SIM {view.iccid}" if view.iccid else ""
        self._done("New endpoint",
                   f"Created {_who(view)}{sim}: the endpoint is {State(view.state).label}")

    # --- reinstate --------------------------------------------------------------------

    def action_reinstate(self) -> None:
        """Support: return the Terminated cursor endpoint to its state before termination."""
        self._reinstate()

    @work(exclusive=True, group="dialog")
    async def _reinstate(self) -> None:
        row = self._cursor("reinstate", "reinstate")
        if row is None:
            return
        view = await self._view(row.id, "Reinstate")
        if view is None:
            return
        actor = self.acting()

        async def save(values: dict[str, Any]) -> Any:
            return await self.write(lambda: records.reinstate(actor, view.id, values["ticket"]))

        done = await self.app.push_screen_wait(ReinstateForm(view, save))
        if done is not None:
            self._done("Reinstate", f"Reinstated {_who(done)}: the endpoint is "
                                    f"{State(done.state).label} again")
