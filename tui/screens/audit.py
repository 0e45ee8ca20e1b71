"""The Audit screen (being built)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Footer, Static

from tui import keys
from tui.screens.base import BaseScreen
from tui.widgets.status import TopBar


class AuditScreen(BaseScreen):
    """The Audit screen."""

    TITLE_TEXT = "Audit"
    COMMAND_SCOPES: ClassVar = (keys.LIST,)

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Static("")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show_top()
