"""The Endpoint Groups screen: every group, its network configuration and its endpoints.

Admins create, edit and delete groups here (core checks the role again and refuses a
group that endpoints still use, in its own words). Every operator can jump from a group
to the Endpoints screen filtered to it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, DataTable, Input, Label, Static

from simdeck.core import identifiers, offers, queries, records
from simdeck.core.errors import SimdeckError, ValidationError
from simdeck.core.queries import Filter
from simdeck.core.sanitize import printable
from simdeck.tui import keys
from simdeck.tui.format import number, plural, safe
from simdeck.tui.screens.base import BaseScreen
from simdeck.tui.screens.dialogs import ConfirmScreen
from simdeck.tui.widgets.footer import Dialog, KeyFooter
from simdeck.tui.widgets.list_keys import KeyedTable
from simdeck.tui.widgets.status import TopBar

#: The form's fields: (key, label, placeholder).
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "Name", "lower case, e.g. vantiq-connect-eu"),
    ("description", "Description", "what the group is for (optional)"),
    ("apn", "APN", "e.g. iot.vantiq.eu (optional)"),
    ("ip_pool", "Static-IP pool", "CIDR, e.g. 10.20.0.0/16 (optional)"),
)

#: Which form field each field name of core's ValidationError belongs to.
FIELD_OF: dict[str, str] = {
    "group name": "name",
    "description": "description",
    "APN": "apn",
    "IP pool": "ip_pool",
}


def check_field(key: str, value: str, taken: frozenset[str] = frozenset()) -> str | None:
    """Why ``value`` is not valid for field ``key`` (core's words), or None."""
    try:
        if key == "name":
            name = identifiers.normalize_group_name(value)
            if name in taken:
                raise ValidationError("group name", name, "is already taken")
        elif key == "description":
            identifiers.normalize_text("description", value, 256)
        elif key == "apn":
            identifiers.normalize_text("APN", value, 100)
        elif key == "ip_pool" and value.strip():
            identifiers.normalize_ip_pool(value)
    except SimdeckError as exc:
        return exc.message
    return None


class GroupForm(Dialog["dict[str, str] | None"]):
    """Create or edit an Endpoint Group; each field says under it what is wrong with it."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        values: dict[str, str] | None = None,
        *,
        taken: frozenset[str] = frozenset(),
        errors: dict[str, str] | None = None,
        save: str = "Save",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.values = dict(values or {})
        self.taken = taken
        self.errors = dict(errors or {})
        self.save_label = save

    def compose(self) -> ComposeResult:
        with Vertical(id="group-form", classes="dialog"):
            yield Static(safe(self.title_text, "bold"), id="group-form-title")
            for key, label, placeholder in FIELDS:
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label")
                    yield Input(self.values.get(key, ""), placeholder=placeholder,
                                id=f"gf-{key}", compact=True)
                yield Static(printable(self.errors.get(key, "")), id=f"gf-{key}-problem",
                             classes="field-problem", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.save_label, id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        for key, _, _ in FIELDS:
            self._show(key, self.errors.get(key))
        first = next((k for k, _, _ in FIELDS if self.errors.get(k)), "name")
        self.query_one(f"#gf-{first}", Input).focus()

    def _show(self, key: str, problem: str | None) -> None:
        box = self.query_one(f"#gf-{key}-problem", Static)
        box.update(printable(problem))
        box.set_class(bool(problem), "-shown")
        self.query_one(f"#gf-{key}", Input).set_class(bool(problem), "-invalid")

    def problem(self, key: str) -> str:
        """The message under field ``key`` ('' when none; tests read it)."""
        return str(self.query_one(f"#gf-{key}-problem", Static).render())

    def value(self, key: str) -> str:
        """What field ``key`` holds."""
        return self.query_one(f"#gf-{key}", Input).value

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "")[3:]
        if key in self.errors and event.value == self.values.get(key):
            # Still the value core refused (the form opening with it): its words stay.
            return
        if self.query_one(f"#gf-{key}-problem", Static).has_class("-shown"):
            # Once a field was refused, say as soon as it is right (or still wrong).
            self._show(key, check_field(key, event.value, self.taken))

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        values = {key: self.value(key) for key, _, _ in FIELDS}
        problems = {key: check_field(key, values[key], self.taken) for key in values}
        for key, problem in problems.items():
            self._show(key, problem)
        wrong = [key for key, problem in problems.items() if problem]
        if wrong:
            self.query_one(f"#gf-{wrong[0]}", Input).focus()
            return
        self.dismiss({key: value.strip() for key, value in values.items()})

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Nothing saved."""
        self.dismiss(None)


#: The commands that act on the group under the cursor.
ON_A_GROUP = frozenset({"edit_group", "delete_group", "show_group_endpoints"})


class GroupsScreen(BaseScreen):
    """Endpoint Groups: name, description, APN, static-IP pool and how many endpoints."""

    TITLE_TEXT = "Groups"
    AUTO_FOCUS = "#groups-table"
    BINDINGS: ClassVar = keys.bindings(keys.GROUPS)
    COMMAND_SCOPES: ClassVar = (keys.GROUPS,)

    def __init__(self) -> None:
        super().__init__()
        self._loaded = False
        #: The group the cursor goes to at the next read (one just created or renamed).
        self._want: str | None = None
        #: The groups as last read, in name order.
        self.groups: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Static("Reading the Endpoint Groups…", id="groups-summary")
        table: DataTable[Any] = KeyedTable(id="groups-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="groups-hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_top()
        self.composed()

    def begin(self) -> None:
        """The database is open and the operator known: read the groups."""
        self.show_top()
        self._show_hint()
        self._load()

    def refresh_data(self) -> None:
        """Someone changed something: read the groups again, the cursor kept on its group."""
        if self._started:
            self._load()

    def on_resize(self) -> None:
        self.show_top()
        if self._loaded:
            self._fill()

    # --- reading ----------------------------------------------------------------------

    def _load(self) -> None:
        self.read_and_show(queries.groups_with_counts, self._show)

    def _show(self, groups: list[dict[str, Any]]) -> None:
        self.groups = groups
        self._loaded = True
        self._fill()

    @property
    def table(self) -> DataTable[Any]:
        """The table of groups."""
        return self.query_one("#groups-table", DataTable)

    def _widths(self) -> tuple[int, int, int, int]:
        """Name, description, APN and pool widths that fit the screen's width."""
        def widest(key: str, least: int, most: int) -> int:
            return max(least, min(most, max((len(g[key] or "") for g in self.groups),
                                            default=least)))

        widths = {"name": widest("name", 8, 28), "description": widest("description", 11, 200),
                  "apn": widest("apn", 6, 24), "ip_pool": widest("ip_pool", 14, 20)}
        # Each of the five columns has a cell of padding either side; the count is 9 wide.
        room = self.size.width - 2 - 9 - 5 * 2
        # Too wide: the description gives way first, then the APN, then the name.
        for key, least in (("description", 11), ("apn", 10), ("name", 12)):
            over = sum(widths.values()) - room
            if over > 0:
                widths[key] = max(least, widths[key] - over)
        spare = room - sum(widths.values())
        if spare > 0:
            widths["description"] += spare
        return widths["name"], widths["description"], widths["apn"], widths["ip_pool"]

    def _fill(self) -> None:
        table = self.table
        current = self.current_group()
        keep = self._want or (current["name"] if current else None)
        self._want = None
        name_w, desc_w, apn_w, pool_w = self._widths()
        table.clear(columns=True)
        table.add_column("Name", width=name_w, key="name")
        table.add_column("Description", width=desc_w, key="description")
        table.add_column("APN", width=apn_w, key="apn")
        table.add_column("Static-IP pool", width=pool_w, key="ip_pool")
        table.add_column("Endpoints", width=9, key="endpoints")
        for g in self.groups:
            count = g["endpoints"]
            table.add_row(
                safe(g["name"], "bold"),
                safe(_cut(printable(g["description"] or "—"), desc_w)),
                safe(_cut(printable(g["apn"]), apn_w)) if g["apn"] else
                Content.styled("—", "$foreground-muted"),
                safe(g["ip_pool"]) if g["ip_pool"] else Content.styled("none", "$foreground-muted"),
                Content(number(count).rjust(9)) if count else
                Content.styled("0".rjust(9), "$foreground-muted"),
                key=g["name"],
            )
        if keep is not None:
            for index, g in enumerate(self.groups):
                if g["name"] == keep:
                    table.move_cursor(row=index, animate=False)
                    break
        total = sum(g["endpoints"] for g in self.groups)
        summary = self.query_one("#groups-summary", Static)
        if self.groups:
            summary.update(Content.assemble(
                (plural(len(self.groups), "Endpoint Group"), "bold"),
                ("  ·  ", "$foreground-muted"),
                (f"{plural(total, 'live endpoint')} in groups", ""),
            ))
        else:
            summary.update(Content.styled("No Endpoint Group yet.", "bold"))
        self.refresh_bindings()

    def _show_hint(self) -> None:
        actor = self.actor
        if actor is not None and keys.BY_ID["new_group"].allowed(actor):
            text = "Del deletes a group no endpoint uses · Enter or f shows a group's endpoints"
        else:
            text = "Enter or f shows a group's endpoints · admins create, edit and delete groups"
        self.query_one("#groups-hint", Static).update(Content.styled(text, "$foreground-muted"))

    def on_key(self, event: Any) -> None:
        # Delete is not offered on a group that endpoints still hold; pressed anyway, it
        # says why rather than nothing (and asks nothing that must fail).
        if event.key == "delete" and self.check_action("delete_group", ()) is False:
            why = self.why_not("delete_group")
            if why:
                event.stop()
                self.notify(why, title="Delete group", severity="warning", timeout=8)

    @on(DataTable.RowHighlighted, "#groups-table")
    def _group_highlighted(self) -> None:
        # Delete is offered on an empty group only: the footer follows the cursor.
        self.refresh_bindings()

    def current_group(self) -> dict[str, Any] | None:
        """The group under the cursor (None when there is none)."""
        if not self.groups or not self.is_mounted:
            return None
        row = self.table.cursor_row
        if 0 <= row < len(self.groups):
            return self.groups[row]
        return None

    def watch_problem(self, text: str | None) -> None:
        if text is not None and self.is_mounted:
            self.query_one("#groups-summary", Static).update(
                Content.styled(f"✗ {text}", "$text-error"))

    # --- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not keys.allowed(action, self.actor):
            return False
        if action in ON_A_GROUP and self.current_group() is None:
            return None  # shown, dimmed: there is no group to act on yet
        if action == "delete_group":
            # Core's rule: only a group no endpoint holds (terminated ones included).
            return offers.delete_group(self.actor, self.current_group())
        return True

    def why_not(self, action: str) -> str | None:
        group = self.current_group()
        if action == "delete_group" and group is not None and group.get("all_endpoints"):
            return (f"Endpoint Group {group['name']} still has "
                    f"{plural(group['all_endpoints'], 'endpoint')} (terminated ones "
                    "included): assign them to another group first")
        return None

    def action_refresh_groups(self) -> None:
        """Read the groups again now."""
        self.refresh_data()

    def action_new_group(self) -> None:
        """Create an Endpoint Group (admins)."""
        self._form(None)

    def action_edit_group(self) -> None:
        """Edit the group under the cursor (admins)."""
        group = self.current_group()
        if group is None:
            self.notify("No Endpoint Group under the cursor", severity="warning")
            return
        self._form(group)

    def action_delete_group(self) -> None:
        """Delete the group under the cursor, after a Yes (admins; only an empty group)."""
        group = self.current_group()
        if group is None:
            self.notify("No Endpoint Group under the cursor", severity="warning")
            return
        self._delete(group)

    @on(DataTable.RowSelected, "#groups-table")
    def _row_chosen(self) -> None:
        self.action_show_group_endpoints()

    def action_show_group_endpoints(self) -> None:
        """The Endpoints screen, filtered to the group under the cursor."""
        group = self.current_group()
        if group is None:
            return
        from simdeck.tui.screens.endpoints import EndpointsScreen
        from simdeck.tui.widgets.filter_bar import FilterBar

        name = group["name"]
        for screen in self.app.all_screens():
            if isinstance(screen, EndpointsScreen):
                # The bar shows the group too, so the next change made there keeps it.
                screen.query_one(FilterBar).show_group(name, [g["name"] for g in self.groups])
                screen.set_filter(Filter(group=name))
        self.app.action_goto("endpoints")

    # --- create and edit ----------------------------------------------------------------

    @work(exclusive=True, group="dialog")
    async def _form(
        self,
        group: dict[str, Any] | None,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        if group is None:
            title, save = "New Endpoint Group", "Create"
            taken = frozenset(g["name"] for g in self.groups)
        else:
            title, save = f"Edit Endpoint Group {group['name']}", "Save"
            taken = frozenset(g["name"] for g in self.groups if g["name"] != group["name"])
            if values is None:
                values = {key: printable(group.get(key)) for key, _, _ in FIELDS}
        result = await self.app.push_screen_wait(
            GroupForm(title, values, taken=taken, errors=errors, save=save)
        )
        if result is None:
            return
        if group is not None:
            changes = {
                key: value for key, value in result.items()
                if value != printable(group.get(key))
            }
            if not changes:
                self.notify(f"Nothing changed in {group['name']}", title="Edit group")
                return
        await self._write_group(group["name"] if group else None, result, group)

    async def _write_group(
        self, original: str | None, values: dict[str, str], group: dict[str, Any] | None
    ) -> None:
        title = "New group" if original is None else "Edit group"

        def write() -> dict[str, Any]:
            actor = self.acting()
            if original is None:
                return records.create_group(
                    actor, values["name"], description=values["description"],
                    apn=values["apn"], ip_pool=values["ip_pool"] or None,
                )
            old = group or {}
            changed = {k: v for k, v in values.items() if v != printable(old.get(k))}
            kw: dict[str, Any] = {}
            if "name" in changed:
                kw["new_name"] = changed["name"]
            if "description" in changed:
                kw["description"] = changed["description"]
            if "apn" in changed:
                kw["apn"] = changed["apn"]
            if "ip_pool" in changed:
                kw["ip_pool"] = changed["ip_pool"] or None
            return records.edit_group(actor, original, **kw)

        try:
            done = await self.write(write)
        except ValidationError as exc:
            field = FIELD_OF.get(exc.field)
            if field is not None:
                # Back to the form, core's message under the field it is about.
                self.call_later(self._form, group, values, {field: exc.message})
            else:
                self.refused(title, exc)
            return
        except SimdeckError as exc:
            self._refused_and_reload(title, exc)
            return
        verb = "created" if original is None else "saved"
        self._written(title, f"Endpoint Group {done['name']} {verb}", done["name"])

    def _written(self, title: str, text: str, name: str) -> None:
        self.notify(text, title=title, timeout=6)
        self._want = name
        self.refresh_data()

    def _refused_and_reload(self, title: str, error: SimdeckError) -> None:
        self.refused(title, error)
        self.refresh_data()

    # --- delete -------------------------------------------------------------------------

    @work(exclusive=True, group="dialog")
    async def _delete(self, group: dict[str, Any]) -> None:
        name = group["name"]
        if not offers.delete_group(self.actor, group):
            # Not offered (the key is not in the footer); asked anyway: say why, no Yes.
            self.notify(self.why_not("delete_group") or "Only admins delete groups",
                        title="Delete group", severity="warning", timeout=8)
            return
        lines = [f"{name}: {group['description']}" if group["description"] else name]
        lines.append("No endpoint uses it. The audit trail keeps a group_deleted event.")
        confirmed = await self.app.push_screen_wait(
            ConfirmScreen(f"Delete Endpoint Group {name}?", lines, dangerous=True)
        )
        if not confirmed:
            return
        try:
            actor = self.acting()
            await self.write(lambda: records.delete_group(actor, name))
        except SimdeckError as exc:
            self._refused_and_reload("Delete group", exc)
            return
        self._deleted(name)

    def _deleted(self, name: str) -> None:
        self.notify(f"Endpoint Group {name} deleted", title="Delete group", timeout=6)
        self.refresh_data()


def _cut(text: str, width: int) -> str:
    """``text`` in ``width`` cells, with an ellipsis when cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
