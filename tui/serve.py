"""``simdeck serve``: the same console in a browser, through textual-serve.

Each browser tab runs its own ``simdeck`` process as the OS user who started the
server, so roles apply exactly as in a terminal, and everyone who reaches the page acts
as that user. So the page and its websocket answer only:

- a browser holding the secret made at this start (``?token=…`` in the address printed
  once, then a cookie), compared in constant time;
- a request whose Host names this server (a web page whose domain was pointed at
  127.0.0.1 is not let in: DNS rebinding) and whose Origin, when a browser sends one, is
  this page's own (the websocket must send one): another site's page gets nothing.

The database URL reaches the sessions through their environment (never their command
line, which every local user can read in ``ps``), and the banner shows it without its
password. The server binds to loopback unless ``allow_remote`` is given.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import logging
import os
import re
import secrets
import shlex
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from simdeck.core.db import describe
from simdeck.core.errors import InputError
from simdeck.core.sanitize import printable

#: What the sessions read: the database (as the command line's ``--db``) and the label
#: their audit events carry (``alice via serve``).
DB_ENV = "SIMDECK_DB"
VIA_ENV = "SIMDECK_VIA"

#: Host names that mean this machine's loopback, whatever port a tunnel forwards from.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "127.0.0.1", "::1"})

#: A Host header as browsers send it (a name or an address, maybe a port); anything
#: else is refused before it is parsed or written into the page.
HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")

FORBIDDEN = (
    "simdeck serve: this address needs the secret printed when the server started "
    "(open the whole address, with ?token=…)."
)


def console_command(read_only: bool) -> str:
    """The command each browser session runs: this Python, the console; no database URL
    (it comes through ``SIMDECK_DB`` in the environment)."""
    parts = [sys.executable, "-m", "simdeck.tui.cli"]
    if read_only:
        parts.append("--read-only")
    return shlex.join(parts)


def session_environment(db_url: str | None) -> dict[str, str]:
    """What a session's environment gains: where the database is, and who it is."""
    env = {VIA_ENV: "serve"}
    if db_url:
        env[DB_ENV] = db_url
    return env


