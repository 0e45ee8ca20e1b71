"""The Settings screen: an admin turns allow_resume on, and Resume is offered at once."""

from __future__ import annotations

from typing import Any

from simdeck.core import db, settings
from simdeck.core.models import AuditEvent
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.screens.settings import SettingsScreen
from tests.tui.conftest import dialog, endpoints_screen, on_endpoint, settle, wait_for
from tests.tui.test_actions_menu import footer_actions


async def open_settings(pilot: Any) -> SettingsScreen:
    await settle(pilot)
    await pilot.press("6")
    screen: SettingsScreen = await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, SettingsScreen) and pilot.app.screen)
    await wait_for(pilot, lambda: screen.settings)
    await pilot.pause()
    return screen


def cells(screen: SettingsScreen, row: int = 0) -> list[str]:
    return [str(c) for c in screen.table.get_row_at(row)]


async def test_an_admin_turns_allow_resume_on_and_resume_is_offered(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_endpoint(pilot, "munich-van-0005")  # Suspended
        assert "resume" not in footer_actions(app)
        screen = await open_settings(pilot)
        assert cells(screen)[:3] == ["allow_resume", "off", "off"]
        assert "toggle_setting" in footer_actions(app)
        await pilot.press("enter")
        confirm = await dialog(pilot, ConfirmScreen)
        assert confirm.title_text == "Turn allow_resume on?"
        assert "Operators may then resume Suspended endpoints to Active." in confirm.lines
        await pilot.press("enter")
        await wait_for(pilot, lambda: cells(screen)[1] == "on")
        db.open_database(pool_db)
        assert settings.allow_resume() is True
        assert AuditEvent.select().where(AuditEvent.action == "setting_changed").count() == 1
        db.database.close()
        await pilot.press("1")
        home = endpoints_screen(app)
        await wait_for(pilot, lambda: app.screen is home)
        await wait_for(pilot, lambda: "resume" in footer_actions(app))


async def test_a_viewer_sees_the_settings_but_is_offered_no_change(
    pool_db: str, make_app: Any
) -> None:
    app = make_app(pool_db, user="vera")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_settings(pilot)
        assert cells(screen)[:2] == ["allow_resume", "off"]
        assert "toggle_setting" not in footer_actions(app)
        assert "Only admins change settings." in str(
            screen.query_one("#settings-hint").render())
        await pilot.press("enter", "space")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        db.open_database(pool_db)
        assert settings.allow_resume() is False
        db.database.close()
