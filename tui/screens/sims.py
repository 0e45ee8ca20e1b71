"""The SIM inventory (key 2): every SIM, in the pool or linked, and the CSV import.

A million SIMs are drawn by the one virtual list over keyset pages by ICCID
(``tui.sources.SimSource`` over ``core.queries``). The search box takes an ICCID, EID
or IMSI prefix, as the link-SIM picker does; the Status filter narrows to the pool
(Ready to Activate) or to SIMs whose endpoint is in one state. The counts at the top
(in the pool, linked, total) are read with the list's own count.

Import (operators): a CSV batch goes through ``core.importer.import_sims`` in a write
thread, all or nothing as on the command line. A file with bad rows shows the row
numbered errors in the dialog and nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from simdeck.core import queries
from simdeck.core.errors import SimdeckError
from simdeck.core.importer import ImportReport, import_sims
from simdeck.core.lifecycle import READY_TO_ACTIVATE, Role
from simdeck.core.queries import SIM_STATUSES, SimRow
from simdeck.core.sanitize import printable
from simdeck.core.store import explain
from simdeck.tui import keys
from simdeck.tui.format import TONE_STYLE, clock_time, number, safe, state_tone
from simdeck.tui.screens.base import BaseScreen
from simdeck.tui.sources import SimSource
from simdeck.tui.widgets.footer import Dialog, KeyFooter
from simdeck.tui.widgets.status import StatusLine, TopBar
from simdeck.tui.widgets.virtual_list import Cell, Column, VirtualList

#: Typing in the search box waits this long for the next key before the list follows.
DEBOUNCE = 0.25

COLUMNS: tuple[Column, ...] = (
    Column("iccid", "ICCID", 20, min_width=19),
    # On a narrow terminal the detail shows the EID, and the endpoint gets the room.
    Column("", "EID", 32, min_width=10, grow=1, cut="middle", only_from=100),
    Column("", "IMSI", 19, min_width=15),
    Column("", "Status", 17, min_width=10),
    Column("", "Endpoint", 24, min_width=12, grow=1, cut="middle"),
)


def status_tone(row: SimRow) -> str:
    """Ready to Activate as the picker draws it; a linked SIM in its endpoint's tone."""
    return "success" if row.state is None else state_tone(row.state)


def render_sim(row: SimRow, now: float) -> list[Cell]:
    """The cells of one SIM, in ``COLUMNS`` order."""
    more = len(row.imsis) - 1
    imsi = f"{row.imsi} +{more}" if more > 0 else row.imsi  # drawn printable by the list
    return [
        row.iccid,
        row.eid or ("—", "muted"),
        imsi or ("—", "muted"),
        (row.status, status_tone(row)),
        (row.endpoint_name or f"endpoint {row.endpoint_id}") if row.endpoint_id is not None
        else ("—", "muted"),
    ]


def detail_lines(row: SimRow | None) -> Content:
    """The SIM under the cursor: its IMSIs, its EID, the endpoint it is linked to."""
    if row is None:
        return Content.styled("No SIM under the cursor", "$foreground-muted")

    def label(text: str) -> tuple[str, str]:
        return (text, "$foreground-muted")

    imsis = printable(", ".join(row.imsis)) if row.imsis else "none"
    first = Content.assemble(
        label("ICCID "), (printable(row.iccid), "bold"), "   ",
        label("EID "), printable(row.eid) or "none (a plastic SIM)", "\n",
        label("IMSI " if len(row.imsis) == 1 else "IMSIs "), imsis, "\n",
    )
    tone = TONE_STYLE[status_tone(row)]
    if row.endpoint_id is None:
        second = Content.assemble(
            (READY_TO_ACTIVATE, tone), label(": in the pool, linked to no endpoint"),
        )
    else:
        second = Content.assemble(
            label("Linked to "), (printable(row.endpoint_name) or "(no name)", "bold"),
            label(f" (endpoint {row.endpoint_id}), "), (printable(row.status), tone),
        )
    return Content.assemble(first, second)


def totals_text(totals: dict[str, int] | None, wide: bool) -> Content:
    """The inventory's counts: in the pool, linked, total."""
    if totals is None:
        return Content.styled("Counting SIMs…", "$foreground-muted")
    parts: list[tuple[str, str] | str] = [
        (number(totals["ready"]), "bold $text-success"),
        (" in the pool (Ready to Activate)" if wide else " in the pool", "$foreground-muted"),
        "   ",
        (number(totals["linked"]), "bold"),
        (" linked to endpoints" if wide else " linked", "$foreground-muted"),
        "   ",
        (number(totals["total"]), "bold"),
        (" SIMs in all" if wide else " in all", "$foreground-muted"),
    ]
    return Content.assemble(*parts)


