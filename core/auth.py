"""Who is acting: the OS account running the process, and the role it holds here."""

from __future__ import annotations

import json
import os
import pwd
from dataclasses import dataclass

from .db import database, retrying
from .errors import InputError, NotFound, PermissionDenied, Refused
from .lifecycle import Role
from .models import AuditEvent, Operator, utcnow

NETWORK = "network"


def os_user() -> str:
    """The login name of the process's real uid (never an environment variable)."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


@dataclass(frozen=True)
class Actor:
    """The operator behind an action, with the role checked by every core function."""

    name: str
    role: Role
    read_only: bool = False

    def can(self, needed: Role) -> bool:
        """True when this actor may do what ``needed`` allows (read-only allows nothing)."""
        return not self.read_only and self.role.allows(needed)

    def require(self, needed: Role, what: str) -> None:
        """Raise PermissionDenied unless this actor may ``what``."""
        if self.read_only and needed is not Role.VIEWER:
            raise PermissionDenied(f"cannot {what}: the database is open read-only")
        if not self.role.allows(needed):
            raise PermissionDenied(
                f"cannot {what}: {self.name} has the {self.role.value} role, "
                f"and this needs {needed.value} or above"
            )


#: Front ends that label the actions of the processes they start (SIMDECK_VIA=serve).
#: Only these values count, and only as a suffix: the name and role stay the OS account's.
VIA_LABELS = frozenset({"serve"})


def via_suffix() -> str:
    """`` via serve`` in a process ``simdeck serve`` started, else empty."""
    via = os.environ.get("SIMDECK_VIA", "")
    return f" via {via}" if via in VIA_LABELS else ""


def grant_hint(user: str) -> str:
    """The sentence that tells an unknown user how to get access."""
    return (
        f"{user} is not an operator of this database. Ask an admin to run: "
        f"simdeck users add {user} --role operator   (roles: viewer, operator, admin, support)"
    )


def login(*, user: str | None = None, read_only: bool = False) -> Actor:
    """The actor for this process; on a database with no operators yet, its creator is admin.

    The actor's name is the account's, with `` via serve`` when a browser session acts,
    so the audit tells the two apart.
    """
    name = user or os_user()
    label = name + via_suffix()
    op = Operator.get_or_none(Operator.username == name)
    if op is None and not read_only and not Operator.select().exists():

        def first_admin() -> Operator:
            if Operator.select().exists():
                return Operator.get_or_none(Operator.username == name)
            made = Operator.create(username=name, role=Role.ADMIN.value, created_by=name)
            _audit_operator(label, "operator_added", name, Role.ADMIN.value)
            return made

        op = retrying(first_admin)
    if op is None:
        raise PermissionDenied(grant_hint(name))
    return Actor(label, Role(op.role), read_only)


def _audit_operator(actor: str, action: str, user: str, role: str | None) -> None:
    AuditEvent.insert(
        at=utcnow(),
        actor=actor,
        action=action,
        detail=json.dumps({"user": user, "role": role}),
    ).execute()


def parse_role(value: str) -> Role:
    """A role by name, or a ValidationError-like InputError listing the roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InputError(f"role {value!r} is not a role; use one of {names}") from None


def list_operators(actor: Actor) -> list[dict[str, str]]:
    """Every operator and role."""
    actor.require(Role.VIEWER, "list operators")
    return [
        {"username": o.username, "role": o.role, "created_by": o.created_by}
        for o in Operator.select().order_by(Operator.username)
    ]


def add_operator(actor: Actor, user: str, role: str) -> None:
    """Grant ``user`` the ``role`` (or change it); admins only.

    An admin may grant support too: the deployment's own people hold that role, and a
    database has no one above its admins who could grant it instead.
    """
    actor.require(Role.ADMIN, "manage operators")
    new_role = parse_role(role)
    user = user.strip()
    if not user or any(c.isspace() or not c.isprintable() for c in user):
        raise InputError(f"user {user!r} is not a valid OS account name")

    def do() -> None:
        existing = Operator.get_or_none(Operator.username == user)
        if existing and not new_role.allows(Role.ADMIN):
            _keep_an_admin(actor, existing, f"give {user} the {new_role.value} role")
        if existing:
            Operator.update(role=new_role.value).where(Operator.username == user).execute()
        else:
            Operator.create(username=user, role=new_role.value, created_by=actor.name)
        _audit_operator(actor.name, "operator_added", user, new_role.value)

    retrying(do)


def _keep_an_admin(actor: Actor, op: Operator, what: str) -> None:
    """Refuse to take the last admin's admin rights away: nobody could manage users then.

    Counted inside the write transaction, so two admins demoting each other at the same
    moment cannot both succeed. The actor is compared by account name: a browser
    session's display name carries `` via serve``.
    """
    admin_roles = [r.value for r in Role if r.allows(Role.ADMIN)]
    if op.role not in admin_roles:
        return
    others = Operator.select().where(
        Operator.role.in_(admin_roles) & (Operator.username != op.username)
    ).count()
    if others:
        return
    who = "you are" if op.username == account_name(actor) else f"{op.username} is"
    raise Refused(
        f"cannot {what}: {who} the last admin of this database, and without one nobody "
        "could manage operators; make another operator admin first"
    )


def account_name(actor: Actor) -> str:
    """The OS account behind ``actor``: its name without a front end's `` via …`` label."""
    for via in VIA_LABELS:
        suffix = f" via {via}"
        if actor.name.endswith(suffix):
            return actor.name[: -len(suffix)]
    return actor.name


def remove_operator(actor: Actor, user: str) -> None:
    """Take away ``user``'s access; the last admin cannot be removed."""
    actor.require(Role.ADMIN, "manage operators")
    op = Operator.get_or_none(Operator.username == user)
    if op is None:
        raise NotFound(f"user {user}: not an operator of this database")

    def do() -> None:
        _keep_an_admin(actor, op, f"remove {user}")
        Operator.delete().where(Operator.username == user).execute()
        _audit_operator(actor.name, "operator_removed", user, None)

    retrying(do)


__all__ = ["Actor", "NETWORK", "database", "login", "os_user"]
