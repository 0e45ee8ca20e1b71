"""``simdeck serve``: the console in a browser through textual-serve, on loopback only."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from simdeck.core import auth, db, models

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "serve.db")
    db.open_database(path)
    models.create_schema()
    auth.login()  # the OS user running the tests becomes its admin
    db.database.close()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simdeck.tui.cli", "--db", path, "serve", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_page_loads_and_points_at_its_own_websocket(server: str) -> None:
    with urllib.request.urlopen(server, timeout=5) as response:
        assert response.status == 200
        html = response.read().decode()
    assert "<title>simdeck</title>" in html or "simdeck" in html
    assert f"ws://{server.removeprefix('http://')}/ws" in html


def test_the_console_runs_behind_the_websocket(server: str) -> None:
    async def screen_text() -> str:
        seen = b""
        async with aiohttp.ClientSession() as session, session.ws_connect(
            server.replace("http", "ws") + "/ws?width=120&height=36"
        ) as ws:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and b"Endpoints" not in seen:
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
        return seen.decode("utf-8", "replace")

    text = asyncio.run(screen_text())
    assert "Endpoints" in text
    assert "Traceback" not in text


def test_serve_binds_to_loopback_by_default() -> None:
    from simdeck.tui.serve import console_command

    out = subprocess.run([sys.executable, "-m", "simdeck.tui.cli", "serve", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert "127.0.0.1" in out.stdout
    assert "--read-only" in console_command("/x.db", True)


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
