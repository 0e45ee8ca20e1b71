"""The Endpoints screen's forms: edit an endpoint, create one, reinstate one (support).

Each form checks every field with core's own validators (``core.identifiers``) as the
operator types and shows core's message under the field; Save is refused while a field
is wrong. Saving is the screen's business: a form is given an async ``save`` that runs
the core call in a thread worker and returns its result, or raises core's error, which
the form then shows where it belongs (under the field it names, or above the buttons),
staying open with nothing written. Escape cancels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from simdeck.core import identifiers as ids
from simdeck.core.errors import Conflict, InputError, SimdeckError, ValidationError
from simdeck.core.lifecycle import RETENTION_DAYS, State
from simdeck.core.sanitize import printable
from simdeck.tui.format import number, safe
from simdeck.tui.screens.dialogs import SimPicker
from simdeck.tui.widgets.footer import Dialog

#: What an edit form returns when the operator asks to read the endpoint again.
RELOAD = "reload"

#: Checks one field's text; returns its stored form or raises core's ValidationError.
Check = Callable[[str], Any]
#: Runs the core call of a form (in a thread worker); returns its result or raises.
Save = Callable[[dict[str, Any]], Awaitable[Any]]


def _text(field: str) -> Check:
    return lambda value: ids.normalize_text(field, value)


def _optional(check: Callable[[str], str]) -> Check:
    """An optional setting: empty means none, anything else must pass ``check``."""
    return lambda value: check(value) if value.strip() else None


def _ticket(value: str) -> str:
    ticket = ids.normalize_text("ticket", value)
    if not ticket:
        # The same words core uses when it refuses an empty ticket.
        raise ValidationError("ticket", ticket, "is required to reinstate an endpoint")
    return ticket


def _tags_text(tags: list[str]) -> str:
    return ", ".join(tags)


class FormField(Vertical):
    """One labelled input of a form, with core's message under it when it is wrong."""

    def __init__(
        self,
        label: str,
        key: str,
        check: Check,
        *,
        value: str = "",
        placeholder: str = "",
    ) -> None:
        super().__init__(id=f"field-{key}", classes="form-field")
        self.label = label
        self.key = key
        self.check = check
        self.initial = value
        self.placeholder = placeholder
        #: Once left (or saved), the field is checked at every keystroke.
        self.touched = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(self.label, classes="form-label")
            # A stored value is shown (and edited) with its control characters as escapes.
            yield Input(printable(self.initial), placeholder=self.placeholder, compact=True,
                        id=self.key, select_on_focus=False)
        yield Static("", id=f"{self.key}-problem", classes="form-problem", markup=False)

    @property
    def input(self) -> Input:
        """The input."""
        return self.query_one(Input)

    @property
    def problem(self) -> str:
        """The message shown under the field ('' when none)."""
        return str(self.query_one(".form-problem", Static).content)

    def show_problem(self, text: str) -> None:
        """Show ``text`` under the field (empty: the field is fine)."""
        self.query_one(".form-problem", Static).update(printable(text, multiline=True))
        self.set_class(bool(text), "-invalid")

    def value(self) -> Any:
        """The stored form of what is typed (raises core's ValidationError)."""
        return self.check(self.input.value)

    def verify(self) -> bool:
        """Check the field now and show the outcome; True when it is valid."""
        self.touched = True
        try:
            self.value()
        except SimdeckError as exc:
            self.show_problem(exc.message)
            return False
        self.show_problem("")
        return True

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        # Quiet while a field is first typed; once it was left or is wrong, at each key.
        if self.touched or self.problem:
            self.verify()

    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        event.stop()
        if self.screen.is_active:
            self.verify()


class FormFoot(Vertical):
    """The form's message and buttons, docked under the fields."""

    def on_resize(self) -> None:
        # A message above the buttons takes rows from the fields: keep the focused one seen.
        screen = self.screen
        if isinstance(screen, Form):
            screen.call_after_refresh(screen.keep_focus_visible)


