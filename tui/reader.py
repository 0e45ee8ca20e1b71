"""The console's one database reader: a thread that lives as long as the app.

Every read of the console runs here, never on the event loop. One long-lived thread
means one connection (Peewee gives each thread its own), so SQLite's page cache stays
warm from one page to the next. Requests are queued by *slot*: a request for a slot
replaces the one still waiting in it, so a burst of keystrokes or a scrollbar drag
costs one query, not one per event; a long count that a newer request made useless is
interrupted (``core.store.interrupter``) rather than waited for. Results go back
through the ``deliver`` callback, which posts a Textual message (thread-safe).

Between requests the same thread notices other operators' changes, about once a
second and cheaply, through ``core.store.change_signature``. Each poll runs outside any
transaction (a transaction a read left open is rolled back first, and the connection
is in autocommit), so it sees every commit made before it, whatever the server's
isolation level. Every statement is core's: this module only schedules them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simdeck.core import store
from simdeck.core.store import is_interrupted

#: Priorities, most urgent first: what the operator is looking at comes before the rest.
URGENT = 0
DETAIL = 1
COUNTS = 2
BACKGROUND = 3

Deliver = Callable[[Any, BaseException | None], None]


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    slot: str = field(compare=False)
    fn: Callable[[], Any] = field(compare=False)
    deliver: Deliver = field(compare=False)
    interruptible: bool = field(compare=False, default=False)
    retried: bool = field(compare=False, default=False)


class Reader:
    """A thread that runs the console's reads one at a time and watches for changes."""

    def __init__(
        self,
        *,
        poll_interval: float = 1.0,
        on_change: Callable[[], None] | None = None,
        on_poll_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.poll_interval = poll_interval
        self.on_change = on_change
        self.on_poll_error = on_poll_error
        #: While True (a dialog is open) changes are not looked for.
        self.paused = False
        #: Set once the database is open on this thread; polling starts then.
        self.ready = False
        self._cond = threading.Condition()
        self._pending: dict[str, _Job] = {}
        self._running: _Job | None = None
        self._latest: dict[str, int] = {}
        self._seq = itertools.count(1)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="simdeck-reader", daemon=True)
        self._interrupt: Callable[[], None] | None = None
        self._signature: tuple[Any, ...] | None = None
        self._next_poll = 0.0
        self._poll_failed = False

    # --- the event loop's side ------------------------------------------------------

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the thread to finish its current request and close its connection."""
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify_all()
        self.interrupt()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def submit(
        self,
        slot: str,
        fn: Callable[[], Any],
        deliver: Deliver,
        *,
        priority: int = URGENT,
        interruptible: bool = False,
    ) -> int:
        """Queue ``fn`` in ``slot`` (replacing what waits there); returns its ticket."""
        with self._cond:
            seq = next(self._seq)
            self._latest[slot] = seq
            self._pending[slot] = _Job(priority, seq, slot, fn, deliver, interruptible)
            running = self._running
            if running is not None and running.interruptible and (
                running.slot == slot or priority < running.priority
            ):
                self.interrupt()
            self._cond.notify_all()
        return seq

    def discard(self, slot: str) -> None:
        """Forget the request waiting in ``slot``; a running one's result is ignored."""
        with self._cond:
            self._pending.pop(slot, None)
            self._latest[slot] = next(self._seq)

    def is_current(self, slot: str, ticket: int) -> bool:
        """True when ``ticket`` is still the newest request of ``slot``."""
        return self._latest.get(slot) == ticket

    @property
    def idle(self) -> bool:
        """True when nothing is queued or running (tests wait for this)."""
        with self._cond:
            return not self._pending and self._running is None

    def interrupt(self) -> None:
        """Stop the query running on the reader's SQLite connection, if any."""
        interrupt = self._interrupt
        if interrupt is not None:
            with contextlib.suppress(*store.STORE_ERRORS, AttributeError):
                interrupt()

    def poll_soon(self) -> None:
        """Look for changes at the next idle moment (after a dialog closed, say)."""
        with self._cond:
            self._next_poll = 0.0
            self._cond.notify_all()

    # --- the thread's side ----------------------------------------------------------

    def _take(self) -> _Job | None:
        with self._cond:
            while not self._stopping:
                if self._pending:
                    job = min(self._pending.values())
                    del self._pending[job.slot]
                    self._running = job
                    return job
                wait = self._next_poll - time.monotonic()
                if self.ready and not self.paused and wait <= 0:
                    return None
                self._cond.wait(timeout=max(0.01, wait) if self.ready else None)
            return None

    def _run(self) -> None:
        store.read_lightly()
        try:
            while True:
                job = self._take()
                if self._stopping:
                    break
                if job is None:
                    self._poll()
                    continue
                self._execute(job)
                if self.ready and not self.paused and time.monotonic() >= self._next_poll:
                    self._poll()
        finally:
            self._close()

    def _execute(self, job: _Job) -> None:
        self._interrupt = store.interrupter()
        result: Any = None
        error: BaseException | None = None
        try:
            result = job.fn()
        except BaseException as exc:  # delivered as a message, never raised in the thread
            error = exc
        finally:
            with self._cond:
                self._running = None
        if error is not None and is_interrupted(error):
            with self._cond:
                current = self._latest.get(job.slot) == job.seq
                if current and not job.retried and job.slot not in self._pending:
                    job.retried = True
                    self._pending[job.slot] = job
                    self._cond.notify_all()
            return
        # If the app is closing its widgets are gone, and there is nobody left to tell.
        with contextlib.suppress(Exception):
            job.deliver(result, error)

    def _poll(self) -> None:
        self._next_poll = time.monotonic() + self.poll_interval
        try:
            store.end_stray_transaction()
            signature = store.change_signature()
        except Exception as exc:
            if not self._poll_failed and self.on_poll_error is not None:
                self.on_poll_error(exc)
            self._poll_failed = True
            return
        self._poll_failed = False
        changed = self._signature is not None and signature != self._signature
        if changed and self.on_change is not None:
            self.on_change()
        self._signature = signature

    def _close(self) -> None:
        self._interrupt = None
        store.close_connection()


async def ask(reader: Reader, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on ``reader``'s thread and wait for its result (its error is raised)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def deliver(result: Any, error: BaseException | None) -> None:
        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        loop.call_soon_threadsafe(settle)

    reader.submit(f"ask-{id(future)}", fn, deliver, priority=URGENT)
    return await future

