"""Pilot helpers: start the explorer at a fixed size; wait for the app's workers to finish (``settled``),
or for a condition no worker's end marks (``until``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from textual.pilot import Pilot
from textual.worker import WorkerFailed

from tui.app import NnviewApp
from tui.core.session import SessionOptions
from tui.screens.explorer import ExplorerScreen


async def settled(pilot: Pilot[None], *groups: str, timeout: float = 60.0) -> None:
    """Wait until the app's workers (of ``groups``, or all) have finished and what they posted is handled.

    Keys start workers (a trace, a training run, a save): this waits on those workers themselves, not
    on a clock. A worker started by a message another worker posted is waited for too. Fails the test
    after ``timeout`` seconds (a worker that never ends, e.g. training for a million epochs).
    """

    async def drain() -> None:
        await pilot.pause()  # keys and messages already sent start their workers
        while running := [w for w in pilot.app.workers if not w.is_finished and (not groups or w.group in groups)]:
            for worker in running:
                with suppress(WorkerFailed):  # a failed worker is the app's to report; the test checks the screen
                    await worker.wait()
            await pilot.pause()  # the messages the workers posted, and any worker they start
        await pilot.pause()

    try:
        await asyncio.wait_for(drain(), timeout)
    except TimeoutError:
        names = sorted({w.group for w in pilot.app.workers if not w.is_finished})
        raise AssertionError(f"workers still running after {timeout:g} s: {', '.join(names)}") from None


async def until(pilot: Pilot[None], check: Callable[[], object], tries: int = 300) -> None:
    """Wait (up to ``tries`` x 50 ms) until ``check()`` is true; fail the test if it never is."""
    for _ in range(tries):
        await pilot.pause(0.05)
        if check():
            return
    raise AssertionError("condition never became true")


async def wait_for_trace(pilot: Pilot[None]) -> ExplorerScreen:
    """Wait until the explorer's load worker has finished and its trace (or error) is on screen."""
    await settled(pilot, "trace")
    screen = pilot.app.screen_stack[1] if len(pilot.app.screen_stack) > 1 else None
    assert isinstance(screen, ExplorerScreen) and screen.shown is not None, "the explorer shows no trace"
    return screen


@asynccontextmanager
async def explorer(
    target: str, size: tuple[int, int] = (120, 40), watch: bool = False, **options: object
) -> AsyncIterator[tuple[Pilot[None], ExplorerScreen]]:
    """Run the app on ``target`` and yield the pilot and the explorer once the first trace is shown."""
    app = NnviewApp(SessionOptions(target, **options), watch=watch)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        screen = await wait_for_trace(pilot)
        yield pilot, screen
