"""``simdeck serve``: the console in a browser through textual-serve, on loopback, behind
a token made at each start, with Host and Origin checked."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from simdeck.core import auth, db, models
from simdeck.core.models import AuditEvent, Endpoint

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "simdeck.tui.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running ``simdeck serve``: its process, its address with the token, its database."""

    proc: subprocess.Popen[str]
    url: str  # http://127.0.0.1:PORT/?token=…
    db: str
    stderr: queue.Queue[str]

    @property
    def base(self) -> str:
        return self.url.split("/?", 1)[0]

    @property
    def token(self) -> str:
        return self.url.split("token=", 1)[1]

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def start(args: list[str], env: dict[str, str], db_path: str, timeout: float = 20) -> Served:
    """Start a server and wait for the one line it prints on stdout: its address."""
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, out), daemon=True).start()
    threading.Thread(target=_lines, args=(proc.stderr, err), daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = out.get(timeout=0.2).strip()
        except queue.Empty:
            assert proc.poll() is None, "".join(err.queue)
            continue
        if line.startswith("http://"):
            return Served(proc, line, db_path, err)
    proc.kill()
    raise AssertionError("the server printed no address: " + "".join(err.queue))


def stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.proc.kill()


def make_db(tmp_path: Path) -> str:
    path = str(tmp_path / "serve.db")
    db.open_database(path)
    models.create_schema()
    auth.login()  # the OS user running the tests becomes its admin
    db.database.close()
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    path = make_db(tmp_path)
    port = _free_port()
    # The database only in the environment, as a password-holding URL would be given.
    served = start([*CLI, "serve", "--port", str(port)], {"SIMDECK_DB": path}, path)
    try:
        yield served
    finally:
        stop(served)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the shell textual-serve starts, and simdeck under it)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def _proc_file(pid: int, name: str) -> str:
    try:
        return (Path("/proc") / str(pid) / name).read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    """Status, body and headers of a GET that does not follow redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


async def _handshake(url: str, headers: dict[str, str]) -> int:
    """The status a websocket handshake gets (101 when it opened)."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers=headers):
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def handshake(url: str, headers: dict[str, str]) -> int:
    return asyncio.run(_handshake(url, headers))


# --- the page -------------------------------------------------------------------------


def test_the_page_needs_the_token_then_keeps_it_in_a_cookie(server: Served) -> None:
    status, body, _ = get(server.base + "/")
    assert status == 403 and "token" in body
    assert get(server.base + "/?token=wrong" + server.token[6:])[0] == 403

    status, _, headers = get(server.url)
    assert status == 302 and headers["Location"] == "/"  # the token leaves the address bar
    cookie = headers["Set-Cookie"]
    assert server.token in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie

    status, html, headers = get(server.base + "/", {"Cookie": cookie.split(";", 1)[0]})
    assert status == 200 and "simdeck" in html
    assert f"ws://{server.base.removeprefix('http://')}/ws" in html
    assert server.token not in html
    assert headers["Referrer-Policy"] == "no-referrer"
    assert get(server.base + "/", {"Origin": "http://\u00e9vil.example"})[0] == 403
    stop(server)
    assert server.token not in "".join(server.stderr.queue)  # nor in any log line


def test_the_page_refuses_a_host_name_that_is_not_the_server(server: Served) -> None:
    # A page on evil.example whose name was rebound to 127.0.0.1 sends its own Host.
    port = server.base.rsplit(":", 1)[1]
    status, body, _ = get(server.url, {"Host": f"evil.example:{port}"})
    assert status == 403 and "host name" in body


# --- the websocket --------------------------------------------------------------------


def test_a_websocket_without_the_token_is_refused_and_starts_nothing(server: Served) -> None:
    own = {"Origin": server.base}
    assert handshake(server.ws, own) == 403
    assert handshake(server.ws + "?token=" + "x" * len(server.token), own) == 403
    assert descendants(server.proc.pid) == []


def test_a_websocket_from_another_site_is_refused(server: Served) -> None:
    with_token = server.ws + "?token=" + server.token
    assert handshake(with_token, {"Origin": "http://evil.example"}) == 403
    port = server.base.rsplit(":", 1)[1]
    assert handshake(with_token, {"Origin": f"http://127.0.0.1:{int(port) + 1}"}) == 403
    assert handshake(with_token, {}) == 403  # a browser always sends its Origin
    assert descendants(server.proc.pid) == []


def test_a_websocket_with_a_rebound_host_name_is_refused(server: Served) -> None:
    port = server.base.rsplit(":", 1)[1]
    evil = f"evil.example:{port}"
    status = handshake(server.ws + "?token=" + server.token,
                       {"Host": evil, "Origin": f"http://{evil}"})
    assert status == 403
    assert descendants(server.proc.pid) == []


