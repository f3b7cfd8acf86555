"""Helpers for `nnview serve` tests: the server in its own process group, headless Chromium reading the page.

Chromium is Debian's (`apt-get install chromium`), driven by Playwright through ``executable_path`` (Playwright
cannot download browsers here). The page draws the terminal on a canvas, so its text is read from the bytes the
page receives on its WebSocket and writes into xterm.js, replayed into a ``pyte`` screen of the page's size: the
same cells, characters and colours. Chromium reaches only this machine: other names resolve to nothing, and
other requests are aborted.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    """Debian's Chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running ``nnview serve``: its process (leader of its own group), port and output files."""

    proc: subprocess.Popen[bytes]
    port: int
    out: Path
    err: Path

    def output(self) -> str:
        """Everything the server printed so far, stdout then stderr."""
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def group_alive(self) -> list[int]:
        """The live (not zombie) processes of the server's group: the server, each tab's shell and explorer."""
        alive: list[int] = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            state, _ppid, pgrp = text[text.rindex(")") + 2 :].split()[:3]
            if int(pgrp) == self.proc.pid and state != "Z":
                alive.append(int(text.split()[0]))
        return alive


@contextmanager
def served(args: list[str], folder: Path, port: int, wait_s: float = 20.0) -> Iterator[Served]:
    """Run ``nnview serve ARGS --port PORT`` until it accepts connections; kill its whole group afterwards."""
    out, err = folder / "serve.out", folder / "serve.err"
    with out.open("wb") as out_file, err.open("wb") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "serve", *args, "--port", str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out_file,
            stderr=err_file,
            start_new_session=True,  # its explorers join its group: one killpg ends them all
        )
    server = Served(proc, port, out, err)
    try:
        deadline = time.monotonic() + wait_s
        while not accepts(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"nnview serve did not start (exit {proc.poll()}):\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        _kill_group(proc)


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server (as Ctrl+C would), then SIGKILL whatever of its group is left."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@dataclass
class TerminalPage:
    """A browser page showing a served explorer, and the screen its WebSocket bytes draw."""

    page: Any
    screen: Any = None
    stream: Any = None
    frames: list[bytes] = field(default_factory=list)
    fed: int = 0

    def on_websocket(self, socket_: Any) -> None:
        """Record what the page receives (terminal bytes) and follow the size it asks for."""
        socket_.on("framereceived", lambda payload: isinstance(payload, bytes) and self.frames.append(payload))
        socket_.on("framesent", self._sent)

    def _sent(self, payload: bytes | str) -> None:
        import pyte

        message = json.loads(payload) if isinstance(payload, str) else None
        if not (isinstance(message, list) and message[0] == "resize"):
            return
        if self.screen is None:
            self.screen = pyte.Screen(message[1]["width"], message[1]["height"])
            self.stream = pyte.ByteStream(self.screen)
        else:
            self.lines()  # the bytes drawn at the old size first
            self.screen.resize(message[1]["height"], message[1]["width"])

    def lines(self) -> list[str]:
        """The screen as text, after every byte received so far."""
        if self.screen is None:
            return []
        for frame in self.frames[self.fed :]:
            self.stream.feed(frame)
        self.fed = len(self.frames)
        return [line.rstrip() for line in self.screen.display]

    def wait_until(self, ready: Callable[[list[str]], bool], what: str, server: Served, wait_s: float = 20.0) -> None:
        """Let the page run until ``ready(lines)``; fail with the screen and the server's output if it never is."""
        deadline = time.monotonic() + wait_s
        while not ready(self.lines()):
            if time.monotonic() > deadline:
                screen = "\n".join(self.lines())
                raise AssertionError(f"the page never showed {what}; screen:\n{screen}\nserver:\n{server.output()}")
            self.page.wait_for_timeout(100)  # Playwright delivers WebSocket events while it waits

    def row_background(self, row: int, column: int) -> tuple[int, int, int]:
        """The RGB background of one cell, as the terminal was told to paint it."""
        colour = self.screen.buffer[row][column].bg
        return (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))

    def cell_box(self) -> tuple[float, float]:
        """The terminal canvas's top edge and the height of one row, in screenshot pixels."""
        box = self.page.locator(".xterm-screen").bounding_box()
        return box["y"], box["height"] / self.screen.lines

    def press(self, key: str) -> None:
        """Type a key into the terminal (its hidden input has the focus a click would give it)."""
        self.page.focus("textarea.xterm-helper-textarea")
        self.page.keyboard.press(key)


