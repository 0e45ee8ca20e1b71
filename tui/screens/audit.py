"""The Audit log screen: who did what, when, to which endpoint, newest first.

The trail may hold millions of events, so it is drawn by the one virtual list over
keyset pages by event id (``AuditSource``, through ``core.queries`` only). The filters
(endpoint, actor, action, since, until) are checked on the reader thread: a value
that cannot be used is named under the filters and the list stays as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, Static

from simdeck.core import queries
from simdeck.core.errors import InputError, SimdeckError
from simdeck.core.lifecycle import AUDIT_ACTIONS
from simdeck.core.queries import AuditFilter, Key
from simdeck.core.sanitize import printable
from simdeck.core.store import explain
from simdeck.tui import keys
from simdeck.tui.format import clock_time, number, safe, state_label, state_tone
from simdeck.tui.screens.base import BaseScreen
from simdeck.tui.text import change, detail_text
from simdeck.tui.widgets.footer import KeyFooter
from simdeck.tui.widgets.status import StatusLine, TopBar
from simdeck.tui.widgets.virtual_list import Cell, Column, VirtualList

#: Typing in a filter box waits this long for the next key before the list follows.
DEBOUNCE = 0.35
#: Below this height the detail pane starts hidden.
TALL = 30

HINT = ("Endpoint: ICCID or id · Since / Until: 2025-11-01, 2025-11-01T08:30Z or an age "
        "such as 30m, 2h, 7d · Enter applies")

#: Actions drawn in a tone: refusals in the warning colour, the irreversible in error.
ACTION_TONE: dict[str, str] = {
    "rejected": "warning",
    "stale": "warning",
    "imei_mismatch": "warning",
    "terminate": "error",
    "purged": "error",
    "suspend": "error",
    "group_deleted": "error",
    "operator_removed": "error",
}


@dataclass(frozen=True)
class AuditRow:
    """One audit event as the list draws it (hashable: the list caches rendered rows)."""

    id: int
    at: str
    actor: str
    action: str
    endpoint_id: int | None
    iccid: str
    name: str
    from_state: str | None
    to_state: str | None
    detail: str
    job: int | None

    @property
    def details(self) -> Any:
        """The event's details, decoded (None when it has none)."""
        return json.loads(self.detail) if self.detail else None


def _rows(events: list[dict[str, Any]]) -> list[AuditRow]:
    names = queries.endpoint_names(e["endpoint_id"] for e in events if e["endpoint_id"])
    return [
        AuditRow(
            id=e["id"],
            at=e["at"] or "",
            actor=e["actor"] or "",
            action=e["action"] or "",
            endpoint_id=e["endpoint_id"],
            iccid=e["iccid"] or "",
            name=names.get(e["endpoint_id"], "") if e["endpoint_id"] else "",
            from_state=e["from_state"],
            to_state=e["to_state"],
            detail=json.dumps(e["detail"], sort_keys=True) if e["detail"] is not None else "",
            job=e["job"],
        )
        for e in events
    ]


class AuditSource:
    """The audit events matching one filter, newest first, keyed by event id.

    Every method runs on the reader thread and reads through ``core.queries`` only.
    """

    def __init__(self, f: AuditFilter) -> None:
        self.filter = f

    def __repr__(self) -> str:
        return f"AuditSource({self.filter!r})"

    def first(self, limit: int) -> list[AuditRow]:
        """The newest events."""
        return _rows(queries.audit_page(self.filter, limit=limit))

    def after(self, key: Key, limit: int) -> list[AuditRow]:
        """The events just older than ``key``."""
        return _rows(queries.audit_page(self.filter, before_id=key[0], limit=limit))

    def before(self, key: Key, limit: int) -> list[AuditRow]:
        """The events just newer than ``key``, newest first."""
        return _rows(queries.audit_page(self.filter, after_id=key[0], limit=limit))

    def last(self, limit: int) -> list[AuditRow]:
        """The oldest events, newest first."""
        return _rows(queries.audit_page(self.filter, oldest=True, limit=limit))

    def count(self) -> int:
        """How many events match."""
        return queries.audit_count(self.filter)

    def position(self, key: Key) -> int:
        """How many matching events are newer than ``key``."""
        return queries.audit_count(self.filter, newer_than=int(key[0]))

    def key_at(self, index: int, count: int) -> Key | None:
        """The id of row ``index``, for a jump into the middle."""
        found = queries.audit_id_at(self.filter, index, count)
        return (found,) if found is not None else None

    def key(self, row: AuditRow) -> Key:
        """The event id."""
        return (row.id,)

    def ident(self, row: AuditRow) -> Hashable:
        """The event id."""
        return row.id

    def fetch(self, ident: Hashable) -> AuditRow | None:
        """The event, while it matches the filter."""
        event_id = int(str(ident))
        found = queries.audit_page(self.filter, before_id=event_id + 1, limit=1)
        rows = _rows(found)
        return rows[0] if rows and rows[0].id == event_id else None


