"""Every console action, defined once: key, label, description, role, danger.

The bindings of each widget or screen, the footer, the ``?`` help screen and the
command palette are all built from ``COMMANDS``; ``check_action`` hides what the
operator's role does not allow. Adding an action (issue 4's lifecycle actions) is one
``Command`` here plus its ``action_<id>`` method on the screen of its scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider

from simdeck.core.lifecycle import ACTIONS, Role

if TYPE_CHECKING:
    from simdeck.core.auth import Actor
    from simdeck.tui.app import SimdeckApp

#: Where an action's method lives.
APP = "app"  # the App
ENDPOINTS = "endpoints"  # the Endpoints screen
LIST = "list"  # any virtual list (navigation)
FILTERS = "filters"  # the filter bar
SIMS = "sims"  # the SIM inventory screen
GROUPS = "groups"  # the Endpoint Groups screen
AUDIT = "audit"  # the Audit log screen
JOBS = "jobs"  # the Jobs screen
SETTINGS = "settings"  # the Settings screen

#: The screens, each one key away: (key, mode name, title).
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("1", "endpoints", "Endpoints"),
    ("2", "sims", "SIMs"),
    ("3", "groups", "Groups"),
    ("4", "audit", "Audit"),
    ("5", "jobs", "Jobs"),
    ("6", "settings", "Settings"),
)


@dataclass(frozen=True)
class Command:
    """One action of the console."""

    id: str
    key: str
    label: str
    description: str
    scope: str = ENDPOINTS
    role: Role = Role.VIEWER
    dangerous: bool = False
    footer: bool = True
    section: str = "Endpoints"
    key_display: str | None = None
    palette: bool = True
    #: The action string when it is not just the id (an action with a parameter).
    action: str | None = None
    #: A shorter label for the footer, where room is scarce.
    short: str | None = None
    #: Key sequences that run it too (``gg``, ``yi``), as the help writes them; a command
    #: whose key only starts a chord (``y``) is shown by its chords alone.
    chords: tuple[str, ...] = ()

    @property
    def keys(self) -> list[str]:
        """Every key that runs it."""
        return [k.strip() for k in self.key.split(",") if k.strip()]

    def binding(self) -> Binding:
        """The Textual binding (with an id, so a keymap can remap it)."""
        return Binding(
            self.key,
            self.action or self.id,
            self.short or self.label,
            show=self.footer,
            key_display=self.key_display,
            tooltip=self.description,
            id=f"{self.scope}.{self.id}",
        )

    def allowed(self, actor: Actor | None) -> bool:
        """True when ``actor`` may run it (read-only operators only what viewers may)."""
        if self.role is Role.VIEWER:
            return True
        return actor is not None and actor.can(self.role)


def _lifecycle(name: str, key: str, shown: str | None, short: str | None) -> Command:
    """A lifecycle action's command: label, role and danger from core's table; an action
    that is not offered on a row (purge) is not in the footer either."""
    act = ACTIONS[name]
    return Command(name, key, act.label, act.description, role=act.role,
                   dangerous=act.dangerous, footer=act.row, section="Actions",
                   key_display=shown, short=short)


COMMANDS: tuple[Command, ...] = (
    # Moving in a list; bound on the list itself so every list (endpoints, SIMs, audit) has them.
    Command("cursor_up", "up,k", "Up", "Move the cursor up one row", LIST,
            footer=False, section="Move", palette=False),
    Command("cursor_down", "down,j", "Down", "Move the cursor down one row", LIST,
            footer=False, section="Move", palette=False),
    Command("page_up", "pageup,ctrl+b", "Page up", "Move the cursor up one screen", LIST,
            footer=False, section="Move", palette=False),
    Command("page_down", "pagedown,ctrl+f", "Page down", "Move the cursor down one screen",
            LIST, footer=False, section="Move", palette=False),
    Command("half_page_up", "ctrl+u", "Half page up", "Move the cursor up half a screen",
            LIST, footer=False, section="Move", palette=False),
    Command("half_page_down", "ctrl+d", "Half page down",
            "Move the cursor down half a screen", LIST, footer=False, section="Move",
            palette=False),
    # ``gg`` is a chord (tui/widgets/list_keys.py): the help shows it after Home.
    Command("first", "home", "First", "Go to the first row", LIST,
            footer=False, section="Move", chords=("gg",)),
    Command("last", "end,G", "Last", "Go to the last row", LIST,
            footer=False, section="Move"),
    # The Endpoints screen: its actions first, so a narrow footer still shows them.
    Command("actions_menu", "a", "Actions", "What can be done to the endpoint under the cursor",
            section="Actions"),
    # Lifecycle actions, on the marks or else the cursor row; role and danger from core.
    *(
        _lifecycle(name, key, shown, short)
        for name, key, shown, short in (
            ("link", "l", None, "Link"),
            ("assign_group", "A", "A", "Group"),
            ("activate", "v", None, None),
            ("suspend", "u", None, None),
            ("resume", "R", "R", None),
            ("delink", "x", None, "De-link"),
            ("terminate", "t", None, None),
            ("edit", "e", None, None),
            ("reinstate", "I", "I", None),
        )
    ),
    Command("focus_search", "slash", "Search", "Search by ICCID, name, reference or field:value",
            key_display="/"),
    Command("sort_next", "s", "Sort", "Sort by the next column"),
    Command("sort_reverse", "r", "Reverse", "Reverse the sort order", footer=False),
    Command("sort_column", "o", "Sort by column",
            "o then the column's letter: i ICCID, n name, s state, g group, t tags, "
            "a last activity (the same again: the other way)", footer=False,
            action="chord('o')", chords=("o + letter",)),
    Command("copy", "y", "Copy",
            "Copy the ICCID (yi), EID (ye) or IMSI (ym) of the endpoint under the cursor "
            "to the clipboard", footer=False, action="chord('y')",
            chords=("yi", "ye", "ym")),
    Command("toggle_mark", "space", "Mark",
            "Mark or unmark the endpoint under the cursor (when all are marked: leave it out)"),
    Command("mark_all", "asterisk", "Mark all",
            "Mark every endpoint matching the filter, as well as those marked already",
            key_display="*", footer=False),
    Command("clear_marks", "escape", "Clear marks",
            "Clear every mark (more than 5, or all: after a question)", footer=False,
            key_display="esc"),
    Command("undo_marks", "ctrl+z", "Undo clear marks",
            "Bring back the marks as they were before they were last cleared", footer=False),
    Command("toggle_detail", "d", "Detail", "Show or hide the detail of the endpoint"),
    Command("clear_filters", "ctrl+r", "Clear filters", "Clear the status, group, tag and search",
            short="Clear"),
    Command("refresh", "ctrl+l", "Refresh", "Read the list again now", footer=False),
    Command("history", "h", "History", "The Audit log of the endpoint under the cursor",
            footer=False),
    Command("new_endpoint", "n", "New", "Create an endpoint (optionally with a SIM)",
            role=Role.OPERATOR, section="Actions"),
    # After the screen's own keys in the help: it acts on no row.
    _lifecycle("purge", "P", "P", None),
    Command("export_skipped", "X", "Export skipped",
            "Write the ICCIDs the last bulk job skipped to a CSV file", footer=False,
            section="Actions", key_display="X"),
    # The SIM inventory (tui/screens/sims.py).
    Command("import_sims", "i", "Import SIMs",
            "Import a CSV batch of SIMs (iccid, imsi, eid) into the pool, or as endpoints",
            SIMS, role=Role.OPERATOR, section="SIM inventory", short="Import"),
    Command("sims_search", "slash", "Search", "Search SIMs by ICCID, EID or IMSI prefix",
            SIMS, section="SIM inventory", key_display="/"),
    Command("sims_status", "f", "Status", "Show only the SIMs of one status", SIMS,
            section="SIM inventory"),
    Command("clear_sims_filters", "ctrl+r", "Clear filters", "Show every SIM again", SIMS,
            section="SIM inventory", key_display="^r", short="Clear"),
    Command("open_sim_endpoint", "enter", "Endpoint",
            "Open the endpoint the SIM under the cursor is linked to", SIMS, section="SIMs"),
    Command("refresh_sims", "ctrl+l", "Refresh SIMs", "Read the SIM inventory again now",
            SIMS, footer=False, section="SIM inventory"),
    # The Endpoint Groups screen (tui/screens/groups.py).
    Command("new_group", "n", "New group", "Create an Endpoint Group", GROUPS,
            role=Role.ADMIN, section="Endpoint Groups", short="New"),
    Command("edit_group", "e", "Edit group",
            "Change the name, description, APN or IP pool of the group under the cursor",
            GROUPS, role=Role.ADMIN, section="Endpoint Groups", short="Edit"),
    Command("delete_group", "delete", "Delete group",
            "Delete the group under the cursor (only when no endpoint is in it)", GROUPS,
            role=Role.ADMIN, dangerous=True, section="Endpoint Groups", key_display="del",
            short="Delete"),
    Command("show_group_endpoints", "f,enter", "Show endpoints",
            "The Endpoints screen, filtered to the group under the cursor", GROUPS,
            section="Endpoint Groups", key_display="f", short="Endpoints"),
    Command("refresh_groups", "ctrl+l", "Refresh groups", "Read the groups again now", GROUPS,
            footer=False, section="Endpoint Groups"),
    # The Audit log screen (tui/screens/audit.py).
    Command("focus_audit_filters", "slash", "Filter",
            "Filter the audit log by endpoint, actor, action, since and until", AUDIT,
            section="Audit log", key_display="/"),
    Command("clear_audit_filters", "ctrl+r", "Clear filters",
            "Show every audit event again", AUDIT, section="Audit log", key_display="^r",
            short="Clear"),
    Command("toggle_audit_detail", "d", "Detail",
            "Show or hide every field of the event under the cursor", AUDIT,
            section="Audit log"),
    Command("open_audit_endpoint", "enter", "Endpoint",
            "Open the endpoint of the event under the cursor", AUDIT, section="Audit log"),
    Command("refresh_audit", "ctrl+l", "Refresh audit", "Read the audit log again now", AUDIT,
            footer=False, section="Audit log"),
    # The Jobs screen (tui/screens/jobs.py).
    Command("resume_job", "R", "Resume job",
            "Carry on the selected interrupted or cancelled job from its last chunk", JOBS,
            role=Role.OPERATOR, section="Jobs", key_display="R"),
    Command("export_job_skipped", "X", "Export skipped",
            "Write the ICCIDs the selected job skipped to a CSV file", JOBS, section="Jobs",
            key_display="X"),
    Command("job_audit", "enter", "Audit events",
            "The Audit log of the events the selected job wrote", JOBS, section="Jobs"),
    Command("refresh_jobs", "ctrl+l", "Refresh", "Read the jobs again now", JOBS,
            footer=False, section="Jobs"),
    # The Settings screen (tui/screens/settings.py).
    Command("toggle_setting", "enter,space", "Change",
            "Turn the selected deployment setting on or off (admins)", SETTINGS,
            role=Role.ADMIN, section="Settings"),
    Command("refresh_settings", "ctrl+l", "Refresh", "Read the settings again now", SETTINGS,
            footer=False, section="Settings"),
    # The filter bar.
    Command("leave_filters", "escape,down", "Back to list", "Leave the filters for the list",
            FILTERS, footer=False, section="Filters", palette=False),
    # Everywhere.
    *(
        Command(f"goto_{mode}", key, title, f"Go to the {title} screen", APP,
                section="Screens", footer=False, action=f"goto('{mode}')")
        for key, mode, title in SCREENS
    ),
    Command("command_line", "colon", "Command line",
            "Type a command: :endpoints :sims :groups :audit :jobs :settings :q, "
            ":export FILE.csv, :sort COLUMN, :save NAME, :view NAME (Tab completes)", APP,
            section="Console", footer=False),
    Command("help", "question_mark,f1", "Keys", "Show every key", APP, key_display="?",
            section="Console"),
    Command("quit", "q", "Quit", "Leave the console", APP, section="Console"),
)

BY_ID: dict[str, Command] = {c.id: c for c in COMMANDS}


def commands(scope: str) -> list[Command]:
    """The commands of one scope, in registry order."""
    return [c for c in COMMANDS if c.scope == scope]


def bindings(scope: str) -> list[BindingType]:
    """The BINDINGS of one scope."""
    return [c.binding() for c in commands(scope)]


def allowed(action: str, actor: Actor | None) -> bool:
    """``check_action``'s answer for a registered action; unknown actions are allowed."""
    command = BY_ID.get(action)
    return command is None or command.allowed(actor)


