"""The console in a real browser: ``simdeck serve`` on loopback, headless Chromium on
the page, a PNG of what it shows once the console's terminal has drawn.

    python scripts/browser_screenshot.py                     # screenshots/serve-1280x800.png
    python scripts/browser_screenshot.py --db fleet.db --out /tmp/x.png --size 1024x700

Without ``--db`` the demo fleet is built (once) in a scratch file. The browser opens
the address the server prints, token and all, as an operator would. Chromium is driven
through its DevTools protocol rather than ``--screenshot``: the page opens a websocket
and the server starts a ``simdeck`` process per tab, which takes real seconds that
Chromium's virtual time does not wait for. The shot is taken when two frames half a
second apart are the same. Prints one JSON line: what was found on the page (the
terminal element, whether the console sent its first bytes, how many colours the
terminal's area shows) and where the PNG went; exits 1 when the terminal never drew.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
DEFAULT_OUT = ROOT / "screenshots" / "serve-1280x800.png"

#: What the page holds: the terminal element textual-serve's script builds, and the
#: class it puts on <body> when the first byte of the console's output arrives.
STATE_JS = """(() => {
  const term = document.querySelector('.textual-terminal');
  const xterm = term && term.querySelector('.xterm');
  const box = term ? term.getBoundingClientRect() : null;
  return {
    terminal: !!xterm,
    canvases: term ? term.querySelectorAll('canvas').length : 0,
    first_byte: document.body.classList.contains('-first-byte'),
    closed: document.body.classList.contains('-closed'),
    box: box ? [box.x, box.y, box.width, box.height] : null,
  };
})()"""

#: How many distinct colours a PNG (a data URL) has inside a box, counted by the page.
COLOURS_JS = """(async (url, box) => {
  const img = new Image();
  img.src = url;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const [x, y, w, h] = box.map(Math.round);
  const data = ctx.getImageData(x, y, Math.max(1, w), Math.max(1, h)).data;
  const seen = new Set();
  for (let i = 0; i < data.length; i += 4) {
    seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  }
  return seen.size;
})"""


def free_port() -> int:
    """A TCP port nobody listens on, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``url`` answers (or the process behind it dies)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{url}: the server exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer in {timeout:.0f} s") from None
            time.sleep(0.2)


class DevTools:
    """The few DevTools protocol calls this needs, over one page's websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events in between are skipped)."""
        self.next_id += 1
        sent = self.next_id
        await self.ws.send_json({"id": sent, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=30)
            if message.get("id") == sent:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = await self.call("Runtime.evaluate", expression=expression,
                                 returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    async def png(self) -> bytes:
        """The page as it is now."""
        shot = await self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


async def capture(url: str, out: Path, width: int, height: int, timeout: float,
                  dom: Path | None = None) -> dict[str, Any]:
    """Open ``url`` in headless Chromium and save a PNG once the terminal has drawn."""
    port = free_port()
    profile = tempfile.mkdtemp(prefix="simdeck-chromium-")
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={port}",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/json/version", 30, browser)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
            page = next(t for t in json.load(r) if t.get("type") == "page")
        async with aiohttp.ClientSession() as session, session.ws_connect(
            page["webSocketDebuggerUrl"], max_msg_size=0
        ) as ws:
            tools = DevTools(ws)
            await tools.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                             deviceScaleFactor=1, mobile=False)
            await tools.call("Page.navigate", url=url)
            state = await _wait_drawn(tools, timeout)
            frame, stable = await _steady_frame(tools, timeout)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(frame)
            colours = 0
            if state.get("box"):
                data_url = "data:image/png;base64," + base64.b64encode(frame).decode()
                colours = int(await tools.evaluate(
                    f"{COLOURS_JS}({json.dumps(data_url)}, {json.dumps(state['box'])})"
                ) or 0)
            if dom is not None:
                dom.write_text(await tools.evaluate("document.documentElement.outerHTML"))
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return {**state, "stable": stable, "colours": colours, "png": str(out),
            "bytes": out.stat().st_size}