# --- the import dialog --------------------------------------------------------------

#: The most row errors the dialog lists (the count of the others follows).
MAX_ERRORS = 500


def console_words(text: str) -> str:
    """Core's import messages name the command line's options; say the dialog's instead."""
    return text.replace("--as-endpoints", "“As endpoints”").replace("--group", "the group")


def report_lines(report: ImportReport) -> list[str]:
    """The report as the dialog shows it: core's summary and its row-numbered errors.

    The console imports all or nothing, so a refused file's summary says so instead of
    pointing at the command line's ``--partial``.
    """
    lines = [console_words(line) for line in report.lines(max_errors=MAX_ERRORS)]
    if report.errors and not report.dry_run and not report.imported:
        bad = len({row for row, _ in report.errors})
        lines[0] = (f"Nothing was imported from {report.file}: {bad:,} of {report.rows:,} "
                    f"row{'s' if report.rows != 1 else ''} have errors. Fix the rows below "
                    "and import again.")
    return lines


#: Runs the import in a write thread: ``(path, as_endpoints, group, dry_run)`` → report.
RunImport = Callable[[str, bool, "str | None", bool], Awaitable[ImportReport]]

INTRO = ("Columns: iccid, imsi (several separated by ;), eid (empty for a plastic SIM); "
         "as endpoints also name, reference, tags. All or nothing: one bad row and nothing "
         "is imported.")