async def _session(served: Served, keys: list[tuple[str, str]] | None = None,
                   seen_in: list[str] | None = None) -> str:
    """Open the console through the websocket as the page does (cookie, own Origin),
    wait for the Endpoints screen, then type each key and wait for the text it brings;
    returns what the console wrote last."""
    cookie = {f"simdeck-serve-{served.base.rsplit(':', 1)[1]}": served.token}
    seen = b""
    async with aiohttp.ClientSession(cookies=cookie) as session, session.ws_connect(
        served.ws + "?width=120&height=36", headers={"Origin": served.base}
    ) as ws:
        todo = [("", "Endpoints"), *(keys or [])]
        deadline = time.monotonic() + 60
        while todo and time.monotonic() < deadline:
            send, wait = todo[0]
            if send:
                await ws.send_str(json.dumps(["stdin", send]))
                todo[0] = ("", wait)
                seen = b""  # what comes next answers this key
            if wait.encode() in seen:
                todo.pop(0)
                if seen_in is not None:
                    seen_in.append(" ".join(_proc_file(p, "cmdline")
                                            for p in descendants(served.proc.pid)))
                continue
            try:
                msg = await ws.receive(timeout=2)
            except TimeoutError:
                continue
            if msg.type == aiohttp.WSMsgType.BINARY:
                seen += msg.data
            elif msg.type == aiohttp.WSMsgType.TEXT:
                seen += msg.data.encode()
            elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
        assert not todo, f"still waiting for {todo[0][1]!r}: {seen.decode(errors='replace')}"
    return seen.decode("utf-8", "replace")


def test_the_console_runs_behind_the_websocket_without_the_database_on_its_command_line(
    server: Served,
) -> None:
    lines: list[str] = []
    text = asyncio.run(_session(server, seen_in=lines))
    assert "Traceback" not in text
    (cmdlines,) = lines
    assert "Endpoints" in text or cmdlines
    assert "simdeck.tui.cli" in cmdlines  # the session was running when it was read
    assert server.db not in cmdlines and "serve.db" not in cmdlines
    assert server.token not in cmdlines


def test_an_endpoint_created_in_the_browser_is_audited_as_the_user_via_serve(
    server: Served,
) -> None:
    ctrl_s = "\x13"  # saves the form
    keys = [("n", "New endpoint"), ("web-made-1", "web-made-1"), (ctrl_s, "Created")]
    asyncio.run(_session(server, keys))
    db.open_database(server.db)
    try:
        deadline = time.monotonic() + 15
        while not Endpoint.select().where(Endpoint.name == "web-made-1").exists():
            assert time.monotonic() < deadline, "the endpoint was not created"
            time.sleep(0.2)
        ep = Endpoint.get(Endpoint.name == "web-made-1")
        (event,) = AuditEvent.select().where(AuditEvent.endpoint_id == ep.id,
                                             AuditEvent.action == "created")
        assert event.actor == f"{auth.os_user()} via serve"
    finally:
        db.database.close()


# --- the addresses it listens on ------------------------------------------------------


