"""Problems are said in words: before the console starts (exit 1) and inside it (no traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import peewee
import pytest
from textual.widgets import Label

from simdeck.core import db, models, queries
from simdeck.tui.app import run_console
from simdeck.tui.widgets.detail import DetailPane
from simdeck.tui.widgets.status import StatusLine
from tests.tui.conftest import endpoints_screen, settle, the_list, wait_for


def status(app: Any) -> str:
    return str(endpoints_screen(app).query_one(StatusLine).render())


def test_an_unknown_os_user_is_refused_with_exit_1(
    fleet_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The fleet's only operator is alice; whoever runs the tests is not.
    with pytest.raises(SystemExit) as exit_:
        run_console(fleet_db)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "is not an operator of this database" in err and "simdeck users add" in err
    assert "Traceback" not in err


def test_a_missing_database_read_only_is_refused_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_console(str(tmp_path / "nothing-here.db"), read_only=True)
    assert exit_.value.code == 1
    assert "does not exist" in capsys.readouterr().err


def test_a_database_from_a_newer_simdeck_is_refused_with_exit_1(
    fleet_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db.open_database(fleet_db)
    models.Setting.update(value=str(models.SCHEMA_VERSION + 1)).where(
        models.Setting.key == "schema_version"
    ).execute()
    db.database.close()
    with pytest.raises(SystemExit) as exit_:
        run_console(fleet_db)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "newer simdeck" in err and "Traceback" not in err


async def test_the_app_says_why_it_cannot_open_the_database(
    tmp_path: Path, make_app: Any
) -> None:
    app = make_app(str(tmp_path))  # a directory, not a database file
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.setup_problem)
        await pilot.pause()
        assert "database" in status(app)
        pane = endpoints_screen(app).query_one(DetailPane)
        assert app.setup_problem in str(pane.query_one("#detail-body").render())
        await pilot.press("q")


async def test_an_unknown_operator_in_the_app_is_told_how_to_get_access(
    fleet_db: str, make_app: Any
) -> None:
    app = make_app(fleet_db, user="mallory")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.setup_problem)
        await pilot.pause()
        assert "mallory is not an operator" in app.setup_problem
        assert "not an operator" in status(app)
        assert the_list(app).count is None


async def test_a_failing_read_is_a_message_and_the_list_carries_on(
    fleet_db: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(fleet_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        real_page = queries.page

        def locked(*args: Any, **kw: Any) -> Any:
            raise peewee.OperationalError("database is locked")

        # A new query that fails is explained where the operator asked for it.
        monkeypatch.setattr(queries, "page", locked)
        await pilot.press("s")
        message = endpoints_screen(app).query_one("#search-message", Label)
        await wait_for(pilot, lambda: "busy" in str(message.render()))
        assert "another operator is writing" in str(message.render())
        monkeypatch.setattr(queries, "page", real_page)
        await pilot.press("s")
        await settle(pilot)
        assert the_list(app).count == 30 and the_list(app).visible_rows()
        assert "busy" not in str(message.render())
        # A refresh that fails keeps the rows on screen and says so in the status line.
        monkeypatch.setattr(queries, "page", locked)
        endpoints_screen(app).refresh_data()
        await wait_for(pilot, lambda: "busy" in status(app))
        assert the_list(app).visible_rows()
        monkeypatch.setattr(queries, "page", real_page)
        endpoints_screen(app).refresh_data()
        await settle(pilot)
        assert "busy" not in status(app)


async def test_a_read_only_console_browses_and_says_so(fleet_db: str, make_app: Any) -> None:
    app = make_app(fleet_db, read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.actor is not None and app.actor.read_only
        assert the_list(app).count == 30
        top = str(endpoints_screen(app).query_one("#topbar").render())
        assert "read-only" in top and "alice" in top and "admin" in top
