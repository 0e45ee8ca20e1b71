"""The console's dialogs: typed modals that return through ``dismiss``; Escape cancels.

Each is awaited with ``push_screen_wait`` from a ``@work`` method of the screen that
asks. They only show what they are given (the SIM picker reads its rows through the
virtual list, on the reader thread); writes happen after they close, in a worker.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from simdeck.core.sanitize import printable
from simdeck.tui.format import number, safe
from simdeck.tui.sources import SimSource
from simdeck.tui.widgets.debounce import Debounce
from simdeck.tui.widgets.footer import Dialog
from simdeck.tui.widgets.list_keys import KeyedOptionList
from simdeck.tui.widgets.virtual_list import Cell, Column, VirtualList

CONTINUE = "Are you sure you want to continue?"


class ConfirmScreen(Dialog[bool]):
    """Yes/No; a dangerous question focuses No; ``typed`` must be typed before Yes."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        lines: list[str] | None = None,
        *,
        dangerous: bool = False,
        typed: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines or []
        self.dangerous = dangerous
        self.typed = typed

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(safe(self.title_text, "bold"), id="confirm-title")
            if self.lines:
                yield Static(safe("\n".join(self.lines), multiline=True), id="confirm-body")
            if self.typed is not None:
                yield Static(safe(f"Type  {self.typed}  to confirm:"), id="confirm-prompt")
                yield Input(placeholder=self.typed, id="confirm-typed")
                yield Static("", id="confirm-problem", classes="dialog-problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes", id="yes", variant="error" if self.dangerous else "primary")
                yield Button("No", id="no")

    def on_mount(self) -> None:
        if self.typed is not None:
            self.query_one("#confirm-typed", Input).focus()
        elif self.dangerous:
            self.query_one("#no", Button).focus()
        else:
            self.query_one("#yes", Button).focus()

    @on(Button.Pressed, "#yes")
    @on(Input.Submitted, "#confirm-typed")
    def _yes(self) -> None:
        if self.typed is not None:
            value = self.query_one("#confirm-typed", Input).value.strip()
            if value != self.typed:
                self.query_one("#confirm-problem", Static).update(
                    safe(f"Type exactly “{self.typed}” to confirm, or press Esc to cancel.")
                )
                return
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        """No."""
        self.dismiss(False)


class GroupPicker(Dialog["str | None"]):
    """Assign to group: every Endpoint Group with its endpoint count."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, groups: list[dict[str, Any]], lines: list[str] | None = None) -> None:
        super().__init__()
        self.groups = groups
        self.lines = lines or []

    def compose(self) -> ComposeResult:
        with Vertical(id="group-dialog", classes="dialog"):
            yield Static(Content.styled("Assign to group", "bold"), id="group-title")
            if self.lines:
                yield Static(safe("\n".join(self.lines), multiline=True))
            yield KeyedOptionList(
                *(
                    Option(safe(f"{g['name']}  ({number(g['endpoints'])} endpoints)"
                                f"{'  — ' + g['description'] if g.get('description') else ''}"),
                           id=g["name"])
                    for g in self.groups
                ),
                id="group-list",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Assign", id="assign", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(OptionList.OptionSelected, "#group-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Button.Pressed, "#assign")
    def _assign(self) -> None:
        options = self.query_one("#group-list", OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Nothing chosen."""
        self.dismiss(None)


