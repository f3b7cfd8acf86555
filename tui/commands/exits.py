"""How a subcommand ends when it cannot finish: Ctrl+C, a closed pipe, the model's code still holding fds 1 and 2."""

from __future__ import annotations

import os
import sys

EXIT_USER_ERROR = 2
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE
EXIT_INTERRUPTED = 128 + 2  # as if killed by SIGINT


def stop_capturing_output() -> None:
    """Point fds 1 and 2 back at the terminal even if the model's code is still running."""
    if "tui.core.guest.state" in sys.modules:
        from tui.core.guest.output import restore_output_now

        restore_output_now()


def interrupted() -> int:
    """Ctrl+C: one line saying what was running (and where), exit 130 as a shell expects."""
    stop_capturing_output()
    running = None
    if "tui.core.guest.threads" in sys.modules:
        from tui.core.guest.threads import current_activity

        activity = current_activity()
        running = activity.describe() if activity is not None else None
    print(f"interrupted: {running}" if running else "interrupted", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


def reader_went_away() -> int:
    """stdout's reader closed the pipe (``nnview train --json | head -1``): stop quietly, like SIGPIPE.

    Python would print "Exception ignored ... BrokenPipeError" when it flushes stdout at exit, so
    stdout is pointed at /dev/null first. 141 is what a shell reports for a process ended by SIGPIPE.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (a test's capture)
        pass
    return EXIT_BROKEN_PIPE