async def _wait_drawn(tools: DevTools, timeout: float) -> dict[str, Any]:
    """Until the terminal exists and the console has sent its first bytes."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = dict(await tools.evaluate(STATE_JS) or {})
        if state.get("terminal") and state.get("first_byte"):
            return state
        if state.get("closed"):
            break
        await asyncio.sleep(0.25)
    return state


async def _steady_frame(tools: DevTools, timeout: float) -> tuple[bytes, bool]:
    """A frame equal to the one half a second before it: the console at rest."""
    deadline = time.monotonic() + timeout
    await asyncio.sleep(1.0)  # the list's first page and the counts arrive after the frame
    previous = await tools.png()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        frame = await tools.png()
        if frame == previous:
            return frame, True
        previous = frame
    return previous, False


def serve(db_url: str, port: int, cwd: Path) -> subprocess.Popen[str]:
    """``simdeck serve --port PORT`` on ``db_url`` (given in SIMDECK_DB, as a URL with a
    password would be), as an operator would start it; its errors go to ``cwd/serve.log``,
    and the one line on its stdout is the address with its token."""
    env = {**os.environ, "SIMDECK_DB": db_url, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.Popen(
        [sys.executable, "-m", "simdeck.tui.cli", "serve", "--port", str(port)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=(cwd / "serve.log").open("wb"),
        text=True,
    )


def token_url(server: subprocess.Popen[str], timeout: float) -> str:
    """The address the server prints once it listens: http://127.0.0.1:PORT/?token=…"""
    found: list[str] = []
    printed = threading.Event()

    def read() -> None:
        assert server.stdout is not None
        for line in server.stdout:  # read to the end, so the pipe never fills
            if line.startswith("http://") and not found:
                found.append(line.strip())
                printed.set()
        printed.set()

    threading.Thread(target=read, daemon=True).start()
    printed.wait(timeout)
    if not found:
        raise RuntimeError(f"the server printed no address in {timeout:.0f} s "
                           f"(exit status {server.poll()})")
    return found[0]


#: Where the demo fleet is built anew for each run without --db: a fixed place, so the
#: database path in the picture's top bar is the same every time.
DEMO_DIR = Path(tempfile.gettempdir()) / "simdeck-browser"


def demo_database() -> str:
    """The demo fleet, built anew through ``simdeck demo`` in ``DEMO_DIR``."""
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    path = str(DEMO_DIR / "demo.db")
    subprocess.run([sys.executable, "-m", "simdeck.tui.cli", "--db", path, "demo",
                    "--endpoints", "2000", "--no-tui"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def main(argv: list[str] | None = None) -> int:
    """Serve, shoot, print the summary; 1 when the console never drew in the page."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="the database to serve (default: a demo fleet)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the PNG to write")
    parser.add_argument("--dom", type=Path, help="also write the page's DOM here")
    parser.add_argument("--size", default="1280x800", help="the window, WIDTHxHEIGHT")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.lower().split("x"))
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    # The server's working folder: nothing of the checkout's is written by accident.
    with tempfile.TemporaryDirectory(prefix="simdeck-serve-") as scratch:
        db_url = args.db or demo_database()
        if "://" not in db_url:
            db_url = str(Path(db_url).expanduser().resolve())  # the server runs elsewhere
        port = free_port()
        server = serve(db_url, port, Path(scratch))
        try:
            try:
                url = token_url(server, 30)
            except RuntimeError as exc:
                log = (Path(scratch) / "serve.log").read_text(errors="replace").strip()
                print(f"{exc}\n{log}", file=sys.stderr)
                return 1
            summary = asyncio.run(capture(url, args.out, width, height, args.timeout, args.dom))
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
    print(json.dumps(summary))
    return 0 if summary.get("terminal") and summary.get("first_byte") else 1


if __name__ == "__main__":
    raise SystemExit(main())