# --- drawing ------------------------------------------------------------------------

COLUMNS: tuple[Column, ...] = (
    Column("id", "Time (UTC)", 19, min_width=19, short="Time"),
    Column("", "Actor", 10, min_width=7),
    Column("", "Action", 14, min_width=10),
    Column("", "Endpoint", 22, min_width=16, grow=1, cut="middle"),
    Column("", "From → to", 22, min_width=14, short="Change"),
    # On a narrow terminal the detail pane shows the details instead.
    Column("", "Details", 30, min_width=10, grow=2, drop=1, only_from=100),
)


def shown_time(at: str) -> str:
    """``2025-11-21T04:32:00Z`` as ``2025-11-21 04:32:00``."""
    return at.replace("T", " ").rstrip("Z")


def endpoint_cell(row: AuditRow) -> Cell:
    """The endpoint by name, else ICCID, else id; a group's events name the group."""
    if row.name:
        return row.name
    if row.iccid:
        return row.iccid
    if row.endpoint_id is not None:
        return (f"endpoint {row.endpoint_id}", "muted")
    details = row.details
    if isinstance(details, dict) and details.get("group"):
        return (f"group {details['group']}", "muted")
    return ("—", "muted")


def change_cell(row: AuditRow) -> Cell:
    """``Active → Suspended`` in the new state's tone; an unchanged state muted."""
    text = change(row.from_state, row.to_state)
    if not text:
        return ""
    if row.from_state == row.to_state or not row.to_state:
        return (text, "muted")
    return (text, state_tone(row.to_state))


def render_event(row: AuditRow, now: float) -> list[Cell]:
    """The cells of one event, in ``COLUMNS`` order."""
    tone = ACTION_TONE.get(row.action)
    return [
        shown_time(row.at),
        (row.actor, "primary") if row.actor == "network" else row.actor,
        (row.action, tone) if tone else row.action,
        endpoint_cell(row),
        change_cell(row),
        (detail_text(row.details), "muted"),
    ]


def detail_lines(row: AuditRow) -> Content:
    """Every field of one event, and its details as JSON."""
    def line(label: str, value: str | Content) -> Content:
        shown = value if isinstance(value, Content) else printable(value)
        return Content.assemble((f"{label:<10}", "$foreground-muted"), shown, "\n")

    parts = [Content.assemble((f"Event {row.id}", "bold"), "  ",
                              (f"{shown_time(row.at)} UTC", ""), "\n")]
    parts.append(line("Actor", row.actor))
    parts.append(line("Action", row.action))
    if row.endpoint_id is not None or row.iccid:
        who = row.name or "(no name)"
        ident = f"  id {row.endpoint_id}" if row.endpoint_id is not None else ""
        iccid = f"  ICCID {row.iccid}" if row.iccid else ""
        parts.append(line("Endpoint", f"{who}{ident}{iccid}"))
    if row.from_state or row.to_state:
        parts.append(line("State", f"{state_label(row.from_state or '') or '—'} → "
                                   f"{state_label(row.to_state or '') or '—'}"))
    if row.job is not None:
        parts.append(line("Job", str(row.job)))
    details = row.details
    if details is not None:
        parts.append(Content.styled("Details\n", "$foreground-muted"))
        parts.append(Content(printable(json.dumps(details, indent=2, ensure_ascii=False),
                                       multiline=True)))
    return Content.assemble(*parts)


