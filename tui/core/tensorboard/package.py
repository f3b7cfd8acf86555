"""The optional ``tensorboard`` package: imported when a log is written or read, refused clearly when missing."""

from __future__ import annotations

from tui.core.error_records import ErrorRecord, NnviewError

INSTALL = 'pip install -e ".[tensorboard]" (or pip install tensorboard)'
EVENTS_MARK = "tfevents"  # in every event file's name (events.out.tfevents.*), as TensorBoard itself tells them


def missing_tensorboard(what: str, error: ImportError) -> NnviewError:
    """The error for ``what`` (e.g. "writing TensorBoard logs") without the ``tensorboard`` package."""
    return NnviewError(
        ErrorRecord(
            kind="input",
            message=f"{what} needs the tensorboard package, which is not installed ({error})",
            hint=f"install it: {INSTALL}",
        )
    )


def is_events_file(name: str) -> bool:
    """Whether a file name is a TensorBoard event file's (the test TensorBoard's ``io_wrapper`` makes)."""
    return EVENTS_MARK in name
