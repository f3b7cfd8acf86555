"""`nnview serve`: the explorer in a browser (issue 11). Its arguments are refused as `nnview FILE` refuses them,
before anything listens; the served page is opened in headless Chromium, the table read and screenshotted,
and `j` pressed through the page moves the selection. The browser test needs Debian's chromium, playwright,
pyte and Pillow, and skips (saying which is missing) without them."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.browser import (
    ROOT,
    accepts,
    band_rows,
    detail_text,
    find_chromium,
    free_port,
    http_get,
    layer_name,
    layer_table,
    panel_divider,
    pixel_rows,
    served,
    served_screen,
    terminal_page,
    whole_explorer,
)
from tui.commands.serve import explorer_arguments, explorer_command

SIMPLE = "models/simple.py"
INSTALL = 'pip install -e ".[serve]"'
HAS_TEXTUAL_SERVE = importlib.util.find_spec("textual_serve") is not None
needs_textual_serve = pytest.mark.skipif(not HAS_TEXTUAL_SERVE, reason=f"textual-serve is not installed: {INSTALL}")


def nnview(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real console entry point, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )


@pytest.fixture
def without_textual_serve(tmp_path: Path) -> dict[str, str]:
    """An environment in which `import textual_serve` fails, as if the package were not installed."""
    fake = tmp_path / "blocked" / "textual_serve"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('textual_serve is blocked by the test')\n")
    return {**os.environ, "PYTHONPATH": str(fake.parent)}


def test_help_works_without_textual_serve_and_says_localhost_and_tunnel(without_textual_serve: dict[str, str]) -> None:
    result = nnview("serve", "--help", env=without_textual_serve)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("usage: nnview serve [-h] [--input SHAPE[:dtype]] [--batch N]")
    for option in ("--port P", "--host HOST", "--input", "--batch", "--data", "--weights", "--meta", "--no-watch"):
        assert option in text
    assert "It listens on 127.0.0.1 only: other machines cannot reach it." in text
    assert "  ssh -L 8000:localhost:8000 gpu-box, then open http://localhost:8000\n" in text
    assert INSTALL in text


def test_missing_textual_serve_names_the_extra_to_install(without_textual_serve: dict[str, str]) -> None:
    result = nnview("serve", SIMPLE, "--port", str(free_port()), env=without_textual_serve)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error [input]: `nnview serve` needs the textual-serve package, which is not installed\n"
        f"  fix: install it: {INSTALL} (the textual-serve package)\n"
    )


@pytest.mark.parametrize(
    "explorer_args",
    [["no_such_model.py"], [SIMPLE, "--batch", "0"], [SIMPLE, "--input", "4xcat"], [SIMPLE, "--data", "nope.csv"]],
    ids=["missing-file", "batch-0", "bad-input", "missing-data"],
)
def test_a_bad_file_or_argument_gets_the_message_nnview_file_gives(explorer_args: list[str]) -> None:
    port = free_port()
    served_result = nnview("serve", *explorer_args, "--port", str(port))
    explorer_result = nnview(*explorer_args)
    assert served_result.returncode == explorer_result.returncode == 2
    assert served_result.stderr == explorer_result.stderr
    assert served_result.stderr.startswith("error [")
    assert accepts(port) is False


@pytest.mark.parametrize("port", ["0", "65536", "abc", "-1", "80.5"])
def test_a_port_that_is_not_a_port_is_refused(port: str) -> None:
    result = nnview("serve", SIMPLE, "--port", port)
    assert result.returncode == 2
    assert result.stderr == (
        f"error [input]: --port {port!r}: a port is a whole number from 1 to 65535\n  fix: pass e.g. --port 8000\n"
    )


def test_a_port_in_use_is_refused_naming_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = nnview("serve", SIMPLE, "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == (
        f"error [input]: port {port} on 127.0.0.1 is already in use by another program\n"
        f"  fix: pick a free port with --port, e.g. --port {port + 1}\n"
    )


def test_a_host_that_is_not_this_machine_is_refused_naming_host() -> None:
    result = nnview("serve", SIMPLE, "--host", "192.0.2.1", "--port", str(free_port()))  # TEST-NET-1: no DNS
    assert result.returncode == 2
    assert result.stderr.startswith("error [input]: --host '192.0.2.1' is not an address of this machine (")
    assert "fix: leave --host out (127.0.0.1: this machine only; tunnel over SSH), or pass --host 0.0.0.0" in (
        result.stderr
    )


def test_the_explorer_gets_every_argument_but_port_and_host_as_typed() -> None:
    argv = [SIMPLE, "--port", "8001", "--input", "4x5", "--host=0.0.0.0", "--batch", "2", "--port=9", "--host", "::1"]
    assert explorer_arguments(argv) == [SIMPLE, "--input", "4x5", "--batch", "2"]
    assert explorer_arguments(["--no-watch", "--", "--port"]) == ["--no-watch", "--", "--port"]


def test_the_served_command_quotes_what_the_user_typed() -> None:
    nasty = "my model; rm -rf ~ $(id) `id`.py"
    command = explorer_command([nasty, "--port", "8001", "--target", "a'b"])
    words = ["TEXTUAL_DRIVER=tui.serve_driver:ServedDriver", sys.executable, "-m", "tui", nasty, "--target", "a'b"]
    assert shlex.split(command) == words
    echoed = subprocess.run(  # the shell textual-serve uses reads it back as the same words
        ["/bin/sh", "-c", command.replace(shlex.quote(sys.executable), "printf '%s\\n'", 1)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert echoed.stdout.splitlines() == ["-m", "tui", nasty, "--target", "a'b"]


NOISY_MODEL = """
import os
import time

