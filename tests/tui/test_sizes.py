"""Every terminal size the console promises (80×24, 60×20, 200×60, and resizing between
them): nothing breaks, the list, the counts and the status line stay on screen, every
screen draws, and every action the operator may run is still one key away — its key
runs it, the ``?`` help lists it, the command palette finds and runs it, and the keys
that open a dialog open one that fits on the screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from textual.command import CommandInput, CommandList, CommandPalette
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList

from simdeck.core import auth, db, settings
from simdeck.core.lifecycle import ACTIONS
from simdeck.core.models import AuditEvent, Endpoint
from simdeck.tui import keys
from simdeck.tui.keys import Command
from simdeck.tui.screens.base import BaseScreen
from simdeck.tui.screens.endpoints import EndpointsScreen
from simdeck.tui.screens.help import HelpScreen
from simdeck.tui.widgets.filter_bar import FilterBar
from simdeck.tui.widgets.status import TopBar
from tests.tui import fleet
from tests.tui.conftest import (
    endpoints_screen,
    expected,
    settle,
    the_list,
    wait_for,
)

# Long (about three minutes on two cores): .ci/run runs them in a lane of their own.
pytestmark = pytest.mark.sizes

SIZES = ((80, 24), (60, 20), (200, 60))
#: Scopes whose commands live on the Endpoints screen, its list and its filter bar.
HOME_SCOPES = (keys.APP, keys.ENDPOINTS, keys.LIST, keys.FILTERS)
#: The other screens' scopes, by the mode their key goes to.
SCREEN_SCOPES = {keys.SIMS: "sims", keys.GROUPS: "groups", keys.AUDIT: "audit",
                 keys.JOBS: "jobs"}


async def until(pilot: Any, check: Any, what: object, timeout: float = 3.0) -> Any:
    """``wait_for`` that says what it waited for when it fails."""
    try:
        return await wait_for(pilot, check, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{what} at {tuple(pilot.app.size)}") from None


def offered(app: Any) -> list[Command]:
    """The commands the logged-in operator may run."""
    return [c for c in keys.COMMANDS if c.allowed(app.actor)]


def stored() -> tuple[list[tuple[Any, ...]], int]:
    """Every endpoint's state and version, and the audit size: what a cancel keeps."""
    rows = list(Endpoint.select(Endpoint.id, Endpoint.state, Endpoint.version, Endpoint.name)
                .order_by(Endpoint.id).tuples())
    return rows, AuditEvent.select().count()


def on_screen(app: Any, widget: Widget) -> bool:
    """True when ``widget`` is drawn, whole, inside the terminal."""
    region = widget.region
    return (widget.display and region.width > 0 and region.height > 0
            and app.screen.region.contains_region(region))


def top_text(screen: Any) -> str:
    return str(screen.query_one(TopBar).render())


def check_home_layout(app: Any) -> None:
    """The list (with rows), the counts, the status line and the top bar are on screen."""
    screen = endpoints_screen(app)
    assert app.screen is screen
    vlist = the_list(app)
    assert on_screen(app, vlist) and vlist.size.height >= 5, app.size
    assert vlist.visible_rows() and "ICCID" in vlist.render_line(0).text
    counts = screen.query_one("#counts")
    assert on_screen(app, counts) and "30" in str(counts.render()), str(counts.render())
    status = screen.query_one("#status")
    assert on_screen(app, status) and screen.status_text()
    assert on_screen(app, screen.query_one(TopBar))
    assert "1 Endpoints" in top_text(screen)


@contextmanager
def spying(owner: Any, method: str) -> Iterator[list[tuple[Any, ...]]]:
    """Replace ``owner.action_<method>`` by a recorder for the duration."""
    calls: list[tuple[Any, ...]] = []
    name = f"action_{method}"
    setattr(owner, name, lambda *args: calls.append(args))
    try:
        yield calls
    finally:
        delattr(owner, name)


def owner_of(app: Any, command: Command) -> Any:
    screen = endpoints_screen(app)
    return {keys.APP: app, keys.ENDPOINTS: screen, keys.LIST: the_list(app),
            keys.FILTERS: screen.query_one(FilterBar)}[command.scope]


def expected_args(command: Command) -> tuple[Any, ...]:
    """The parameters the action string passes (``goto('sims')`` → ``('sims',)``)."""
    action = command.action or command.id
    if "(" not in action:
        return ()
    inner = action[action.index("(") + 1 : -1]
    return tuple(part.strip().strip("'\"") for part in inner.split(",") if part.strip())