class ImportDialog(Dialog["ImportReport | None"]):
    """Import SIMs: the file, as endpoints (and their group), dry run; the report.

    It stays open to show a dry run's or a refused file's report (the errors numbered
    by row, scrollable) and closes with the report once SIMs were imported.
    """

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "run", "Import", show=False),
    ]

    def __init__(self, groups: list[str], run: RunImport, path: str = "") -> None:
        super().__init__()
        self.groups = groups
        self.runner = run
        self.path = path
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(id="import-dialog", classes="dialog"):
            yield Static(Content.styled("Import SIMs from a CSV file", "bold"),
                         id="import-title")
            yield Static(INTRO, id="import-intro", markup=False)
            with Horizontal(classes="import-row"):
                yield Label("File", classes="import-label")
                yield Input(self.path, placeholder="path of a .csv file, e.g. ~/sims/batch.csv",
                            id="import-path")
            with Horizontal(classes="import-row"):
                yield Label("", classes="import-label")
                yield Checkbox("As endpoints (one endpoint per SIM)", False, compact=True,
                               id="import-endpoints")
            with Horizontal(classes="import-row", id="import-group-row"):
                yield Label("Endpoint Group", classes="import-label")
                yield Select([("no group (Pending)", "")] + [(safe(g), g) for g in self.groups],
                             allow_blank=False, value="", compact=True, id="import-group",
                             disabled=True)
            with Horizontal(classes="import-row"):
                yield Label("", classes="import-label")
                yield Checkbox("Dry run (check the file, write nothing)", False, compact=True,
                               id="import-dry-run")
            with VerticalScroll(id="import-report", classes="-empty"):
                yield Static("", id="import-report-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Static("Tab next · Enter imports · Esc closes", classes="import-keys")
                yield Button("Import", id="import", variant="primary")
                yield Button("Close", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()
        self.on_resize()

    def on_resize(self) -> None:
        # On a short terminal the report needs the room of the intro and the gaps.
        self.set_class(self.app.size.height < 32, "-short")

    @on(Checkbox.Changed, "#import-endpoints")
    def _as_endpoints(self, event: Checkbox.Changed) -> None:
        # Pool SIMs have no group; only endpoints do.
        self.query_one("#import-group", Select).disabled = not event.value

    @property
    def report(self) -> str:
        """What the report area shows ('' when nothing): tests read it."""
        return str(self.query_one("#import-report-text", Static).content)

    def show_report(self, lines: list[str], *, error: bool) -> None:
        """Show ``lines`` under the form: the summary, then one line per row error."""
        area = self.query_one("#import-report", VerticalScroll)
        area.set_class(not lines, "-empty")
        area.set_class(error, "-error")
        self.query_one("#import-report-text", Static).update(
            printable("\n".join(lines), multiline=True))
        area.scroll_home(animate=False)

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#import")
    def action_run(self) -> None:
        """Check the form, then import (or dry-run) through the screen."""
        if self.running:
            return
        raw = self.query_one("#import-path", Input).value.strip()
        if not raw:
            self.show_report(["File: type the path of the CSV file to import."], error=True)
            self.query_one("#import-path", Input).focus()
            return
        as_endpoints = self.query_one("#import-endpoints", Checkbox).value
        group = self.query_one("#import-group", Select).value
        chosen = group if as_endpoints and isinstance(group, str) and group else None
        dry_run = self.query_one("#import-dry-run", Checkbox).value
        self._run(os.path.expanduser(raw), as_endpoints, chosen, dry_run)

    @work(exclusive=True, group="import-run")
    async def _run(self, path: str, as_endpoints: bool, group: str | None,
                   dry_run: bool) -> None:
        self.running = True
        button = self.query_one("#import", Button)
        button.disabled = True
        self.show_report(["Checking the file…" if dry_run else "Importing…"], error=False)
        try:
            report = await self.runner(path, as_endpoints, group, dry_run)
        except SimdeckError as exc:
            text = console_words(exc.message).rstrip(".")
            self.show_report([f"{text}. Nothing was imported."], error=True)
            return
        finally:
            self.running = False
            button.disabled = False
        if report.imported and not report.dry_run:
            self.dismiss(report)
            return
        self.show_report(report_lines(report), error=not report.ok())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close; nothing more is written."""
        if not self.running:
            self.dismiss(None)


# --- the screen ---------------------------------------------------------------------


class SimsScreen(BaseScreen):
    """Every SIM: the pool and the linked ones, searchable, filtered by status."""

    TITLE_TEXT = "SIMs"
    SLASH_ACTION = "sims_search"
    AUTO_FOCUS = "#sims-list"
    BINDINGS: ClassVar = keys.bindings(keys.SIMS)
    COMMAND_SCOPES: ClassVar = (keys.SIMS, keys.LIST)

    def __init__(self) -> None:
        super().__init__()
        self.search = ""
        self.status: str | None = None
        self.totals: dict[str, int] | None = None
        self._updated: float | None = None
        self._last_path = ""

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Horizontal(id="sims-filters"):
            yield Input(placeholder="Search by ICCID, EID or IMSI prefix", id="sims-search",
                        compact=True)
            yield Select([(s, s) for s in SIM_STATUSES], prompt="Status: all",
                         id="sims-status", compact=True)
        yield Static(totals_text(None, True), id="sims-counts")
        yield VirtualList(COLUMNS, render_sim, empty="No SIM matches", id="sims-list")
        yield Static("", id="sims-detail")
        yield StatusLine(id="sims-status-line")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_top()
        self.sims.set_sort_indicator("iccid", False)
        self._update_status()
        self.composed()

    def begin(self) -> None:
        """The database is open and the operator known: read the first page."""
        self.show_top()
        self.sims.set_source(self._source())
        self._update_status()

    def refresh_data(self) -> None:
        """Someone changed something (or an import ran): read the rows and counts again."""
        if self._started:
            self.sims.reload()

    def _source(self) -> SimSource:
        return SimSource(self.search, ready_only=False, status=self.status, totals=True)

    @property
    def sims(self) -> VirtualList:
        """The list of SIMs."""
        return self.query_one("#sims-list", VirtualList)

    @property
    def busy(self) -> bool:
        """True while the search waits or the list reads (tests)."""
        vlist = self.sims
        return (self.debouncing("search") or vlist.reading or vlist.count is None
                or vlist.stale or not self._started)

    def on_resize(self) -> None:
        self.show_top()
        self._show_totals()
        self._update_status()
        self.query_one(KeyFooter).palette = self.size.width >= 100

    # --- the filters --------------------------------------------------------------------

    @on(Input.Changed, "#sims-search")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.debounce("search", DEBOUNCE, self._apply)

    @on(Input.Submitted, "#sims-search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply()
        self.set_focus(self.sims)

    @on(Select.Changed, "#sims-status")
    def _status_chosen(self, event: Select.Changed) -> None:
        event.stop()
        self._apply()

    def _apply(self) -> None:
        self.cancel_debounce("search")
        search = self.query_one("#sims-search", Input).value.strip()
        value = self.query_one("#sims-status", Select).value
        status = str(value) if value is not Select.NULL else None
        if (search, status) == (self.search, self.status):
            return
        self.search, self.status = search, status
        if self._started:
            self.sims.set_source(self._source())
        self._update_status()

    def action_sims_search(self) -> None:
        """Into the search box."""
        self.set_focus(self.query_one("#sims-search", Input))

    def action_sims_status(self) -> None:
        """Open the Status filter."""
        choice = self.query_one("#sims-status", Select)
        self.set_focus(choice)
        choice.expanded = True

    def action_clear_sims_filters(self) -> None:
        """Every SIM again."""
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#sims-search", Input).value = ""
            self.query_one("#sims-status", Select).clear()
        self._apply()
        self.set_focus(self.sims)

    async def action_open_sim_endpoint(self) -> None:
        """The Endpoints screen, showing the endpoint the SIM under the cursor is linked to."""
        row = self.sims.cursor_row
        if row is None:
            return
        if row.endpoint_id is None:
            self.notify(f"SIM {row.iccid} is Ready to Activate: it has no endpoint yet",
                        severity="warning")
            return
        from simdeck.tui.screens.audit import open_endpoint

        await open_endpoint(self.app, row.iccid)

    def action_refresh_sims(self) -> None:
        """Read the inventory again now."""
        self.refresh_data()

    def on_key(self, event: Any) -> None:
        # Escape in the search box or the Status filter goes back to the list.
        if event.key == "escape" and isinstance(self.focused, Input | Select):
            event.stop()
            self.set_focus(self.sims)

    # --- the list's news --------------------------------------------------------------

    @on(VirtualList.CursorMoved, "#sims-list")
    def _cursor_moved(self, event: VirtualList.CursorMoved) -> None:
        self.query_one("#sims-detail", Static).update(detail_lines(event.row))
        self._update_status()

    @on(VirtualList.CountChanged, "#sims-list")
    def _counted(self, event: VirtualList.CountChanged) -> None:
        self._updated = self.app.now()
        totals = getattr(event.source, "totals", None)
        if totals is not None:
            self.totals = totals
            self._show_totals()
        if event.count == 0:
            self.query_one("#sims-detail", Static).update(detail_lines(None))
        else:
            self.query_one("#sims-detail", Static).update(detail_lines(self.sims.cursor_row))
        self._update_status()

    @on(VirtualList.Failed, "#sims-list")
    def _failed(self, event: VirtualList.Failed) -> None:
        self.report_problem(explain(event.error, self.app.database_name))

    @on(VirtualList.Recovered, "#sims-list")
    def _recovered(self) -> None:
        self.problem = None
        self._update_status()

    def watch_problem(self) -> None:
        self._update_status()

    def _show_totals(self) -> None:
        if self.is_mounted:
            self.query_one("#sims-counts", Static).update(
                totals_text(self.totals, self.size.width >= 100)
            )

    def describe(self) -> str:
        """The filter in a few words (the status line)."""
        parts = []
        if self.status:
            parts.append(f"status {self.status}")
        if self.search:
            parts.append(f"search {self.search}")
        return "filtered: " + ", ".join(parts) if parts else ""

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        vlist = self.sims
        count = vlist.count
        if not self._started:
            position = "Opening the database…"
        elif vlist.stale:
            position = "Reading…"
        elif count is None:
            position = f"SIM {number(vlist.cursor + 1)} of …" if vlist.cursor_row else "Reading…"
        elif count == 0:
            position = "No SIMs"
        else:
            position = f"SIM {number(vlist.cursor + 1)} of {number(count)}"
        updated = f"updated {clock_time(self._updated)}" if self._updated else ""
        self.query_one(StatusLine).show(position=position, sort="ICCID", marks=self.describe(),
                                        updated=updated, problem=self.problem)

    def status_text(self) -> str:
        """The status line's text (tests)."""
        return str(self.query_one(StatusLine).render())

    # --- import -----------------------------------------------------------------------

    def action_import_sims(self) -> None:
        """Import a CSV batch of SIMs (operators)."""
        try:
            self.acting().require(Role.OPERATOR, "import SIMs")
        except SimdeckError as exc:
            self.refused("Import SIMs", exc)
            return
        self._import()

    @work(exclusive=True, group="dialog")
    async def _import(self) -> None:
        try:
            groups = await self.read(lambda: [g["name"] for g in queries.groups_with_counts()])
        except Exception as exc:  # a database problem, said in words
            self.report_problem(explain(exc, self.app.database_name))
            return
        report = await self.app.push_screen_wait(
            ImportDialog(groups, self._run_import, self._last_path)
        )
        if report is None:
            # Closed; a dry run or a refused file wrote nothing.
            return
        summary = report.lines(max_errors=0)[0]
        self.notify(summary, title="Import SIMs", timeout=8)
        self.refresh_data()

    async def _run_import(self, path: str, as_endpoints: bool, group: str | None,
                          dry_run: bool) -> ImportReport:
        """The import, in a write thread; core's refusal is raised here, in the dialog."""
        self._last_path = path
        actor = self.acting()
        try:
            return await self.write(
                lambda: import_sims(actor, path, as_endpoints=as_endpoints, group=group,
                                    dry_run=dry_run)
            )
        except SimdeckError:
            raise
        except Exception as exc:  # a database problem: in words, never a traceback
            raise SimdeckError(explain(exc, self.app.database_name)) from None