def sections(actor: Actor | None) -> dict[str, list[Command]]:
    """The commands ``actor`` may run, by help section (for the ``?`` screen)."""
    out: dict[str, list[Command]] = {}
    for c in COMMANDS:
        if c.allowed(actor):
            out.setdefault(c.section, []).append(c)
    return out


class CommandsProvider(Provider):
    """The command palette's commands, from the same registry (what the screen allows)."""

    @property
    def console(self) -> SimdeckApp:
        """The console this palette belongs to."""
        from simdeck.tui.app import SimdeckApp  # the app module imports this one

        app = self.app
        assert isinstance(app, SimdeckApp)
        return app

    def _available(self) -> Iterable[Command]:
        actor = self.console.actor
        scopes = getattr(self.screen, "COMMAND_SCOPES", ())
        screen = self.screen
        for c in COMMANDS:
            if not (c.palette and c.allowed(actor) and (c.scope == APP or c.scope in scopes)):
                continue
            if c.scope != APP and c.scope != LIST and screen.check_action(c.id, ()) is False:
                continue  # what the screen does not offer now (the row's state forbids it)
            yield c

    def _run(self, command: Command) -> None:
        self.console.run_command(command)

    async def discover(self) -> Hits:
        """Every command, when nothing is typed yet."""
        for c in self._available():
            yield DiscoveryHit(c.label, partial(self._run, c), help=self._help(c))

    async def search(self, query: str) -> Hits:
        """Commands whose label or description matches what is typed."""
        matcher = self.matcher(query)
        for c in self._available():
            score = max(matcher.match(c.label), matcher.match(c.description) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(c.label), partial(self._run, c),
                          help=self._help(c))

    def _help(self, command: Command) -> str:
        """The command's key, as the footer and the help write it, then what it does."""
        return f"{self.console.key_display(command)}  ·  {command.description}"