import torch
from torch import nn

print("NOISY import")
os.write(1, b"NOISY fd 1\\n")


class Noisy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 10)
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        print("NOISY forward")
        os.write(1, b"NOISY forward fd 1\\n")
        return self.fc2(torch.relu(self.fc1(x)))


def dataset():
    print("NOISY dataset")
    time.sleep(0.5)  # slow, as real data is: the explorer draws frames while this runs
    generator = torch.Generator().manual_seed(0)
    return torch.randn(40, 5, generator=generator), torch.randint(0, 3, (40,), generator=generator)
"""


@needs_textual_serve
def test_a_served_explorer_draws_its_whole_screen_while_the_model_prints(tmp_path: Path) -> None:
    """The explorer textual-serve starts: its frames reach the page whole, though the model's code (which writes
    to fd 1, the pipe to textual-serve) runs while the first frames are drawn; the model's prints do not."""
    pytest.importorskip("pyte", reason="pyte replays the served bytes: pip install pyte")
    model = tmp_path / "noisy.py"
    model.write_text(NOISY_MODEL)
    command = explorer_command([str(model), "--no-watch"])
    lines = asyncio.run(
        served_screen(command, lambda lines: "rows of dataset()" in "".join(lines) and whole_explorer(lines))
    )
    assert "[first 4 rows of dataset()]" in "".join(lines[:2])
    assert [line.split()[:8] for line in lines if line.startswith(("▾ ", "│ fc"))] == [
        ["▾", "Noisy", "Noisy", "(4,5)", "-", "(4,3)", "-", "93"],
        ["│", "fc1", "Linear", "(4,5)", "(10,5)", "(4,10)", "relu", "60"],
        ["│", "fc2", "Linear", "(4,10)", "(3,10)", "(4,3)", "-", "33"],
    ]
    assert not any("NOISY" in line for line in lines)