# --- the filter ---------------------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """What the filter boxes hold, before it is checked."""

    endpoint: str = ""
    actor: str = ""
    action: str | None = None
    since: str = ""
    until: str = ""
    job: int | None = None

    def build(self, now: dt.datetime) -> AuditFilter:
        """The audit filter it means (reads the database for the endpoint).

        Raises a SimdeckError naming the field when a value cannot be used.
        """
        endpoint_id = None
        if self.endpoint.strip():
            try:
                endpoint_id = queries.audit_endpoint_id(self.endpoint)
            except SimdeckError as exc:
                if exc.message.startswith("endpoint"):
                    raise
                # An ICCID that cannot be one: say which box it is in.
                raise InputError(f"endpoint {exc.message}") from None
        return AuditFilter(
            endpoint_id=endpoint_id,
            actor=self.actor.strip() or None,
            action=self.action or None,
            since=queries.parse_when("since", self.since, now) if self.since.strip() else None,
            until=queries.parse_when("until", self.until, now) if self.until.strip() else None,
            job=self.job,
        )

    def describe(self) -> str:
        """The filter in a few words (the status line)."""
        parts = []
        if self.job is not None:
            parts.append(f"job {self.job}")
        if self.endpoint.strip():
            parts.append(f"endpoint {self.endpoint.strip()}")
        if self.actor.strip():
            parts.append(f"actor {self.actor.strip()}")
        if self.action:
            parts.append(f"action {self.action}")
        if self.since.strip():
            parts.append(f"since {self.since.strip()}")
        if self.until.strip():
            parts.append(f"until {self.until.strip()}")
        return "filtered: " + ", ".join(parts) if parts else ""


async def open_endpoint(app: Any, iccid: str, name: str = "") -> None:
    """Go to the Endpoints screen showing the endpoint with this ICCID (or name)."""
    await app.switch_mode("endpoints")
    screen = app.screen
    show = getattr(screen, "show_endpoint", None)
    if show is not None:
        show(iccid, name)