@contextmanager
def terminal_page(chromium: str, url: str, width: int = 1280, height: int = 800) -> Iterator[TerminalPage]:
    """Headless Chromium on ``url``, closed (with Playwright's driver) however the test ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("**/*", _local_only)  # the page asks for a web font: never leave this machine
            terminal = TerminalPage(page)
            page.on("websocket", terminal.on_websocket)
            page.goto(url)
            yield terminal
        finally:
            browser.close()


def _local_only(route: Any) -> None:
    if urlsplit(route.request.url).hostname in ("localhost", "127.0.0.1"):
        route.continue_()
    else:
        route.abort()


def band_rows(png: Path, colour: tuple[int, int, int], x: int) -> list[int]:
    """The pixel rows of a screenshot whose pixel at column ``x`` has exactly ``colour``."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        return [y for y in range(rgb.height) if rgb.getpixel((x, y)) == colour]


def whole_explorer(lines: list[str]) -> bool:
    """The table and the detail panel are drawn, and the line between them runs unbroken from the tab bar to
    the key bar (a frame lost while the model's code ran leaves an old layout's pieces on screen)."""
    text = "\n".join(lines)
    if "│ fc2 " not in text or "│ Detail" not in text:
        return False
    tabs, divider = next((row, line.index("│ Detail")) for row, line in enumerate(lines) if "│ Detail" in line)
    return all(line[divider : divider + 1] == "│" for line in lines[tabs:-1])


async def served_screen(
    command: str, ready: Callable[[list[str]], bool], width: int = 120, height: int = 30
) -> list[str]:
    """Run ``command`` as textual-serve does for a tab of ``width`` x ``height``; the screen once ``ready``."""
    import pyte
    from textual_serve.app_service import AppService
    from textual_serve.download_manager import DownloadManager

    screen = pyte.Screen(width, height)
    stream = pyte.ByteStream(screen)
    drawn = asyncio.Event()

    async def write_bytes(data: bytes) -> None:
        stream.feed(data)
        if ready([line.rstrip() for line in screen.display]):
            drawn.set()

    async def ignore(*_: object) -> None:
        return None

    service = AppService(
        command, write_bytes=write_bytes, write_str=ignore, close=ignore, download_manager=DownloadManager()
    )
    await service.start(width, height)
    try:
        await asyncio.wait_for(drawn.wait(), timeout=20)
    except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
        raise AssertionError("the explorer never drew a whole screen:\n" + "\n".join(screen.display)) from None
    finally:
        await service.stop()
        if service._process is not None:  # reap it while the loop runs: its transport must not outlive the loop
            await service._process.wait()
    return [line.rstrip() for line in screen.display]


def http_get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def layer_name(line: str) -> str | None:
    """The layer a table row names (SimpleNN, fc1...), if the line is a row of the layer table."""
    words = line.split()
    return words[1] if len(words) > 7 and words[0] in ("▾", "│") and words[2] in ("SimpleNN", "Linear") else None


def layer_table(lines: list[str]) -> list[list[str]] | None:
    """The first 8 columns of the layer table's rows (name to Params), once all four are on screen."""
    table = [line.split()[:8] for line in lines if layer_name(line)]
    return table if len(table) == 4 else None


def panel_divider(lines: list[str]) -> int:
    """The column of the line between the table and the panel (the one before the Detail tab)."""
    return next(line.index("│ Detail") for line in lines if "│ Detail" in line)


def detail_text(lines: list[str]) -> str:
    """The right-hand panel's text, lines joined."""
    if not any("│ Detail" in line for line in lines):
        return ""
    start = panel_divider(lines) + 2
    return "\n".join(line[start:].rstrip() for line in lines)


def pixel_rows(top: float, height: float, row: int) -> list[int]:
    """The screenshot's pixel rows of terminal row ``row``."""
    return list(range(round(top + row * height), round(top + (row + 1) * height)))
