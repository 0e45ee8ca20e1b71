"""The ``?`` screen: every key, from the same registry as the bindings and the palette."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, ClassVar

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from simdeck.core.queries import TOKEN_FIELDS
from simdeck.tui import keys
from simdeck.tui.widgets.footer import Dialog

if TYPE_CHECKING:
    from simdeck.tui.app import SimdeckApp

KEY_WIDTH = 11
LABEL_WIDTH = 17

SEARCH_HELP = (
    ("word", "ICCID prefix, or part of the name or reference"),
    ("field:value", "one of " + ", ".join(f"{f}:" for f in TOKEN_FIELDS)),
    ("-token", "leave out what the token matches (-state:terminated)"),
    ('"two words"', "a phrase, matched literally"),
)


class HelpScreen(Dialog[None]):
    """All keys the operator may use, by section; any of Escape, q, ? closes it."""

    if TYPE_CHECKING:
        app = getters.app(SimdeckApp)

    BINDINGS: ClassVar = [
        Binding("escape,q,question_mark,f1", "close", "Close", key_display="esc"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(Content.styled("Keys", "bold"), id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(self._text(80), id="help-text")
            yield Static(
                Content.styled(
                    "Esc closes · Ctrl+P finds any command by name", "$foreground-muted"
                ),
                id="help-foot",
            )

    def on_resize(self) -> None:
        width = self.query_one("#help-body").scrollable_content_region.width
        self.query_one("#help-text", Static).update(self._text(max(40, width - 1)))

    def _text(self, width: int) -> Content:
        actor = self.app.actor
        lines: list[Content] = []
        indent = KEY_WIDTH + LABEL_WIDTH

        def described(head: Content, text: str) -> None:
            parts = textwrap.wrap(text, max(20, width - indent)) or [""]
            lines.append(Content.assemble(head, (parts[0], "$foreground-muted")))
            for more in parts[1:]:
                lines.append(Content.assemble(" " * indent, (more, "$foreground-muted")))

        for section, commands in keys.sections(actor).items():
            if lines:
                lines.append(Content(""))
            lines.append(Content.styled(section, "bold $text-accent"))
            for c in commands:
                tone = "$text-error" if c.dangerous else ""
                shown = self.app.key_display(c)
                head = Content.assemble(
                    (shown.ljust(KEY_WIDTH), "bold"), (c.label.ljust(LABEL_WIDTH), tone)
                )
                described(head, c.description)
        lines.append(Content(""))
        lines.append(Content.styled("Search box", "bold $text-accent"))
        for token, meaning in SEARCH_HELP:
            described(Content.styled(token.ljust(indent), "bold"), meaning)
        return Content("\n").join(lines)

    def action_close(self) -> None:
        """Back to where the operator was."""
        self.dismiss(None)