class Form(Dialog[Any]):
    """What every form shares: fields, Save/Cancel, core's errors shown in place."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", show=False),
    ]
    #: Where core's errors go: the field named in the message → the field's key.
    FIELD_NAMES: ClassVar[dict[str, str]] = {}
    SAVE_LABEL = "Save"
    DIALOG_ID = "form-dialog"

    def __init__(self, save: Save) -> None:
        super().__init__()
        self.save = save
        self.saving = False

    # --- parts the forms fill in ---------------------------------------------------------

    def title_content(self) -> Content:
        """The dialog's title."""
        return Content("")

    def intro(self) -> str:
        """A line under the title ('' for none)."""
        return ""

    def fields(self) -> ComposeResult:
        """The fields (FormField and other widgets)."""
        yield from ()

    def values(self) -> dict[str, Any] | None:
        """What to save, checked (None: nothing to save)."""
        return {}

    # --- building -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id=self.DIALOG_ID, classes="dialog form-dialog"):
            yield Static(self.title_content(), classes="form-title")
            if self.intro():
                yield Static(printable(self.intro(), multiline=True), classes="form-intro",
                             markup=False)
            yield from self.fields()
            # Docked: on a short terminal the fields scroll, the buttons stay in view.
            with FormFoot(classes="form-foot"):
                yield Static("", id="form-problem", classes="dialog-problem -empty",
                             markup=False)
                with Horizontal(classes="dialog-buttons"):
                    yield Static("Tab next · Enter saves · Esc cancels", classes="form-keys")
                    yield Button("Reload", id="reload", classes="-hidden")
                    yield Button(self.SAVE_LABEL, id="save", variant="primary")
                    yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        first = self.query(Input)
        if first:
            first.first().focus()

    @property
    def form_fields(self) -> list[FormField]:
        """The checked fields, in order."""
        return list(self.query(FormField))

    def field(self, key: str) -> FormField:
        """One field by its key."""
        return self.query_one(f"#field-{key}", FormField)

    @property
    def problem(self) -> str:
        """The form's own message ('' when none)."""
        return str(self.query_one("#form-problem", Static).content)

    def show_problem(self, text: str) -> None:
        """Show the form's own message, above the buttons."""
        shown = self.query_one("#form-problem", Static)
        shown.update(printable(text, multiline=True))
        shown.set_class(not text, "-empty")

    # --- saving -------------------------------------------------------------------------

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Check every field, then save through the screen (nothing while one is wrong)."""
        if self.saving:
            return
        wrong = [f for f in self.form_fields if not f.verify()]
        if wrong:
            self.show_problem(
                f"{len(wrong)} field{'s are' if len(wrong) != 1 else ' is'} not valid "
                f"(see the message under {'each' if len(wrong) != 1 else 'it'}); "
                "nothing was saved."
            )
            self.point_at(wrong[0])
            return
        try:
            values = self.values()
        except SimdeckError as exc:
            self.show_problem(exc.message)
            return
        if values is None:
            self.notify("Nothing was changed, so nothing was saved.", title="Edit endpoint")
            self.dismiss(None)
            return
        self.show_problem("")
        self._save(values)

    @work(exclusive=True, group="form-save")
    async def _save(self, values: dict[str, Any]) -> None:
        self.saving = True
        button = self.query_one("#save", Button)
        button.disabled = True
        try:
            result = await self.save(values)
        except Conflict as exc:
            self.conflict(exc)
            return
        except SimdeckError as exc:
            self.refused(exc)
            return
        finally:
            self.saving = False
            button.disabled = False
        self.dismiss(result)

    def refused(self, error: SimdeckError) -> None:
        """Show core's refusal under the field it names, or above the buttons."""
        key = self.field_of(error)
        if key is not None:
            field = self.field(key)
            field.show_problem(error.message)
            self.show_problem("Nothing was saved.")
            self.point_at(field)
        else:
            self.show_problem(f"{error.message}. Nothing was saved."
                              if not error.message.endswith(".") else error.message)

    def point_at(self, field: FormField) -> None:
        """Focus ``field`` and scroll it, message included, into view."""
        field.input.focus(scroll_visible=False)
        # After the foot has grown by the form's message, or the field would hide again.
        self.call_after_refresh(field.scroll_visible, animate=False, immediate=True)

    def keep_focus_visible(self) -> None:
        """Scroll the field that has the focus (with its message) into view."""
        for node in self.focused.ancestors_with_self if self.focused else []:
            if isinstance(node, FormField):
                node.scroll_visible(animate=False, immediate=True)
                return

    def conflict(self, error: Conflict) -> None:
        """Someone else changed it meanwhile: say so, nothing was written."""
        self.refused(error)

    def field_of(self, error: SimdeckError) -> str | None:
        """The key of the field core's error is about (None: the form as a whole)."""
        name = error.field if isinstance(error, ValidationError) else error.message.split(" ")[0]
        return self.FIELD_NAMES.get(name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close; nothing is written (not while a save is under way: its outcome is shown)."""
        if self.saving:
            return
        self.dismiss(None)


class EditEndpointForm(Form):
    """Edit endpoint: name, tags, reference, static IP, IMEI lock, checked as typed."""

    FIELD_NAMES: ClassVar = {"name": "name", "reference": "reference", "tag": "tags",
                             "static IP": "static_ip", "IMEI": "imei_lock"}
    DIALOG_ID = "edit-dialog"

    def __init__(self, view: Any, save: Save) -> None:
        super().__init__(save)
        self.view = view

    def title_content(self) -> Content:
        who = self.view.name or self.view.iccid or f"endpoint {self.view.id}"
        return Content.assemble(("Edit endpoint ", "bold"), (printable(who), "bold $accent"))

    def intro(self) -> str:
        parts = [State(self.view.state).label]
        parts.append(f"ICCID {self.view.iccid}" if self.view.iccid else "no SIM")
        group = self.view.group_config or {}
        parts.append(f"group {group['name']}" if group else "no Endpoint Group")
        if group.get("ip_pool"):
            parts.append(f"IP pool {group['ip_pool']}")
        return " · ".join(parts)

    def fields(self) -> ComposeResult:
        v = self.view
        yield FormField("Name", "name", _text("name"), value=v.name)
        yield FormField("Tags", "tags", ids.normalize_tags, value=_tags_text(v.tags),
                        placeholder="comma-separated, e.g. fleet-a, eu")
        yield FormField("Reference", "reference", _text("reference"), value=v.reference)
        yield FormField("Static IP", "static_ip", _optional(ids.normalize_ip),
                        value=v.static_ip or "", placeholder="none (IPv4 or IPv6)")
        yield FormField("IMEI lock", "imei_lock", _optional(ids.normalize_imei),
                        value=v.imei_lock or "", placeholder="none (15 digits)")

    def values(self) -> dict[str, Any] | None:
        """Only what changed, in core's stored form (None when nothing did)."""
        v = self.view
        # As the fields showed them: a value left as it was is not a change.
        before = {"name": printable(v.name), "tags": sorted(printable(t) for t in v.tags),
                  "reference": printable(v.reference),
                  "static_ip": v.static_ip, "imei_lock": v.imei_lock}
        changes = {}
        for field in self.form_fields:
            value = field.value()
            if value != before[field.key]:
                changes[field.key] = value
        return changes or None

    def conflict(self, error: Conflict) -> None:
        """Say so, and offer to read the endpoint as it is now (what was typed is dropped)."""
        self.show_problem(f"{error.message}. Reload reads it as it is now; what you typed "
                          "here is dropped.")
        self.query_one("#reload", Button).remove_class("-hidden")
        # Three buttons leave no room for the key hint on a narrow terminal.
        self.query_one(".form-keys", Static).display = False
        self.query_one("#reload", Button).focus()

    @on(Button.Pressed, "#reload")
    def _reload(self) -> None:
        self.dismiss(RELOAD)


#: Why the New endpoint form creates nothing when it is empty.
NOTHING_TO_IDENTIFY = ("Give a name, a reference or a SIM: an endpoint with none of them "
                       "could only be found by its internal id. Nothing was created.")


class NewEndpointForm(Form):
    """New endpoint: name, Endpoint Group, tags, reference, Activate Immediately, a SIM."""

    FIELD_NAMES: ClassVar = {"name": "name", "reference": "reference", "tag": "tags",
                             "ICCID": "sim"}
    SAVE_LABEL = "Create"
    DIALOG_ID = "new-dialog"

    def __init__(self, groups: list[dict[str, Any]], save: Save) -> None:
        super().__init__(save)
        self.groups = groups

    def title_content(self) -> Content:
        return Content.styled("New endpoint", "bold")

    def intro(self) -> str:
        return ("Without a SIM it starts in Hold. With one: no group → Pending; a group "
                "→ Active, or Pre-Active when not activated immediately.")

    def fields(self) -> ComposeResult:
        yield FormField("Name", "name", _text("name"))
        with Horizontal(classes="form-row", id="field-group"):
            yield Label("Endpoint Group", classes="form-label")
            yield Select(
                [("no group", "")]
                + [(safe(f"{g['name']}  ({number(g['endpoints'])} endpoints)"), g["name"])
                   for g in self.groups],
                allow_blank=False, value="", compact=True, id="group",
            )
        yield FormField("Tags", "tags", ids.normalize_tags,
                        placeholder="comma-separated, e.g. fleet-a, eu")
        yield FormField("Reference", "reference", _text("reference"))
        with Horizontal(classes="form-row", id="field-activate"):
            yield Label("", classes="form-label")
            yield Checkbox("Activate Immediately", True, compact=True, id="activate")
        with Horizontal(classes="form-sim"):
            yield FormField("SIM (ICCID)", "sim", _optional(ids.normalize_iccid),
                            placeholder="optional; Ready to Activate only")
            yield Button("Choose SIM…", id="choose-sim", compact=True)

    def values(self) -> dict[str, Any]:
        """The new endpoint, in core's stored form."""
        group = self.query_one("#group", Select).value
        out = {
            "name": self.field("name").value(),
            "group": group if isinstance(group, str) and group else None,
            "tags": self.field("tags").value(),
            "reference": self.field("reference").value(),
            "activate_immediately": self.query_one("#activate", Checkbox).value,
            "sim": self.field("sim").value(),
        }
        if not (out["name"] or out["reference"] or out["sim"]):
            # Decided: a stray Enter on an empty form creates nothing. An endpoint with no
            # name, reference or SIM could be found again only by its internal id.
            self.point_at(self.field("name"))
            raise InputError(NOTHING_TO_IDENTIFY)
        return out

    @on(Button.Pressed, "#choose-sim")
    def _choose_sim(self) -> None:
        name = self.field("name").input.value.strip() or "the new endpoint"

        def chosen(iccid: str | None) -> None:
            if iccid:
                field = self.field("sim")
                field.input.value = iccid
                field.verify()
                self.query_one("#save", Button).focus()

        self.app.push_screen(SimPicker(name), chosen)

    def field_of(self, error: SimdeckError) -> str | None:
        if error.message.startswith("group "):
            # Deleted meanwhile: the Select shows what was read when the form opened.
            return None
        return super().field_of(error)


class ReinstateForm(Form):
    """Reinstate (support): the ticket reference, and what the endpoint returns to."""

    FIELD_NAMES: ClassVar = {"ticket": "ticket"}
    SAVE_LABEL = "Reinstate"
    DIALOG_ID = "reinstate-dialog"

    def __init__(self, view: Any, save: Save) -> None:
        super().__init__(save)
        self.view = view

    def title_content(self) -> Content:
        who = self.view.name or self.view.iccid or f"endpoint {self.view.id}"
        return Content.assemble(("Reinstate ", "bold"), (printable(who), "bold $accent"))

    def intro(self) -> str:
        before = self.view.state_before_termination
        state = f" ({State(before).label})" if before else ""
        sim = f"SIM {self.view.iccid}" if self.view.iccid else "its SIM, if it had one"
        when = (self.view.terminated_at or "")[:10]
        return (
            f"Terminated{' on ' + when if when else ''}. Reinstating returns the endpoint to "
            f"the state it had before termination{state}, {sim} included. Only within "
            f"{RETENTION_DAYS} days of termination; the ticket is kept in the audit trail."
        )

    def fields(self) -> ComposeResult:
        yield FormField("Support ticket", "ticket", _ticket, placeholder="required, e.g. SUP-1234")

    def values(self) -> dict[str, Any]:
        """The ticket."""
        return {"ticket": self.field("ticket").value()}