async def on_a_row_that_offers(pilot: Any, command: Command) -> None:
    """Put the cursor on an endpoint whose state offers ``command`` (the screen hides a
    lifecycle key its row's state forbids; that is the state's doing, not the size's)."""
    if command.scope != keys.ENDPOINTS:
        return
    screen = endpoints_screen(pilot.app)
    if screen.check_action(command.id, ()):
        return
    vlist = the_list(pilot.app)
    action = ACTIONS.get(command.id)
    rows = expected()  # the list's order, read through core
    for index, row in enumerate(rows):
        if action is None or action.allowed(row.state):
            vlist.move_cursor(index)
            await settle(pilot)
            if screen.check_action(command.id, ()):
                return
    raise AssertionError(f"no endpoint of the fleet offers {command.id}")


async def back_home(pilot: Any) -> None:
    """Close whatever is open and return to the list, focused."""
    app = pilot.app
    moved = False
    for _ in range(5):
        if not isinstance(app.screen, ModalScreen):
            break
        await pilot.press("escape")
        await pilot.pause()
        moved = True
    if not isinstance(app.screen, EndpointsScreen):
        app.action_goto("endpoints")
        await pilot.pause()
        moved = True
    vlist = the_list(app)
    if app.focused is not vlist:
        vlist.focus()
        moved = True
    if moved:
        await settle(pilot)


async def check_every_key_runs_its_action(pilot: Any) -> None:
    """Each key of each command of the Endpoints screen reaches its action."""
    app = pilot.app
    for command in offered(app):
        if command.scope not in HOME_SCOPES:
            continue
        await on_a_row_that_offers(pilot, command)
        method = (command.action or command.id).split("(")[0]
        for key in command.keys:
            if command.scope == keys.FILTERS:
                endpoints_screen(app).action_focus_search()
                await pilot.pause()
            with spying(owner_of(app, command), method) as calls:
                await pilot.press(key)
                await pilot.pause()
            assert calls == [expected_args(command)], (command.id, key, app.size)
            await back_home(pilot)


async def check_help_lists_everything(pilot: Any) -> None:
    """``?`` opens the help, which names every command the operator may run."""
    app = pilot.app
    await pilot.press("question_mark")
    help_screen = await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
    await pilot.pause()
    assert on_screen(app, help_screen.query_one("#help-body"))
    text = " ".join(str(help_screen.query_one("#help-text").render()).split())
    for command in offered(app):
        assert command.label in text, (command.id, app.size)
        assert " ".join(command.description.split()) in text, (command.id, app.size)
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, EndpointsScreen))


async def check_palette_finds_and_runs_everything(pilot: Any) -> None:
    """Ctrl+P, the label typed: the command is among the hits, and Enter runs it."""
    app = pilot.app
    for command in offered(app):
        if not command.palette or command.scope not in HOME_SCOPES:
            continue
        if command.scope == keys.FILTERS:
            continue  # offered while the search box has the focus, which the palette takes
        await on_a_row_that_offers(pilot, command)
        method = (command.action or command.id).split("(")[0]
        with spying(owner_of(app, command), method) as calls:
            await pilot.press("ctrl+p")
            palette = await wait_for(
                pilot, lambda: isinstance(app.screen, CommandPalette) and app.screen
            )
            palette.query_one(CommandInput).value = command.label

            def hit(palette: Any = palette, command: Command = command) -> int | None:
                return palette_hit(palette, command)

            await until(pilot, hit, f"the palette finds {command.label!r}")
            # The palette adds hits in batches, each time highlighting the best one.
            await until(pilot, lambda palette=palette: not any(
                w.node is palette and not w.is_finished for w in app.workers),
                "the palette's search to finish")
            await pilot.pause()
            index = await until(pilot, hit, f"the palette finds {command.label!r}") - 1
            # Its options, that is: the list's bottom rule may fall off a 20-line terminal.
            results = palette.query_one(CommandList)
            assert app.screen.region.contains_region(results.content_region), app.size
            palette.query_one(CommandList).highlighted = index
            await pilot.press("enter")
            await until(pilot, lambda: calls, f"the palette runs {command.id}")
        assert calls == [expected_args(command)], (command.id, app.size)
        await back_home(pilot)


def palette_hit(palette: Any, command: Command) -> int | None:
    """1 + the index of ``command`` among the palette's hits (None when not there)."""
    results = palette.query_one(CommandList)
    for index in range(results.option_count):
        prompt = str(results.get_option_at_index(index).prompt)
        # By its description too: Textual's own "Keys" command is offered as well.
        if prompt.splitlines()[0].strip() == command.label and command.description in prompt:
            return index + 1
    return None