class AuditScreen(BaseScreen):
    """The audit trail, newest first, filtered by endpoint, actor, action and time."""

    TITLE_TEXT = "Audit"
    SLASH_ACTION = "focus_audit_filters"
    AUTO_FOCUS = "#audit-list"
    BINDINGS: ClassVar = keys.bindings(keys.AUDIT)
    COMMAND_SCOPES: ClassVar = (keys.AUDIT, keys.LIST)

    def __init__(self) -> None:
        super().__init__()
        self.filter = AuditFilter()
        self.typed = Typed()
        #: The filter boxes' text a list was last asked for (checked or not).
        self._asked: Typed | None = None
        self._updated: float | None = None
        self._detail_shown: bool | None = None
        #: The job whose events are shown (from the Jobs screen), None for all; Ctrl+R
        #: clears it with the boxes.
        self._job: int | None = None

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Vertical(id="audit-filters"):
            with Horizontal(id="audit-controls"):
                yield Input(placeholder="Endpoint", id="audit-endpoint", compact=True)
                yield Input(placeholder="Actor", id="audit-actor", compact=True)
                yield Select([(a, a) for a in AUDIT_ACTIONS], prompt="Action: all",
                             id="audit-action", compact=True)
                yield Input(placeholder="Since", id="audit-since", compact=True)
                yield Input(placeholder="Until", id="audit-until", compact=True)
            yield Label(HINT, id="audit-message", markup=False)
        yield VirtualList(COLUMNS, render_event, empty="No audit event matches the filter",
                          id="audit-list")
        with VerticalScroll(id="audit-detail"):
            yield Static("", id="audit-detail-text")
        yield StatusLine(id="audit-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_top()
        self.events.set_sort_indicator("id", True)
        self._sync_detail()
        self._update_status()
        self.composed()

    def begin(self) -> None:
        """The database is open and the operator known: read the newest events."""
        self.show_top()
        self.events.set_source(AuditSource(self.filter))
        self._update_status()

    def refresh_data(self) -> None:
        """Someone changed something: the newest events show at once when the cursor is
        on the first row; elsewhere the cursor stays on its event."""
        if not self._started:
            return
        vlist = self.events
        if vlist.cursor == 0 and int(vlist.scroll_y) == 0:
            vlist.set_source(AuditSource(self.filter))
        else:
            vlist.reload()

    @property
    def events(self) -> VirtualList:
        """The list of events."""
        return self.query_one("#audit-list", VirtualList)

    # --- layout -----------------------------------------------------------------------

    def on_resize(self) -> None:
        self.show_top()
        self._sync_detail()
        self._update_status()

    def _sync_detail(self) -> None:
        shown = self._detail_shown
        if shown is None:
            shown = self.size.height >= TALL
        self.set_class(not shown, "-no-detail")
        self.query_one(KeyFooter).palette = self.size.width >= 100

    def action_toggle_audit_detail(self) -> None:
        """Show or hide every field of the event under the cursor."""
        self._detail_shown = self.has_class("-no-detail")
        self._sync_detail()
        self._show_detail(self.events.cursor_row)

    # --- the filters ------------------------------------------------------------------

    def _read_boxes(self) -> Typed:
        action = self.query_one("#audit-action", Select).value
        return Typed(
            endpoint=self.query_one("#audit-endpoint", Input).value,
            actor=self.query_one("#audit-actor", Input).value,
            action=str(action) if action is not Select.NULL else None,
            since=self.query_one("#audit-since", Input).value,
            until=self.query_one("#audit-until", Input).value,
            job=self._job,
        )

    @on(Input.Changed, "#audit-controls Input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.debounce("boxes", DEBOUNCE, self._apply_boxes)

    @on(Input.Submitted, "#audit-controls Input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply_boxes()
        # Enter applies and gives the list back, as the Endpoints search box does.
        self.set_focus(self.events)

    @on(Select.Changed, "#audit-action")
    def _action_chosen(self, event: Select.Changed) -> None:
        event.stop()
        self._apply_boxes()

    def _apply_boxes(self) -> None:
        self.cancel_debounce("boxes")
        self.apply(self._read_boxes())

    def apply(self, typed: Typed) -> None:
        """Check ``typed`` on the reader thread, then show what it matches."""
        self._asked = typed
        self._check(typed)

    @work(exclusive=True, group="audit-filter")
    async def _check(self, typed: Typed) -> None:
        now = dt.datetime.fromtimestamp(self.app.now(), dt.UTC).replace(tzinfo=None)
        try:
            new = await self.read(lambda: typed.build(now))
        except SimdeckError as exc:
            self._show_message(f"Cannot filter: {exc.message}", error=True)
            self._asked = None
            return
        except Exception as exc:  # a database problem, said in words
            self._show_message(f"Cannot filter: {explain(exc)}", error=True)
            self._asked = None
            return
        if typed != self._asked:
            return  # the boxes changed meanwhile; their own check follows
        self._asked = None
        self._show_message(None)
        self.typed = typed
        if new != self.filter:
            self.filter = new
            if self._started:
                self.events.set_source(AuditSource(new))
        self._update_status()

    def _show_message(self, text: str | None, *, error: bool = False) -> None:
        label = self.query_one("#audit-message", Label)
        label.set_class(error, "-error")
        label.update(safe(text, multiline=True) if text is not None else HINT)

    @property
    def message(self) -> str:
        """What the line under the filters says (tests read it)."""
        return str(self.query_one("#audit-message", Label).render())

    @property
    def busy(self) -> bool:
        """True while a filter waits, is checked, or the list reads (tests)."""
        vlist = self.events
        return (self.debouncing("boxes") or self._asked is not None or vlist.reading
                or vlist.count is None or vlist.stale)

    def show_endpoint(self, ref: str) -> None:
        """Show the audit trail of one endpoint, by ICCID (or id), the other filters kept."""
        box = self.query_one("#audit-endpoint", Input)
        with self.prevent(Input.Changed):
            box.value = ref
        self._apply_boxes()

    def show_job(self, job_id: int) -> None:
        """Show only the events bulk job ``job_id`` wrote (every other filter cleared)."""
        self._job = job_id
        with self.prevent(Input.Changed, Select.Changed):
            for box in self.query("#audit-controls Input").results(Input):
                box.value = ""
            self.query_one("#audit-action", Select).clear()
        self._apply_boxes()

    async def action_open_audit_endpoint(self) -> None:
        """The Endpoints screen, showing the endpoint of the event under the cursor."""
        row = self.events.cursor_row
        if row is None or row.endpoint_id is None:
            self.notify("This event is not about an endpoint", severity="warning")
            return
        if not row.iccid and not row.name:
            self.notify(f"Endpoint {row.endpoint_id} has neither an ICCID nor a name to find "
                        "it by", severity="warning")
            return
        await open_endpoint(self.app, row.iccid, row.name)

    def action_focus_audit_filters(self) -> None:
        """Into the filter boxes (the endpoint first)."""
        self.set_focus(self.query_one("#audit-endpoint", Input))

    def action_clear_audit_filters(self) -> None:
        """Every filter back to "all"."""
        self._job = None
        with self.prevent(Input.Changed, Select.Changed):
            for box in self.query("#audit-controls Input").results(Input):
                box.value = ""
            self.query_one("#audit-action", Select).clear()
        self._apply_boxes()
        self.set_focus(self.events)

    def action_refresh_audit(self) -> None:
        """Read the audit log again now."""
        self.refresh_data()

    def on_key(self, event: Any) -> None:
        # Escape in a filter box goes back to the list (the filter stays).
        if event.key == "escape" and isinstance(self.focused, Input | Select):
            event.stop()
            self.set_focus(self.events)

    # --- the list's news --------------------------------------------------------------

    @on(VirtualList.CursorMoved, "#audit-list")
    def _cursor_moved(self, event: VirtualList.CursorMoved) -> None:
        self._show_detail(event.row)
        self._update_status()

    @on(VirtualList.CountChanged, "#audit-list")
    def _counted(self, event: VirtualList.CountChanged) -> None:
        self._updated = self.app.now()
        if event.count == 0:
            self._show_detail(None)
        self._update_status()

    @on(VirtualList.Failed, "#audit-list")
    def _failed(self, event: VirtualList.Failed) -> None:
        self.report_problem(explain(event.error, self.app.database_name))

    @on(VirtualList.Recovered, "#audit-list")
    def _recovered(self) -> None:
        self.problem = None
        self._update_status()

    def watch_problem(self) -> None:
        self._update_status()

    def _show_detail(self, row: AuditRow | None) -> None:
        if self.has_class("-no-detail"):
            return
        text = self.query_one("#audit-detail-text", Static)
        if row is None:
            text.update(Content.styled("No event under the cursor", "$foreground-muted"))
        else:
            text.update(detail_lines(row))

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        vlist = self.events
        count = vlist.count
        if not self._started:
            position = "Opening the database…"
        elif vlist.stale:
            position = "Reading…"
        elif count is None:
            position = (f"Event {number(vlist.cursor + 1)} of …" if vlist.cursor_row
                        else "Reading…")
        elif count == 0:
            position = "No events"
        else:
            position = f"Event {number(vlist.cursor + 1)} of {number(count)}"
        updated = f"updated {clock_time(self._updated)}" if self._updated else ""
        self.query_one(StatusLine).show(
            position=position, sort="time ▼ (newest first)", marks=self.typed.describe(),
            updated=updated, problem=self.problem,
        )

    def status_text(self) -> str:
        """The status line's text (tests)."""
        return str(self.query_one(StatusLine).render())
