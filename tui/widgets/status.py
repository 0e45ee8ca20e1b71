"""The small always-visible lines: the top bar, the counts per state, the status line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from simdeck.core.lifecycle import STATES, State
from simdeck.core.sanitize import printable
from simdeck.tui.format import TONE_STYLE, number, state_tone


class Line(Widget):
    """One line of text redrawn without a layout pass (it never changes size)."""

    DEFAULT_CSS = """
    Line { height: 1; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content = Content("")

    def update(self, content: Content) -> None:
        """Show ``content``; only this line is repainted."""
        if content != self._content:
            self._content = content
            self.refresh()

    def render(self) -> Content:
        return self._content


class TopBar(Line):
    """The product, the screens (the current one lit), the database, who is at the keyboard."""

    #: The screens, each one key away: (key, title); set by the app from ``tui.keys``.
    SCREENS: tuple[tuple[str, str], ...] = ()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[str, Any] | None = None

    def show(self, *, screen: str, database: str, user: str, role: str, read_only: bool) -> None:
        """Draw it (and again at each resize)."""
        self._shown = dict(screen=screen, database=database, user=user, role=role,
                           read_only=read_only)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _tabs(self, screen: str, full: bool) -> Content:
        parts: list[Content] = []
        for key, title in self.SCREENS:
            action = f"@click=app.goto('{title.lower()}')"
            if title == screen:
                parts.append(Content.styled(f" {key} {title} ", "bold reverse $primary"))
            elif full:
                parts.append(Content.assemble((f" {key} ", "bold"), (title, "$foreground-muted"),
                                              " ").stylize(action))
            else:
                parts.append(Content.styled(f" {key} ", "bold").stylize(action))
        if not parts:
            return Content.styled(screen, "bold")
        return Content("").join(parts)

    def _draw(self) -> None:
        if self._shown is None:
            return
        screen, database = self._shown["screen"], printable(self._shown["database"])
        user, role, read_only = printable(self._shown["user"]), self._shown["role"], \
            self._shown["read_only"]
        right_parts: list[tuple[str, str] | str] = []
        if read_only:
            right_parts += [(" read-only ", "bold reverse $warning"), "  "]
        right_parts += [
            ("? ", "bold"),
            ("keys  ", "$foreground-muted"),
            ("db ", "$foreground-muted"),
            (database, ""),
            ("  ", ""),
            (user or "…", "bold"),
            (f" ({role})" if role else "", "$foreground-muted"),
            " ",
        ]
        right = Content.assemble(*right_parts)
        width = max(self.size.width, 1)
        # Every screen's title when there is room (a database name of 16 kept), else keys.
        left = Content.assemble((" simdeck ", "bold reverse $accent"), " ",
                                self._tabs(screen, True))
        short_db = min(len(database), 16)
        if left.cell_length + right.cell_length - len(database) + short_db + 2 > width:
            left = Content.assemble((" simdeck ", "bold reverse $accent"), " ",
                                    self._tabs(screen, False))
        gap = width - left.cell_length - right.cell_length
        if gap < 2:
            # Too narrow for all of it: the database path gives way, its end kept.
            room = max(8, width - left.cell_length - (right.cell_length - len(database)) - 3)
            shown = database if len(database) <= room else "…" + database[-(room - 1):]
            right = Content.assemble(*[
                (shown, "") if p == (database, "") else p for p in right_parts
            ])
            gap = max(1, width - left.cell_length - right.cell_length)
        self.update(Content.assemble(left, " " * gap, right))


def compact(n: int) -> str:
    """A count in at most five characters: ``399,840`` → ``400k``."""
    if n < 10_000:
        return number(n)
    if n < 1_000_000:
        return f"{round(n / 1000)}k"
    return f"{n / 1_000_000:.1f}M"


def rough(n: int) -> str:
    """An estimate in at most four characters: ``1,982`` → ``2k`` (never more precise
    than it is)."""
    if n < 1000:
        return number(n)
    if n < 1_000_000:
        return f"{round(n / 1000)}k"
    return f"{n / 1_000_000:.1f}M"


class StateCounts(Static):
    """How many endpoints of the current filter are in each state; a click filters by it."""

    def show(
        self,
        counts: dict[State, int] | None,
        *,
        total: int | None,
        selected: tuple[str, ...] = (),
        pending: bool = False,
        approximate: bool = False,
    ) -> None:
        """Draw the counts (None while the first count runs); ``approximate`` counts are
        estimates, marked ``≈`` until the exact ones replace them."""
        self.set_class(pending, "-pending")
        self.set_class(approximate, "-approximate")
        if counts is None:
            self.update(Content.styled("Counting endpoints…", "$foreground-muted"))
            return
        width = max(self.size.width - 2, 40)
        grand = total if total is not None else sum(counts.values())
        line = Content("")
        # The widest form that fits on one line: full numbers, then 400k, then no words.
        forms: list[tuple[Callable[[int], str], str]] = [
            (number, " endpoints"), (compact, " endpoints"), (compact, ""), (compact, "")]
        lead: list[tuple[str, str] | str] = []
        if approximate:
            # An estimate is never shown to the unit (it is not that precise), and is
            # marked once at the start of the line and on the total.
            lead = [("≈ ", "bold $text-warning")]
            # The last forms round to thousands: the estimate's line is no longer than
            # the exact one's (a line that wrapped moved the list down and back up).
            forms = [(compact, " endpoints, estimated"), (compact, " endpoints"),
                     (compact, ""), (rough, ""), (rough, "")]
        for form, (fmt, suffix) in enumerate(forms):
            # The last form, for the narrowest lines, also closes the gaps to one space.
            gap = " " if form == len(forms) - 1 else "  "
            parts: list[Content] = []
            for state in STATES:
                n = counts.get(state, 0)
                tone = TONE_STYLE[state_tone(state.value)] if n else "$foreground-muted"
                chosen = state.value in selected
                label = Content.styled(state.label, tone + (" reverse" if chosen else ""))
                label = label.stylize(f"@click=screen.filter_state('{state.value}')")
                parts.append(Content.assemble(label, " ", (fmt(n), "bold" if n else "")))
            total_text = Content.assemble(
                ("│ ", "$foreground-muted"), ("≈" if approximate else "", "bold"),
                (fmt(grand), "bold"), (suffix, "$foreground-muted")
            )
            line = Content.assemble(*lead, Content(gap).join(parts), gap, total_text)
            if line.cell_length <= width:
                break
        self.update(line)


class StatusLine(Line):
    """Where the cursor is, the sort, the marks, and when the list was last read."""

    def show(
        self,
        *,
        position: str,
        sort: str,
        marks: str,
        updated: str,
        problem: str | None = None,
    ) -> None:
        """Draw it; a problem replaces the update time, in the error colour."""
        left_parts: list[tuple[str, str] | str] = [
            (position, "bold"),
            ("  ·  ", "$foreground-muted"),
            ("sorted by ", "$foreground-muted"),
            (sort, ""),
        ]
        if marks:
            # The filter in words quotes the search text.
            left_parts += [("  ·  ", "$foreground-muted"), (printable(marks), "bold $text-accent")]
        left = Content.assemble(*left_parts)
        if problem:
            right = Content.styled(f"✗ {printable(problem)}", "bold $text-error")
        else:
            right = Content.styled(updated, "$foreground-muted")
        width = max(self.size.width, 1)
        gap = width - left.cell_length - right.cell_length
        if gap < 2:
            self.update(Content.assemble(left, "  ", right))
        else:
            self.update(Content.assemble(left, " " * gap, right))