class ActionsMenu(Dialog["str | None"]):
    """The actions menu: what may be done to the endpoint (or the marks), with their keys.

    It lists only what the screen offers (the state and the role allow); choosing one
    returns its command id, which the screen runs as if its key had been pressed.
    """

    BINDINGS: ClassVar = [Binding("escape,a", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str, str, str, bool]]) -> None:
        """``choices``: (command id, key shown, label, description, dangerous)."""
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="actions-dialog", classes="dialog"):
            yield Static(safe(self.title_text, "bold"), id="actions-title")
            if not self.choices:
                yield Static("Nothing can be done to it: its state or your role allows no "
                             "action.", id="actions-none")
            yield KeyedOptionList(
                *(
                    Option(
                        Content.assemble(
                            (key.ljust(4), "bold"),
                            (label.ljust(18), "$text-error" if dangerous else ""),
                            (printable(description), "$foreground-muted"),
                        ),
                        id=command,
                    )
                    for command, key, label, description, dangerous in self.choices
                ),
                id="actions-list",
            )
            yield Static(Content.styled("Enter runs it · the key works from the list too · "
                                        "Esc closes", "$foreground-muted"), id="actions-foot")

    @on(OptionList.OptionSelected, "#actions-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Nothing chosen."""
        self.dismiss(None)


SIM_COLUMNS: tuple[Column, ...] = (
    Column("eid", "EID", 32, min_width=12, grow=1, cut="middle"),
    Column("iccid", "ICCID", 20, min_width=19),
    Column("imsi", "IMSI", 15, min_width=15),
    Column("status", "Status", 17, min_width=10),
)


def render_sim(row: Any, now: float) -> list[Cell]:
    """The cells of one SIM, in ``SIM_COLUMNS`` order."""
    return [
        row.eid or ("—", "muted"),
        row.iccid,
        row.imsi or ("—", "muted"),
        (row.status, "success"),
    ]


class SimPicker(Debounce, Dialog["str | None"]):
    """Link SIM: the SIMs in Ready to Activate, searchable; returns the chosen ICCID."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "attach", "Attach SIM", show=False),
    ]
    #: How long the search waits for the typing to rest (a pasted ICCID: none at all).
    DEBOUNCE = 0.08

    def __init__(self, endpoint: str) -> None:
        super().__init__()
        self.endpoint = endpoint

    def compose(self) -> ComposeResult:
        with Vertical(id="sim-dialog", classes="dialog"):
            yield Static(Content.assemble(("Link SIM", "bold"), f" to {printable(self.endpoint)}"),
                         id="sim-title")
            yield Static("Only the Ready to Activate SIMs are shown.", id="sim-hint")
            yield Input(placeholder="Search by ICCID, EID or IMSI prefix", id="sim-search")
            yield VirtualList(SIM_COLUMNS, render_sim, empty="No Ready to Activate SIM matches",
                              id="sim-list")
            yield Static("", id="sim-count")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Attach SIM", id="attach", variant="primary")
                yield Button("Cancel", id="cancel")

    @property
    def sims(self) -> VirtualList:
        """The list of SIMs."""
        return self.query_one("#sim-list", VirtualList)

    def on_mount(self) -> None:
        self.sims.set_sort_indicator("iccid", False)
        self.sims.set_source(SimSource())
        # The search has the focus: typing an ICCID, EID or IMSI narrows the list at once;
        # ↓ or Enter goes to the list, Enter there attaches.
        self.query_one("#sim-search", Input).focus()

    def on_key(self, event: Any) -> None:
        if event.key == "down" and isinstance(self.focused, Input):
            event.stop()
            self.sims.focus()

    @on(Input.Changed, "#sim-search")
    def _typed(self) -> None:
        self.debounce("search", self.DEBOUNCE, self._search)

    def _search(self) -> None:
        self.cancel_debounce("search")
        self.sims.set_source(SimSource(self.query_one("#sim-search", Input).value))

    @on(Input.Submitted, "#sim-search")
    def _to_list(self) -> None:
        # Enter on what was typed takes the SIM it found (the first match), as a picker
        # does; while the list is still reading, it goes to the list instead.
        if not self.busy and self.sims.cursor_row is not None:
            self.action_attach()
        else:
            self.sims.focus()

    @on(VirtualList.CountChanged, "#sim-list")
    def _counted(self, event: VirtualList.CountChanged) -> None:
        self.query_one("#sim-count", Static).update(
            f"{number(event.count)} SIM{'s' if event.count != 1 else ''} Ready to Activate"
        )

    @on(Button.Pressed, "#attach")
    def action_attach(self) -> None:
        """Choose the SIM under the cursor."""
        row = self.sims.cursor_row
        if row is None:
            self.notify("Choose a SIM first", severity="warning")
            return
        self.dismiss(row.iccid)

    @property
    def busy(self) -> bool:
        """True while the search waits or the list reads (tests)."""
        sims = self.sims
        return self.debouncing("search") or sims.reading or sims.count is None or sims.stale

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """No SIM."""
        self.dismiss(None)
