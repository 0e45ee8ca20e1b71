"""One debounce for the console: a call made once a burst of events has settled."""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer


class Debounce(MessagePump):
    """Runs a call once a burst of events (keystrokes, cursor moves) has settled.

    Mixed into a widget or screen; each ``name`` has its own timer, restarted by every
    call.
    """

    def _debounces(self) -> dict[str, Timer]:
        try:
            return self._debounce_timers
        except AttributeError:
            self._debounce_timers: dict[str, Timer] = {}
            return self._debounce_timers

    def debounce(self, name: str, delay: float, fn: Callable[[], object]) -> None:
        """Call ``fn`` ``delay`` seconds after the last ``debounce`` of ``name``."""
        timers = self._debounces()
        self.cancel_debounce(name)

        def fire() -> None:
            timers.pop(name, None)
            fn()

        timers[name] = self.set_timer(delay, fire)

    def debouncing(self, name: str) -> bool:
        """True while a call of ``name`` waits for its burst to settle."""
        return name in self._debounces()

    def cancel_debounce(self, name: str) -> None:
        """Drop the waiting call of ``name``, if any (it is being made now)."""
        timer = self._debounces().pop(name, None)
        if timer is not None:
            timer.stop()