def _unbracket(host: str) -> str:
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _url_host(host: str) -> str:
    """``host`` as it is written in a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` names; an unknown name is an InputError."""
    try:
        infos = socket.getaddrinfo(_unbracket(host), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot serve on {host}: the host name is not known ({reason})") \
            from None
    return sorted({str(info[4][0]).split("%", 1)[0] for info in infos})


def is_loopback(addresses: list[str]) -> bool:
    """True when every address is this machine's loopback (127.0.0.0/8, ::1)."""
    try:
        return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    except ValueError:
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _wildcard(host: str) -> bool:
    return _unbracket(host) in ("", "0.0.0.0", "::")


def remote_warning(host: str, port: int) -> str:
    """What ``--allow-remote`` exposes, said before the server starts."""
    return (
        f"simdeck serve: warning: listening on {host}:{port}, beyond this machine. Anyone "
        "on that network who has the address with its token can take every action this "
        f"account ({_account()}) may take, with its role, as that OS user; the traffic, the "
        "token included, is not encrypted. Prefer 127.0.0.1 with an SSH tunnel "
        f"(ssh -L {port}:127.0.0.1:{port} host) or a TLS proxy in front."
    )


def _account() -> str:
    from simdeck.core.auth import os_user

    return os_user()


class Guard:
    """The checks in front of the page and the websocket: token, Host and Origin."""

    def __init__(self, token: str, host: str, port: int, public_url: str | None = None) -> None:
        self.token = token
        self.port = port
        self.cookie = f"simdeck-serve-{port}"
        bound = _unbracket(host).lower()
        self.loopback_bind = is_loopback([bound]) or bound in LOOPBACK_NAMES
        self.any_ip = _wildcard(host)
        self.names = {bound}
        if self.loopback_bind or self.any_ip:
            self.names |= LOOPBACK_NAMES
        if self.any_ip:
            self.names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        self.public: tuple[str, int, int] | None = None
        self.public_origin: str | None = None
        if public_url:
            parts = urlsplit(public_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InputError(f"public URL {public_url}: give http(s)://host[:port]")
            default = 443 if parts.scheme == "https" else 80
            self.public = (parts.hostname.lower(), parts.port or default, default)
            self.public_origin = f"{parts.scheme}://{parts.netloc.lower()}"

    def host_ok(self, host_header: str | None) -> bool:
        """The Host a browser sent names this server (not a domain rebound to it)."""
        if not host_header or not HOST_HEADER.fullmatch(host_header):
            return False
        found = self._name_port(host_header)
        if not found or not found[0]:
            return False
        name, port = found
        if self._is_public(found):
            return True
        if name in LOOPBACK_NAMES and self.loopback_bind:
            return True  # an SSH tunnel may forward from another local port
        if (port or 80) != self.port:
            return False
        return name in self.names or (self.any_ip and _is_ip(name))

    def origin_ok(self, origin: str | None, host_header: str | None) -> bool:
        """The Origin is the page's own: this server as the browser reached it."""
        if origin is None:
            return False
        origin = origin.lower().rstrip("/")
        if self.public_origin and origin == self.public_origin:
            return True
        return origin == f"http://{(host_header or '').lower()}"

    def base_url(self, host_header: str) -> str:
        """Where the browser reached this server (a Host already checked)."""
        if self.public_origin and self._is_public(self._name_port(host_header)):
            return self.public_origin
        return f"http://{host_header}"

    def _is_public(self, found: tuple[str, int | None] | None) -> bool:
        """The Host is the proxy's address (without a port: its scheme's default)."""
        if not self.public or not found:
            return False
        name, port = found
        return name == self.public[0] and (port or self.public[2]) == self.public[1]

    @staticmethod
    def _name_port(host_header: str) -> tuple[str, int | None] | None:
        parts = urlsplit("//" + host_header)
        try:
            return (parts.hostname or "").lower(), parts.port
        except ValueError:
            return None

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def refusal(self, headers: Any, query_token: str | None, cookie_token: str | None,
                websocket: bool) -> str | None:
        """Why this request is refused, or None when it may pass."""
        host = headers.get("Host")
        if not self.host_ok(host):
            return "simdeck serve: this server does not answer to that host name."
        origin = headers.get("Origin")
        if (websocket or origin is not None) and not self.origin_ok(origin, host):
            return "simdeck serve: requests from another site are refused."
        if not (self.token_ok(query_token) or self.token_ok(cookie_token)):
            return FORBIDDEN
        return None


class _Redact(logging.Filter):
    """Keeps the token out of every log line (the access log shows request lines)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "…"), None
        return True


def make_server(command: str, guard: Guard, *, host: str, port: int,
                banner: Callable[[], None]) -> Any:
    """textual-serve's Server, with ``guard`` in front of its page, websocket and
    downloads (static files stay open: they are textual-serve's own)."""
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web
    from rich.console import Console
    from textual_serve.server import Server

    class GuardedServer(Server):  # type: ignore[misc]
        def initialize_logging(self) -> None:
            # stdout holds one line, the address, for whoever starts the server.
            self.console = Console(stderr=True)
            super().initialize_logging()
            redact = _Redact(guard.token)
            for handler in logging.getLogger().handlers:
                handler.addFilter(redact)

        def _check(self, request: web.Request, websocket: bool) -> None:
            reason = guard.refusal(request.headers, request.query.get("token"),
                                   request.cookies.get(guard.cookie), websocket)
            if reason is not None:
                raise web.HTTPForbidden(text=reason + "\n")

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            self._check(request, websocket=False)
            if "token" in request.query:
                # Into a cookie, out of the address bar, the history and the Referer.
                rest = {k: v for k, v in request.query.items() if k != "token"}
                target = request.rel_url.with_query(rest or None)
                response: web.StreamResponse = web.HTTPFound(str(target))
                response.set_cookie(guard.cookie, guard.token, httponly=True, samesite="Strict",
                                    path="/")
            else:
                response = aiohttp_jinja2.render_template(
                    "app_index.html", request, self._page(request))
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Frame-Options"] = "DENY"
            if isinstance(response, web.HTTPException):
                raise response
            return response

        def _page(self, request: web.Request) -> dict[str, Any]:
            """textual-serve's page, its websocket where the browser already is (an SSH
            tunnel, a proxy), not at the address the server is bound to."""
            base = guard.base_url(request.headers.get("Host", ""))
            ws_base = "wss" + base[5:] if base.startswith("https") else "ws" + base[4:]
            font_size = request.query.get("fontsize", "16")
            return {
                "font_size": int(font_size) if font_size.isdigit() else 16,
                "app_websocket_url": ws_base + "/ws",
                "config": {"static": {"url": base + "/static/"}},
                "application": {"name": self.title},
            }

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            self._check(request, websocket=True)
            result: web.WebSocketResponse = await super().handle_websocket(request)
            return result

        async def handle_download(self, request: web.Request) -> web.StreamResponse:
            self._check(request, websocket=False)
            result: web.StreamResponse = await super().handle_download(request)
            return result

        def serve(self, debug: bool = False) -> None:
            # textual-serve's own serve() announces itself before it binds; this says
            # the address only once the port is listening.
            self.debug = debug
            self.initialize_logging()
            app = web.Application()
            aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
            app.add_routes([
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ])
            web.run_app(app, host=host, port=port, print=lambda *_: banner(),
                        access_log=None)

    return GuardedServer(command, host=host, port=port, title="simdeck")


@contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    """``extra`` in this process's environment (textual-serve hands its environment to
    each session) until the server stops."""
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def page_url(host: str, port: int, token: str) -> str:
    """The address to open: this server, with the token."""
    shown = socket.gethostname() if _wildcard(host) else _unbracket(host)
    return f"http://{_url_host(shown)}:{port}/?token={token}"


def _bind_error(exc: OSError, host: str, port: int) -> InputError:
    where = f"{_url_host(_unbracket(host))}:{port}"
    if exc.errno == errno.EADDRINUSE:
        why = "the port is in use (choose another with --port)"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "this user may not listen on that port (use one above 1023)"
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = "that address is not one of this machine's"
    else:
        why = exc.strerror or str(exc)
    return InputError(f"cannot serve on {where}: {why}")


def serve(db_url: str | None, *, host: str = "127.0.0.1", port: int = 8000,
          read_only: bool = False, allow_remote: bool = False,
          public_url: str | None = None,
          out: Callable[[str], None] | None = None,
          err: Callable[[str], None] | None = None) -> None:
    """Serve the console at http://host:port until interrupted.

    Prints the address with its token (once, on ``out``: stdout) when the server
    listens, and what it serves on ``err`` (stderr). A host that is not loopback is an
    InputError unless ``allow_remote``; an unknown host or a port that cannot be bound is
    an InputError too (exit 2, one line).
    """
    to_out = out or (lambda line: print(line, flush=True))
    to_err = err or (lambda line: print(line, file=sys.stderr, flush=True))

    def say(line: str) -> None:  # the host and the database path came from input
        to_out(printable(line, multiline=True))

    def note(line: str) -> None:
        to_err(printable(line, multiline=True))

    addresses = resolve(host, port)
    if not is_loopback(addresses):
        if not allow_remote:
            raise InputError(
                f"{host} is not a loopback address: simdeck serve listens on this machine "
                "only (127.0.0.1, ::1, localhost) unless --allow-remote is given; prefer an "
                f"SSH tunnel (ssh -L {port}:127.0.0.1:{port} host)"
            )
        note(remote_warning(host, port))
    secret = secrets.token_urlsafe(32)
    guard = Guard(secret, host, port, public_url)
    where = describe(db_url) if db_url else "the default database"

    def banner() -> None:
        mode = ", read-only" if read_only else ""
        note(f"simdeck serve: the console of {where}{mode}, as {_account()}. Open "
             "(the token is the password; Ctrl+C stops the server):")
        say(page_url(host, port, secret))

    server = make_server(console_command(read_only), guard, host=host, port=port,
                         banner=banner)
    try:
        with _environment(session_environment(db_url)):
            server.serve()
    except OSError as exc:
        raise _bind_error(exc, host, port) from None
