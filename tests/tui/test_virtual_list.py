"""The virtual list on its own, over a plain Python source: the widget knows no endpoint."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from textual.app import App, ComposeResult

from simdeck.tui.reader import Reader
from simdeck.tui.widgets.virtual_list import Column, VirtualList
from tests.tui.conftest import wait_for


class ListSource:
    """Rows are ints in a Python list; keys are ``(value,)``: a source in twenty lines."""

    def __init__(self, values: list[int]) -> None:
        self.values = values
        self.calls: list[str] = []

    def _from(self, key: Any) -> int:
        return next((i for i, v in enumerate(self.values) if v > key[0]), len(self.values))

    def first(self, limit: int) -> list[int]:
        self.calls.append("first")
        return self.values[:limit]

    def after(self, key: Any, limit: int) -> list[int]:
        self.calls.append("after")
        start = self._from(key)
        return self.values[start : start + limit]

    def before(self, key: Any, limit: int) -> list[int]:
        self.calls.append("before")
        end = next((i for i, v in enumerate(self.values) if v >= key[0]), len(self.values))
        return self.values[max(0, end - limit) : end]

    def last(self, limit: int) -> list[int]:
        self.calls.append("last")
        return self.values[-limit:]

    def count(self) -> int:
        return len(self.values)

    def position(self, key: Any) -> int:
        return sum(1 for v in self.values if v < key[0])

    def key_at(self, index: int, count: int) -> Any:
        self.calls.append("key_at")
        return (self.values[index],) if 0 <= index < len(self.values) else None

    def key(self, row: int) -> Any:
        return (row,)

    def ident(self, row: int) -> Hashable:
        return row

    def fetch(self, ident: Hashable) -> int | None:
        return ident if ident in self.values else None  # type: ignore[return-value]


class ListApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.reader = Reader(poll_interval=60)

    def compose(self) -> ComposeResult:
        yield VirtualList(
            [Column("n", "Number", 10, align="right"), Column("", "Square", 12)],
            lambda n, now: (str(n), str(n * n)),
            id="numbers",
        )

    def on_load(self) -> None:
        self.reader.start()

    def on_unmount(self) -> None:
        self.reader.stop()


async def test_a_plain_source_pages_and_seeks() -> None:
    source = ListSource(list(range(0, 20_000, 2)))
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        vlist = app.query_one(VirtualList)
        vlist.set_source(source)
        await wait_for(pilot, lambda: vlist.count == 10_000 and vlist.visible_rows())
        assert vlist.render_line(1).text.split()[:2] == ["0", "0"]
        # A jump into the middle reads one key there, then pages by key.
        vlist.scroll_to(y=5000, animate=False)
        await wait_for(pilot, lambda: vlist.visible_rows() and vlist.visible_rows()[0] == 10_000)
        assert "key_at" in source.calls
        vlist.move_cursor(5003)
        await wait_for(pilot, lambda: not vlist.reading)
        assert vlist.cursor_row == 10_006
        vlist.action_last()
        await wait_for(pilot, lambda: vlist.cursor_row == 19_998)


async def test_rows_gone_before_the_window_are_found_out_at_the_top() -> None:
    source = ListSource(list(range(0, 4000, 2)))
    app = ListApp()
    async with app.run_test(size=(40, 40)) as pilot:
        vlist = app.query_one(VirtualList)
        vlist.set_source(source)
        await wait_for(pilot, lambda: vlist.count == 2000 and vlist.visible_rows())
        vlist.scroll_to(y=1000, animate=False)
        await wait_for(pilot, lambda: vlist.visible_rows() and vlist.visible_rows()[0] == 2000)
        vlist.move_cursor(1003)
        await wait_for(pilot, lambda: not vlist.reading and vlist.cursor_row == 2006)
        # Another operator removes 100 rows the list has not read; it still counts 2,000.
        del source.values[:100]
        step = vlist.size.height - 2
        previous = vlist.cursor_row
        for _ in range(60):
            await wait_for(pilot, lambda: not vlist.reading)
            if vlist._base == 0:
                break
            previous = vlist.cursor_row
            vlist.action_page_up()
        # The top turned out to be nearer than counted: every index moved with it, and
        # the cursor is on the row one page above the one it left, not 100 rows off.
        assert previous is not None
        assert vlist.cursor_row == source.values[source.values.index(previous) - step]
        top = int(vlist.scroll_y)
        assert vlist.visible_rows() == source.values[top : top + len(vlist.visible_rows())]


async def test_end_draws_the_last_page_read_ahead_and_a_change_reads_it_again() -> None:
    source = ListSource(list(range(0, 20_000, 2)))
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        vlist = app.query_one(VirtualList)
        vlist.focus()
        vlist.set_source(source)
        # Once counted, the last page is read in the background, while the operator reads.
        await wait_for(pilot, lambda: vlist.count == 10_000 and "last" in source.calls
                       and app.reader.idle)
        await pilot.pause()
        source.calls.clear()
        vlist.action_last()
        # At once, with no read: the last rows are on screen, the cursor on the last one.
        assert not vlist.reading and source.calls == []
        assert vlist.cursor_row == 19_998 and vlist.visible_rows()[-1] == 19_998
        bottom = vlist.size.height - 1
        assert vlist.render_line(bottom).text.split() == ["19998", str(19_998 ** 2)]
        await pilot.press("home")
        await wait_for(pilot, lambda: vlist.cursor_row == 0 and not vlist.reading)
        # Another operator adds rows at the end: the refresh forgets the page read ahead,
        # and End shows the new last row, not the old one.
        source.values += [20_000, 20_002]
        vlist.reload()
        await wait_for(pilot, lambda: vlist.count == 10_002 and app.reader.idle)
        await pilot.press("end")
        await wait_for(pilot, lambda: vlist.cursor_row == 20_002 and not vlist.reading)
        assert vlist.visible_rows()[-2:] == [20_000, 20_002]
        assert vlist.render_line(bottom).text.split() == ["20002", str(20_002 ** 2)]
