"""The Settings screen: the deployment's settings (``allow_resume``), changed by admins.

The settings live in the database (``core.settings``), so every operator of the
deployment sees the same policy; a change is audited and every console follows it
(its keys, menus and detail pane offer what the new policy allows).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import DataTable, Static

from simdeck.core import offers, settings
from simdeck.core.errors import SimdeckError
from simdeck.tui import keys
from simdeck.tui.screens.base import BaseScreen
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.widgets.footer import KeyFooter
from simdeck.tui.widgets.status import TopBar

#: What turning a setting on or off means, in the operator's words.
EFFECT: dict[tuple[str, str], str] = {
    ("allow_resume", "true"): "Operators may then resume Suspended endpoints to Active.",
    ("allow_resume", "false"): "Suspended endpoints then stay Suspended: Resume is offered "
                               "nowhere, and a resume job cannot be carried on.",
}


def shown_value(value: str) -> str:
    """A setting's value as the screen writes it."""
    return {"true": "on", "false": "off"}.get(value, value)


class SettingsScreen(BaseScreen):
    """Every deployment setting, its value and what it decides; Enter changes one."""

    TITLE_TEXT = "Settings"
    BINDINGS: ClassVar = keys.bindings(keys.SETTINGS)
    COMMAND_SCOPES: ClassVar = (keys.SETTINGS,)
    AUTO_FOCUS = "#settings-table"

    def __init__(self) -> None:
        super().__init__()
        self.settings: list[dict[str, str]] = []

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Static("Reading the settings…", id="settings-summary")
        yield DataTable(cursor_type="row", zebra_stripes=False, id="settings-table")
        yield Static("", id="settings-hint")
        yield KeyFooter()

    @property
    def table(self) -> DataTable[Any]:
        """The table of settings."""
        return self.query_one("#settings-table", DataTable)

    def on_mount(self) -> None:
        self.show_top()
        table = self.table
        table.add_column("Setting", key="key")
        table.add_column("Value", key="value")
        table.add_column("Default", key="default")
        table.add_column("What it decides", key="about")
        self.composed()

    def begin(self) -> None:
        self.show_top()
        self._load()

    def refresh_data(self) -> None:
        if self._started:
            self._load()

    def action_refresh_settings(self) -> None:
        """Read the settings again now."""
        self.refresh_data()

    def _load(self) -> None:
        self.read_and_show(settings.all_settings, self._show)

    def _show(self, found: list[dict[str, Any]]) -> None:
        self.settings = list(found)
        self._fill()

    def _fill(self) -> None:
        table = self.table
        row = table.cursor_row
        table.clear()
        for s in self.settings:
            on_ = s["value"] == "true"
            table.add_row(
                Text(s["key"], style="bold"),
                Text(shown_value(s["value"]), style="bold green" if on_ else "bold"),
                Text(shown_value(s["default"])),
                Text(s["about"]),
                key=s["key"],
            )
        if self.settings:
            table.move_cursor(row=min(max(row, 0), len(self.settings) - 1), animate=False)
        admin = offers.change_settings(self.actor)
        self.query_one("#settings-summary", Static).update(Content.assemble(
            (" Deployment settings", "bold"),
            (" · kept in the database: every operator of it sees the same policy",
             "$text-muted"),
        ))
        hint = ("Enter turns the selected setting on or off; the change is audited."
                if admin else "Only admins change settings.")
        self.query_one("#settings-hint", Static).update(Content.styled(hint, "$text-muted"))
        self.refresh_bindings()

    @property
    def selected(self) -> dict[str, str] | None:
        """The setting under the cursor."""
        row = self.table.cursor_row
        return self.settings[row] if 0 <= row < len(self.settings) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not keys.allowed(action, self.actor):
            return False
        if action == "toggle_setting":
            return offers.change_settings(self.actor) and self.selected is not None
        return True

    @on(DataTable.RowSelected, "#settings-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.check_action("toggle_setting", ()):
            self.action_toggle_setting()

    def action_toggle_setting(self) -> None:
        """Turn the selected setting on or off, after a question."""
        self._toggle()

    @work(exclusive=True, group="dialog")
    async def _toggle(self) -> None:
        chosen = self.selected
        if chosen is None:
            return
        key = chosen["key"]
        new = "false" if chosen["value"] == "true" else "true"
        title = f"Turn {key} {shown_value(new)}?"
        lines = [EFFECT.get((key, new), ""), "Every console of this database follows at once."]
        if not await self.app.push_screen_wait(ConfirmScreen(title, [x for x in lines if x])):
            return
        try:
            actor = self.acting()
            await self.write(lambda: settings.set_setting(actor, key, new))
        except SimdeckError as exc:
            self.refused(f"Change {key}", exc)
            return
        self.notify(f"{key} is now {shown_value(new)}", title="Settings", timeout=6)
        self.refresh_data()
        self.app.read_policy()


__all__ = ["SettingsScreen"]