@needs_textual_serve
def test_only_this_machines_pages_may_drive_the_explorer(tmp_path: Path) -> None:
    with served([SIMPLE], tmp_path, free_port()) as server:
        port = server.port
        status, page = http_get(port, "/", {"Host": f"localhost:{port}"})
        assert status == 200
        assert f'data-session-websocket-url="ws://localhost:{port}/ws"' in page
        assert http_get(port, "/", {"Host": f"attacker.example:{port}"})[0] == 403  # DNS rebinding
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
        upgrade["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
        assert http_get(port, "/ws", {**upgrade, "Origin": "http://attacker.example"})[0] == 403
        assert server.group_alive() == [server.proc.pid]  # no explorer was started for them
    out = server.out.read_text()
    assert out.splitlines()[:3] == [
        f"nnview serve: the explorer on {SIMPLE} at http://127.0.0.1:{port}",
        "  listening on 127.0.0.1 only: other machines cannot reach it. From your own computer:",
        f"  ssh -L {port}:localhost:{port} gpu-box, then open http://localhost:{port}",
    ]


@needs_textual_serve
def test_host_0000_serves_with_a_warning_and_pages_follow_the_address_used(tmp_path: Path) -> None:
    with served([SIMPLE, "--host", "0.0.0.0"], tmp_path, free_port()) as server:
        port = server.port
        status, page = http_get(port, "/", {"Host": f"127.0.0.1:{port}"})
        assert status == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
    assert server.out.read_text().startswith(f"nnview serve: the explorer on {SIMPLE} at http://0.0.0.0:{port}\n")
    assert server.err.read_text().startswith(
        f"warning: --host 0.0.0.0 listens beyond this machine: anyone who can reach it on port {port} can use "
        "the explorer, which runs the model file's code, with no password."
    )


@needs_textual_serve
def test_the_explorer_in_chromium_shows_the_table_and_j_moves_the_selection(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Debian's chromium is not installed: apt-get install -y chromium")
    for module in ("playwright", "pyte", "PIL"):
        pytest.importorskip(module, reason=f"{module} drives or reads the browser: pip install playwright pyte pillow")
    with served([SIMPLE, "--batch", "2"], tmp_path, free_port()) as server:
        with terminal_page(chromium, f"http://localhost:{server.port}/") as page:
            page.wait_until(
                lambda lines: layer_table(lines) is not None and "SimpleNN  SimpleNN" in detail_text(lines),
                "the layer table",
                server,
            )
            lines = page.lines()
            table = layer_table(lines)
            assert table == [  # --batch 2 reached the explorer: every batch dimension is 2
                ["▾", "SimpleNN", "SimpleNN", "(2,5)", "-", "(2,3)", "-", "147"],
                ["│", "fc1", "Linear", "(2,5)", "(10,5)", "(2,10)", "relu", "60"],
                ["│", "fc2", "Linear", "(2,10)", "(6,10)", "(2,6)", "relu", "66"],
                ["│", "fc3", "Linear", "(2,6)", "(3,6)", "(2,3)", "-", "21"],
            ]
            assert "params 147  MACs 256" in detail_text(lines)
            rows = {layer_name(lines[row]): row for row in range(len(lines)) if layer_name(lines[row])}
            column = panel_divider(lines) - 2  # padding after the table's last column: the band's colour, no glyph
            assert {lines[row][column] for row in rows.values()} == {" "}
            cursor = page.row_background(rows["SimpleNN"], column)
            assert [page.row_background(rows[name], column) == cursor for name in ("fc1", "fc2", "fc3")] == [
                False,
                False,
                False,
            ]

            top, height = page.cell_box()
            x = int((column + 0.5) * page.page.locator(".xterm-screen").bounding_box()["width"] / page.screen.columns)
            before = tmp_path / "serve-table.png"
            page.page.screenshot(path=str(before))
            assert band_rows(before, cursor, x) == pixel_rows(top, height, rows["SimpleNN"])

            page.press("j")
            page.wait_until(
                lambda lines: "fc1  Linear" in detail_text(lines), "fc1 in the detail panel after j", server
            )
            assert "weight (10,5) bias (10)  params 60  MACs 100" in detail_text(page.lines())
            assert page.row_background(rows["fc1"], column) == cursor
            assert page.row_background(rows["SimpleNN"], column) != cursor
            after = tmp_path / "serve-after-j.png"
            page.page.screenshot(path=str(after))
            assert band_rows(after, cursor, x) == pixel_rows(top, height, rows["fc1"])

            os.kill(server.proc.pid, signal.SIGTERM)  # Ctrl+C with the tab still open
            assert server.proc.wait(timeout=20) == 0
            assert server.group_alive() == []  # the tab's explorer went with it
