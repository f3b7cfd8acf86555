"""Pilot helpers: start the explorer at a fixed size and wait until a trace has been shown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from textual.pilot import Pilot

from tui.app import NnviewApp
from tui.core.session import SessionOptions
from tui.screens.explorer import ExplorerScreen


async def until(pilot: Pilot[None], check: Callable[[], object], tries: int = 300) -> None:
    """Wait (up to ``tries`` x 50 ms) until ``check()`` is true; fail the test if it never is."""
    for _ in range(tries):
        await pilot.pause(0.05)
        if check():
            return
    raise AssertionError("condition never became true")


async def wait_for_trace(pilot: Pilot[None], *, tries: int = 200) -> ExplorerScreen:
    """Wait until the explorer shows a trace or an error (the load runs in a worker thread)."""
    app = pilot.app
    for _ in range(tries):
        await pilot.pause(0.05)
        screen = app.screen_stack[1] if len(app.screen_stack) > 1 else None
        if isinstance(screen, ExplorerScreen) and screen.shown is not None:
            await pilot.pause()
            return screen
    raise AssertionError("the explorer never showed a trace")


@asynccontextmanager
async def explorer(
    target: str, size: tuple[int, int] = (120, 40), watch: bool = False, **options: object
) -> AsyncIterator[tuple[Pilot[None], ExplorerScreen]]:
    """Run the app on ``target`` and yield the pilot and the explorer once the first trace is shown."""
    app = NnviewApp(SessionOptions(target, **options), watch=watch)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        screen = await wait_for_trace(pilot)
        yield pilot, screen