async def check_dialogs_fit(pilot: Any) -> None:
    """The keys that open a dialog open one whose every field and button is on screen;
    Escape cancels it and nothing is written."""
    app = pilot.app
    before = stored()
    for command in offered(app):
        if command.scope != keys.ENDPOINTS or command.section != "Actions":
            continue
        await on_a_row_that_offers(pilot, command)
        notes_before = len(app._notifications)
        await pilot.press(command.keys[0])
        # A dialog, or (nothing to do: no job yet, nothing to purge) a message saying so.
        await until(pilot, lambda n=notes_before: isinstance(app.screen, ModalScreen)
                    or len(app._notifications) > n, f"{command.id} to answer", timeout=4)
        if isinstance(app.screen, ModalScreen):
            dialog = app.screen
            await pilot.pause()
            controls = [*dialog.query(Button), *dialog.query(Input), *dialog.query(OptionList)]
            shown = [w for w in controls if w.display]
            assert shown, (command.id, type(dialog).__name__)
            for widget in shown:
                assert on_screen(app, widget), (command.id, type(dialog).__name__,
                                                widget, widget.region, app.size)
        await back_home(pilot)
    assert stored() == before


async def check_every_screen_draws(pilot: Any) -> None:
    """Keys 1–5 each show their screen, its title lit in the top bar."""
    app = pilot.app
    for key, mode, title in keys.SCREENS:
        await pilot.press(key)

        def shown(key: str = key, title: str = title) -> bool:
            screen = app.screen
            return (isinstance(screen, BaseScreen) and bool(screen.query(TopBar))
                    and f"{key} {title}" in top_text(screen))

        await until(pilot, shown, f"the {title} screen")
        await pilot.pause()
        screen = app.screen
        assert title == screen.TITLE_TEXT
        assert on_screen(app, screen.query_one(TopBar)), (mode, app.size)
        await check_other_screen_keys(pilot, mode)
    await pilot.press("1")
    await wait_for(pilot, lambda: isinstance(app.screen, EndpointsScreen))
    await settle(pilot)


async def check_other_screen_keys(pilot: Any, mode: str) -> None:
    """On the SIMs, Groups, Audit and Jobs screens, each of their commands' keys reaches
    its action wherever the screen offers it now."""
    app = pilot.app
    screen = app.screen
    for command in offered(app):
        if SCREEN_SCOPES.get(command.scope) != mode:
            continue
        if screen.check_action(command.id, ()) is False:
            continue  # not offered on what the screen shows now (an empty list, say)
        method = (command.action or command.id).split("(")[0]
        for key in command.keys:
            with spying(screen, method) as calls:
                await pilot.press(key)
                await pilot.pause()
            assert calls == [expected_args(command)], (command.id, key, app.size,
                                                       f"focus on {app.focused!r}")
            while app.screen is not screen and isinstance(app.screen, ModalScreen):
                await pilot.press("escape")
                await pilot.pause()


@pytest.fixture(autouse=True)
def _quick_palette(monkeypatch: pytest.MonkeyPatch) -> None:
    """The palette shows its hits in batches a quarter of a second apart; here at once."""
    monkeypatch.setattr(CommandPalette, "_RESULT_BATCH_TIME", 0.01)


@pytest.fixture
def resumable_db(fleet_db: str) -> str:
    """The fleet where this deployment allows resume: every key then has a row that
    offers it (with the policy off, Resume is rightly offered nowhere)."""
    db.open_database(fleet_db)
    settings.set_setting(auth.login(user=fleet.USER), "allow_resume", "true")
    db.database.close()
    return fleet_db


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_every_action_is_reachable_at_each_size(
    size: tuple[int, int], resumable_db: str, make_app: Any
) -> None:
    app = make_app(resumable_db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.size == size
        check_home_layout(app)
        await check_every_key_runs_its_action(pilot)
        await check_help_lists_everything(pilot)
        await check_palette_finds_and_runs_everything(pilot)
        await check_dialogs_fit(pilot)
        await check_every_screen_draws(pilot)
        check_home_layout(app)


async def test_resizing_back_and_forth_keeps_everything_reachable(
    resumable_db: str, make_app: Any
) -> None:
    app = make_app(resumable_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for width, height in ((80, 24), (60, 20), (200, 60), (60, 20), (80, 24), (200, 60)):
            await pilot.resize_terminal(width, height)
            await settle(pilot)
            assert app.size == (width, height)
            check_home_layout(app)
            await check_help_lists_everything(pilot)
            await check_every_screen_draws(pilot)
            check_home_layout(app)
        # Resizing while a dialog is open: it still fits, and cancelling writes nothing.
        await pilot.resize_terminal(200, 60)
        await settle(pilot)
        before_rows = len(the_list(app).visible_rows())
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ModalScreen))
        for width, height in ((60, 20), (80, 24)):
            await pilot.resize_terminal(width, height)
            await pilot.pause(0.05)
            menu = app.screen.query_one(OptionList)
            assert on_screen(app, menu), (menu.region, app.size)
        await back_home(pilot)
        check_home_layout(app)
        assert len(the_list(app).visible_rows()) < before_rows  # fewer lines, fewer rows
