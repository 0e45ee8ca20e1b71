"""The detail pane: every field of the endpoint under the cursor, its SIM, group and history."""

from __future__ import annotations

import textwrap
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from simdeck.core.queries import EndpointView
from simdeck.core.sanitize import printable
from simdeck.tui.format import (
    TONE_STYLE,
    ago,
    parse_iso,
    passes_traffic,
    state_label,
    state_mark,
    state_meaning,
    state_tone,
    when,
)

KEY_WIDTH = 15
MUTED = "$foreground-muted"


class DetailPane(VerticalScroll):
    """Shows one ``EndpointView`` (read on the reader thread by the screen)."""

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: EndpointView | None = None
        self.now = 0.0
        self._message = "Move the cursor to an endpoint"
        self.actions: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield Static(id="detail-body")

    def show(
        self, view: EndpointView | None, now: float, actions: list[tuple[str, str]] | None = None
    ) -> None:
        """Draw ``view`` (None: the endpoint is gone) and the (key, label) actions offered.

        Another endpoint starts at the top of the pane; the same one, redrawn after a
        change, keeps where the operator scrolled to."""
        if view is None or self.view is None or view.id != self.view.id:
            self.scroll_home(animate=False, immediate=True)
        self.view, self.now = view, now
        self.actions = actions or []
        if view is None:
            self._message = "This endpoint no longer exists"
        self._draw()

    def show_message(self, text: str) -> None:
        """Draw a line of text instead of an endpoint."""
        self.view = None
        self._message = text
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        body = self.query_one("#detail-body", Static)
        if self.view is None:
            body.update(Content.styled(printable(self._message, multiline=True), MUTED))
            return
        width = max(20, self.scrollable_content_region.width - 1)
        body.update(render_view(self.view, self.now, width, self.actions))


def render_view(
    v: EndpointView, now: float, width: int, actions: list[tuple[str, str]] | None = None
) -> Content:
    """The whole pane's text for one endpoint, ``width`` cells wide, with its actions."""
    tone = TONE_STYLE[state_tone(v.state)]
    lines: list[Content] = []
    title = printable(v.name or (v.iccid or f"Endpoint {v.id}"))
    lines.append(Content.styled(_cut(title, width), "bold"))
    lines.append(
        Content.assemble(
            (state_mark(v.state), tone),
            ("  ·  passes traffic: ", MUTED),
            (passes_traffic(v.state), ""),
        )
    )
    for part in textwrap.wrap(state_meaning(v.state), width) or [""]:
        lines.append(Content.styled(part, MUTED))

    def section(name: str) -> None:
        lines.append(Content(""))
        lines.append(Content.styled(name, "bold $text-accent"))

    def field(key: str, value: Any, style: str = "", *, whole: bool = False) -> None:
        shown = "—" if value is None or value == "" or value == [] else printable(value)
        value_style = MUTED if shown == "—" else style
        room = max(8, width - KEY_WIDTH)
        if whole and len(shown) > room:
            # An identifier (an EID's 32 digits) is one value to read and select: never
            # wrapped; when it does not fit beside its label, it has a line of its own.
            lines.append(Content.styled(key, MUTED))
            lines.append(Content.styled(shown, value_style))
            return
        parts = textwrap.wrap(shown, room, break_long_words=True) or [""]
        lines.append(
            Content.assemble((key.ljust(KEY_WIDTH), MUTED), (parts[0], value_style))
        )
        for more in parts[1:]:
            lines.append(Content.assemble(" " * KEY_WIDTH, (more, value_style)))

    if actions:
        section("Actions  (a: menu)")
        line: list[tuple[str, str]] = []
        used = 0
        for key, label in actions:
            piece = len(key) + 1 + len(label) + 3
            if line and used + piece > width:
                lines.append(Content.assemble(*line))
                line, used = [], 0
            line += [(key, "bold"), (" " + label + "   ", "")]
            used += piece
        if line:
            lines.append(Content.assemble(*line))

    section("Endpoint")
    field("ID", v.id)
    field("Name", v.name, whole=True)
    field("Reference", v.reference)
    field("State", state_mark(v.state), tone)
    field("Endpoint Group", v.group)
    field("Tags", " ".join(v.tags))
    field("Static IP", v.static_ip)
    field("IMEI lock", v.imei_lock)
    field("Activate now", "yes" if v.activate_immediately else "no (Pre-Active first)")
    field("Last activity", when(v.last_activity, now) if v.last_activity else "never")
    field("Created", when(v.created_at, now))
    field("Updated", when(v.updated_at, now))
    if v.terminated_at:
        field("Terminated", when(v.terminated_at, now), TONE_STYLE["error"])
        field("Was", state_label(v.state_before_termination or ""))
    field("Version", v.version)

    section("SIM")
    if v.iccid is None:
        lines.append(Content.styled("No SIM linked (Hold): link a Ready to Activate SIM", MUTED))
    else:
        field("ICCID", v.iccid, whole=True)
        if v.eid:
            field("EID", v.eid, whole=True)
        else:
            field("EID", "— (plastic SIM)")
        field("SIM status", v.sim_status, tone)
        imsis = v.imsis or []
        field("IMSI" if len(imsis) <= 1 else f"IMSIs ({len(imsis)})", imsis[0] if imsis else None,
              whole=True)
        for extra in imsis[1:]:
            field("", extra, whole=True)

    section("Endpoint Group")
    if not v.group_config:
        lines.append(
            Content.styled("No group: the endpoint has no network configuration", MUTED)
        )
    else:
        g = v.group_config
        field("Name", g.get("name"))
        field("APN", g.get("apn"))
        field("IP pool", g.get("ip_pool"))
        field("Description", g.get("description"))

    section("History")
    if not v.history:
        lines.append(Content.styled("No audit events", MUTED))
    for event in v.history:
        lines.extend(_event_lines(event, now, width))
    return Content("\n").join(lines)


def _event_lines(event: dict[str, Any], now: float, width: int) -> list[Content]:
    stamp = parse_iso(event.get("at"))
    age = ago(stamp, now) if stamp else "—"
    action = printable(event.get("action"))
    change = ""
    if event.get("from_state") and event.get("to_state") and event["from_state"] != event[
        "to_state"
    ]:
        change = f"{state_label(event['from_state'])} → {state_label(event['to_state'])}"
    elif event.get("to_state") and not event.get("from_state"):
        change = f"→ {state_label(event['to_state'])}"
    head = Content.assemble(
        (age.rjust(8), MUTED), "  ", (printable(event.get("actor")), "bold"), "  ", action
    )
    out = [head]
    if change:
        out.append(Content.assemble(" " * 10, (change, TONE_STYLE[state_tone(event["to_state"])])))
    detail = event.get("detail")
    if isinstance(detail, dict) and detail:
        text = printable(", ".join(f"{k}: {_short(v)}" for k, v in detail.items()))
        for part in textwrap.wrap(text, max(10, width - 10))[:2]:
            out.append(Content.assemble(" " * 10, (part, MUTED)))
    return out


def _short(value: Any) -> str:
    if isinstance(value, list) and len(value) == 2:
        return f"{value[0] or '—'} → {value[1] or '—'}"
    return str(value)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