def test_serve_binds_to_loopback_by_default() -> None:
    from simdeck.tui.serve import console_command, session_environment

    out = subprocess.run([*CLI, "serve", "--help"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert "127.0.0.1" in out.stdout
    assert "--read-only" in console_command(True)
    secret = "postgresql://ops:s3cret@db.example/fleet"
    assert "s3cret" not in console_command(False)
    assert session_environment(secret) == {"SIMDECK_DB": secret, "SIMDECK_VIA": "serve"}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_a_host_beyond_loopback_is_refused_unless_asked_for(tmp_path: Path, host: str) -> None:
    path = make_db(tmp_path)
    done = subprocess.run([*CLI, "--db", path, "serve", "--host", host, "--port", "8000"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "not a loopback address" in done.stderr and "--allow-remote" in done.stderr
    assert "Traceback" not in done.stderr and "token=" not in done.stdout


def test_allow_remote_warns_what_is_exposed_and_still_checks_the_token(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    port = _free_port()
    code = ("import sys; from simdeck.tui.serve import serve; "
            f"serve(sys.argv[1], host='0.0.0.0', port={port}, allow_remote=True)")
    served = start([sys.executable, "-c", code, path], {}, path)
    try:
        time.sleep(0.3)
        warning = "".join(served.stderr.queue)
        assert "warning" in warning and "every action" in warning
        assert "SSH tunnel" in warning and auth.os_user() in warning
        local = f"http://127.0.0.1:{port}"
        assert get(local + "/")[0] == 403
        assert get(local + "/?token=" + served.token)[0] == 302
        assert get(local + "/?token=" + served.token, {"Host": f"evil.example:{port}"})[0] == 403
    finally:
        stop(served)


def test_the_banner_shows_the_database_without_its_password(tmp_path: Path) -> None:
    port = _free_port()
    secret_url = "postgresql://ops:s3cret@db.example:5433/fleet"
    code = ("import os; from simdeck.tui.serve import serve; "
            f"serve(os.environ['SIMDECK_DB'], port={port})")
    # The server itself does not connect: each browser session does.
    served = start([sys.executable, "-c", code], {"SIMDECK_DB": secret_url}, secret_url)
    try:
        time.sleep(0.3)
        banner = "".join(served.stderr.queue)
        assert "postgresql://db.example:5433/fleet" in banner
        assert "s3cret" not in banner and "s3cret" not in served.url
    finally:
        stop(served)


def test_the_banner_shows_a_database_path_holding_a_sequence_as_text(tmp_path: Path) -> None:
    port = _free_port()
    hostile = str(tmp_path / "fleet\x1b]0;owned\x07.db")
    code = ("import os; from simdeck.tui.serve import serve; "
            f"serve(os.environ['SIMDECK_DB'], port={port})")
    served = start([sys.executable, "-c", code], {"SIMDECK_DB": hostile}, hostile)
    try:
        time.sleep(0.3)
        banner = "".join(served.stderr.queue)
        assert "fleet\\e]0;owned\\x07.db" in banner
        assert "\x1b" not in banner and "\x07" not in banner
    finally:
        stop(served)


def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([*CLI, "--db", path, "serve", "--port", str(port)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"simdeck: cannot serve on 127.0.0.1:{port}: the port is in use" in done.stderr
    assert "Traceback" not in done.stderr and "token=" not in done.stdout


def test_an_unknown_host_name_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    done = subprocess.run([*CLI, "--db", path, "serve", "--host", "no-such-host.invalid"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot serve on no-such-host.invalid: the host name is not known" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_host_check_lets_in_only_names_of_this_server() -> None:
    from simdeck.tui.serve import Guard

    local = Guard("t", "127.0.0.1", 8000)
    assert local.host_ok("127.0.0.1:8000") and local.host_ok("localhost:8000")
    assert local.host_ok("localhost:9000")  # an SSH tunnel from another local port
    assert not local.host_ok("evil.example:8000") and not local.host_ok("127.0.0.1.nip.io:8000")
    assert not local.host_ok(None) and not local.host_ok('x"><script>:8000')
    assert local.origin_ok("http://localhost:9000", "localhost:9000")
    assert not local.origin_ok("http://localhost:9001", "localhost:9000")
    anywhere = Guard("t", "0.0.0.0", 8000)
    assert anywhere.host_ok("10.1.2.3:8000") and anywhere.host_ok(f"{socket.gethostname()}:8000")
    assert not anywhere.host_ok("10.1.2.3:8001") and not anywhere.host_ok("evil.example:8000")
    assert anywhere.host_ok("localhost:8000") and not anywhere.host_ok("localhost:9000")
    proxied = Guard("t", "127.0.0.1", 8000, public_url="https://ops.example.com")
    assert proxied.host_ok("ops.example.com") and proxied.host_ok("ops.example.com:443")
    assert proxied.origin_ok("https://ops.example.com", "ops.example.com")
    assert proxied.base_url("ops.example.com") == "https://ops.example.com"


def test_the_via_label_only_ever_appends_serve(store: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    me = auth.os_user()
    monkeypatch.setenv("SIMDECK_VIA", "serve")
    assert auth.login().name == f"{me} via serve"
    for forged in ("root", "serve\x1b]0;x\x07", " serve", "alice"):
        monkeypatch.setenv("SIMDECK_VIA", forged)
        assert auth.login().name == me
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LOGNAME", "alice")
    monkeypatch.setenv("SIMDECK_VIA", "serve")
    assert auth.login().name == f"{me} via serve"


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser  # its own lane in .ci/run, which installs Debian's chromium first
def test_a_real_browser_draws_the_console(tmp_path: Path) -> None:
    from tests.tui import fleet

    path = fleet.build(tmp_path / "fleet.db")
    db.open_database(path)
    # The server's processes run as the OS user running the tests: let them in.
    auth.add_operator(auth.login(user=fleet.USER), auth.os_user(), "viewer")
    db.database.close()
    png, dom = tmp_path / "serve.png", tmp_path / "serve.html"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "browser_screenshot.py"), "--db", path,
         "--out", str(png), "--dom", str(dom), "--size", "1024x640", "--timeout", "60"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    # The page built its terminal, and the console behind the websocket wrote to it.
    assert found["terminal"] and found["first_byte"] and not found["closed"]
    html = dom.read_text()
    assert 'class="textual-terminal' in html and "xterm" in html
    # A drawn console, not the page's splash: the list's text in the theme's colours
    # (measured: about 2,000 colours and 190 kB; the splash, a logo on a dotted
    # background, about 450 colours in 9 kB).
    assert found["colours"] >= 1200, found
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 80_000, len(data)
    assert int.from_bytes(data[16:20], "big") == 1024  # the PNG is the window's size
