"""The explorer with guest code that hangs or lives in a neighbour module (issue 7, section 4)."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from pathlib import Path

from textual.widgets import Static

from tests.tui.conftest import explorer

GUEST = Path(__file__).resolve().parents[1] / "corpus" / "guest"


def header_text(screen: object) -> str:
    return str(screen.query_one("#model-header", Static).render())  # type: ignore[attr-defined]


async def test_stuck_forward_shows_what_is_running_and_q_quits_at_once() -> None:
    target = str(GUEST / "waits_in_forward.py")
    from tui.app import NnviewApp
    from tui.core.session import SessionOptions

    app = NnviewApp(SessionOptions(target), watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = None
        for _ in range(200):  # the header says what is stuck, and where, after 2 s
            await pilot.pause(0.05)
            screen = app.screen_stack[-1]
            if "still running" in header_text(screen):
                break
        assert screen is not None
        text = header_text(screen)
        pattern = rf"forward still running after [23] s  \(q quits\)  in forward\(\) at {re.escape(target)}:16"
        assert re.search(pattern, text), text
        session = screen.session  # type: ignore[attr-defined]
        try:
            started = time.monotonic()
            await pilot.press("q")
            for _ in range(40):
                if not app.is_running:
                    break
                await asyncio.sleep(0.025)
            assert not app.is_running
            assert time.monotonic() - started < 1.0
        finally:
            session.loaded.namespace["release"].set()  # let the stuck forward end: no thread left behind


async def test_editing_a_neighbour_module_reloads_with_the_new_code(tmp_path: Path) -> None:
    folder = tmp_path / "neighbours"
    shutil.copytree(GUEST / "neighbours", folder)
    async with explorer(str(folder / "model.py"), watch=True) as (pilot, screen):
        assert screen.shown == "error"
        message = str(screen.query_one("#error-message", Static).render())
        assert f"at:       {folder / 'blocks.py'}:16" in message, message  # where it happened, not model.py
        await pilot.pause(1.0)  # the watcher is up
        blocks = folder / "blocks.py"
        blocks.write_text(blocks.read_text().replace("self.broken = True", "self.broken = False"))
        for _ in range(200):
            await pilot.pause(0.05)
            if screen.shown == "trace":
                break
        assert screen.shown == "trace"
        assert screen.result is not None
        assert (screen.result.totals.params, screen.result.totals.macs) == (18, 60)  # Linear(5, 3), (4, 5) batch
