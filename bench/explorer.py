"""The explorer in Textual's test harness, watched through public surfaces only.

- :class:`Messages` is the ``message_hook`` of ``App.run_test`` (the hook Textual's own testing tools use): Textual
  calls it with every message any message pump of the app dispatches, just before the handlers run. It keeps what
  the explorer's workers post: the training updates (``TrainingProgress``, each carrying a frozen
  ``TrainingUpdate``), grouped into one :class:`LoopRun` per walk of the training loop; the live views
  (``TrainingLiveView``) and the live table's re-traces (``TraceReady`` with reason ``"training"``); the other
  traces, the failures and the stops. A message that bubbles from the screen to the app is dispatched twice and
  counted once.
- :func:`first_refresh` stamps the first refresh of the screen after which a condition holds, through
  ``Screen.call_after_refresh``, which Textual runs right after the screen's next update is composed (or at once
  when nothing waits to be drawn).
- Keys go in through ``App.simulate_key``, which posts the key event to the app as a terminal's key would arrive.

Nothing here patches or wraps the app, its screens or the trainer.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message
from textual.screen import Screen

from tui.messages import TraceFailed, TraceReady, TrainingLiveView, TrainingProgress, TrainingStopped
from tui.screens.explorer import ExplorerScreen

if TYPE_CHECKING:
    from tui.app import NnviewApp
    from tui.core.train.loop import TrainingUpdate

WATCHED = (TraceFailed, TraceReady, TrainingLiveView, TrainingProgress, TrainingStopped)
RECHECK = 0.002  # seconds between two looks at an idle screen that does not show the condition yet


@dataclass
class LoopRun:
    """One walk of the training loop (one ``t`` or ``s``) as the screen received it.

    Attributes:
        start_step: the step count before the walk: the previous walk's last step, or for the first walk the
            first update's step less the steps it carries.
        updates: the updates the screen received, in order; the last one is ``final`` once the walk ended.
    """

    start_step: int
    updates: list[TrainingUpdate] = field(default_factory=list)

    @property
    def last(self) -> TrainingUpdate:
        return self.updates[-1]

    @property
    def ended(self) -> bool:
        return self.last.final

    @property
    def steps(self) -> int:
        """Steps taken in this walk, up to the last update received."""
        return self.last.step - self.start_step

    @property
    def seconds(self) -> float:
        """The loop's own time from its start to the last update received: the update's steps over its rate."""
        rate = self.last.steps_per_second
        return self.steps / rate if rate > 0 else 0.0


class Messages:
    """The ``message_hook`` for ``run_test``: keeps the explorer's posted messages (see the module docstring)."""

    def __init__(self) -> None:
        self.loops: list[LoopRun] = []
        self.retraces = 0  # TraceReady with reason "training": the live table re-traced
        self.live_views = 0  # TrainingLiveView: layer health and, for 2-D inputs, the decision boundary
        self.traces: list[str] = []  # the reasons of the other TraceReady messages, in order
        self.failures: list[TraceFailed] = []
        self.stops: list[TrainingStopped] = []
        self._recent: weakref.WeakValueDictionary[int, Message] = weakref.WeakValueDictionary()
        self._changed = asyncio.Event()

    def __call__(self, message: Message) -> None:
        """Called by Textual on the event loop for every message dispatched anywhere in the app."""
        if not isinstance(message, WATCHED) or self._recent.get(id(message)) is message:
            return
        self._recent[id(message)] = message
        if isinstance(message, TrainingProgress):
            self._add_update(message.update)
        elif isinstance(message, TraceReady):
            if message.reason == "training":
                self.retraces += 1
            else:
                self.traces.append(message.reason)
        elif isinstance(message, TrainingLiveView):
            self.live_views += 1
        elif isinstance(message, TraceFailed):
            self.failures.append(message)
        else:
            self.stops.append(message)
        self._changed.set()

    def _add_update(self, update: TrainingUpdate) -> None:
        if not self.loops or self.loops[-1].ended:
            start = self.loops[-1].last.step if self.loops else update.step - len(update.steps)
            self.loops.append(LoopRun(start))
        self.loops[-1].updates.append(update)

    async def wait(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until ``check()`` holds, looking again after every watched message; SystemExit after ``timeout``."""
        deadline = time.perf_counter() + timeout
        while not check():
            self._changed.clear()
            left = deadline - time.perf_counter()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, left))
            except asyncio.TimeoutError:
                if not check():
                    raise SystemExit(f"timed out after {timeout:g} s waiting for {what}") from None


async def open_explorer(app: NnviewApp, messages: Messages, timeout: float) -> ExplorerScreen:
    """The explorer screen once its first trace is on it (SystemExit if loading or tracing failed)."""
    await messages.wait(lambda: bool(messages.traces or messages.failures), timeout, "the first trace")
    screen = next(s for s in app.screen_stack if isinstance(s, ExplorerScreen))
    await screen.wait_for_refresh()
    if messages.failures or screen.shown != "trace":
        raise SystemExit(f"{screen.session.options.model_ref}: the explorer shows an error, not a trace")
    await asyncio.sleep(0.2)  # the table's scrollbar appears a frame or two later and lays the screen out again
    return screen


async def first_refresh(screen: Screen[object], check: Callable[[], bool], timeout: float) -> float | None:
    """``time.perf_counter()`` at the first refresh of ``screen`` after which ``check()`` holds; None after ``timeout``.

    The stamp is taken inside the ``call_after_refresh`` callback, on the event loop, right after the frame
    (or at once on an idle screen). A look that finds ``check()`` false asks again :data:`RECHECK` seconds later,
    so an idle screen is not kept busy; a frame that shows the condition meanwhile is stamped at most that late.
    """

    def look(stamped: list[float], looked: asyncio.Event) -> None:
        if check():
            stamped.append(time.perf_counter())
        looked.set()

    async def probe() -> float:
        while True:
            stamped: list[float] = []
            looked = asyncio.Event()
            screen.call_after_refresh(look, stamped, looked)
            await looked.wait()
            if stamped:
                return stamped[0]
            await asyncio.sleep(RECHECK)

    try:
        return await asyncio.wait_for(probe(), timeout)
    except asyncio.TimeoutError:
        return None
