"""Who is acting, and the role they hold.

On SQLite: the OS account running the process, with the role the ``operator`` table
gives it. On PostgreSQL: the role the connection logged in as (``session_user``), with
the highest of the group roles ``simdeck_viewer`` … ``simdeck_support`` it is a member
of; the server enforces that role (see core/pg.py). A session of the tables' owner (or a
superuser) is trusted as on SQLite: it acts as the OS user, or as any operator it names.
"""

from __future__ import annotations

import json
import os
import pwd
from dataclasses import dataclass

from .db import database, is_sqlite, retrying
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
    if not is_sqlite():
        from . import pg

        if not pg.is_trusted():
            return _login_as_session(user, read_only)
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


def _login_as_session(user: str | None, read_only: bool) -> Actor:
    """PostgreSQL, a session other than the owner's: who the server says it is."""
    from . import pg

    name = pg.session_user()
    if user is not None and user != name:
        raise PermissionDenied(
            f"cannot act as {user}: this connection is the PostgreSQL role {name}, and "
            "on PostgreSQL each operator acts as the role they connect as"
        )
    role = pg.session_role()
    if role is None:
        raise PermissionDenied(grant_hint(name))
    return Actor(name, role, read_only)


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
    found = {
        o.username: {"username": o.username, "role": o.role, "created_by": o.created_by}
        for o in Operator.select().order_by(Operator.username)
    }
    if not is_sqlite():
        from . import pg

        # On PostgreSQL the server's group roles are what counts.
        for name, role in pg.roles_of_members().items():
            entry = found.setdefault(name, {"username": name, "role": "", "created_by": ""})
            entry["role"] = role.value
    return [found[name] for name in sorted(found)]


def _check_name(user: str) -> None:
    if not user or any(c.isspace() or not c.isprintable() for c in user):
        raise InputError(f"user {user!r} is not a valid OS account name")


def add_operator(actor: Actor, user: str, role: str) -> None:
    """Grant ``user`` the ``role`` (or change it); admins only.

    An admin may grant support too: the deployment's own people hold that role, and a
    database has no one above its admins who could grant it instead.
    """
    actor.require(Role.ADMIN, "manage operators")
    new_role = parse_role(role)
    user = user.strip()
    _check_name(user)

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


def grant(actor: Actor, user: str, role: str, *, password: str | None = None) -> None:
    """Give ``user`` the ``role`` (admins only): ``simdeck users add``.

    On PostgreSQL the server's roles do the work: the login role ``user`` is created when
    missing (with ``password`` if given; local peer logins need none) and made a member of
    the group ``simdeck_<role>`` and of no other simdeck group. The ``operator`` table
    keeps the same list for SQLite and for the owner's own sessions.
    """
    if is_sqlite():
        add_operator(actor, user, role)
        return
    from . import pg

    actor.require(Role.ADMIN, "manage operators")
    new_role = parse_role(role)
    _check_name(user.strip())
    try:
        pg.grant(user.strip(), new_role, password=password)
    except pg.NotAllowed as exc:
        raise PermissionDenied(f"cannot grant {user} the {role} role here: {exc}") from None
    add_operator(actor, user, role)


def revoke(actor: Actor, user: str) -> None:
    """Take ``user``'s role away (admins only): ``simdeck users remove``. On PostgreSQL the
    login role stays (it may own other things) but leaves every simdeck group."""
    if is_sqlite():
        remove_operator(actor, user)
        return
    from . import pg

    actor.require(Role.ADMIN, "manage operators")
    if Operator.get_or_none(Operator.username == user) is not None:
        remove_operator(actor, user)
    elif user not in pg.roles_of_members():
        raise NotFound(f"user {user}: not an operator of this database")
    else:
        retrying(lambda: _audit_operator(actor.name, "operator_removed", user, None))
    try:
        pg.revoke(user)
    except pg.NotAllowed as exc:
        raise PermissionDenied(f"cannot revoke {user}'s role here: {exc}") from None


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


__all__ = ["Actor", "NETWORK", "database", "grant", "login", "os_user", "revoke"]
