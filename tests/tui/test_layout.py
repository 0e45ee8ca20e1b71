"""At 120 columns with the detail pane: whole names and ICCIDs, an EID on one line, the
pane at its top for each endpoint."""

from __future__ import annotations

from typing import Any

from simdeck.core import auth, db, records
from simdeck.core.models import Sim
from simdeck.tui.widgets.detail import DetailPane
from tests.tui import fleet
from tests.tui.conftest import POOL, endpoints_screen, screen_text, search, settle, wait_for

LONG = "VM-APAC-ETRON-0000527"


def pane_lines(app: Any) -> list[str]:
    pane = endpoints_screen(app).query_one(DetailPane)
    return str(pane.query_one("#detail-body").render()).splitlines()


async def test_names_and_iccids_whole_and_the_eid_on_one_line_at_120(
    pool_db: str, make_app: Any
) -> None:
    db.open_database(pool_db)
    admin = auth.login(user=fleet.USER)
    records.create_endpoint(admin, name=LONG, sim=POOL[1])
    records.create_endpoint(admin, name="VM-APAC-ETRON-0000528")
    eid = str(Sim.get(Sim.iccid == POOL[1]).eid)
    db.database.close()
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await search(pilot, "VM-APAC")
        assert endpoints_screen(app).detail_visible
        text = screen_text(app)
        assert LONG in text and "VM-APAC-ETRON-0000528" in text
        assert POOL[1] in text
        assert "…" not in text.split(LONG)[0].splitlines()[-1]
        pane = endpoints_screen(app).query_one(DetailPane)
        await wait_for(pilot, lambda: pane.view is not None and pane.view.name == LONG)
        lines = pane_lines(app)
        assert any(line.strip() == eid for line in lines), lines
        assert any(line.strip().endswith(POOL[1]) for line in lines)
        assert any(LONG in line for line in lines)


async def test_the_detail_pane_starts_at_its_top_for_each_endpoint(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = endpoints_screen(app).query_one(DetailPane)
        await wait_for(pilot, lambda: pane.view is not None)
        first = pane.view.id
        pane.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert pane.scroll_y > 0
        await pilot.press("down")
        await wait_for(pilot, lambda: pane.view is not None and pane.view.id != first)
        await pilot.pause()
        assert pane.scroll_y == 0
