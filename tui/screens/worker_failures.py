"""A worker that raised past the core's error records: which one, and the record to show for it."""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from tui.core.records import ErrorRecord, NnviewError

# The explorer's worker groups and what each was doing, for "nnview failed while ..." messages.
WORKER_ACTIVITY = {"trace": "loading and tracing the model", "train": "training", "watch": "watching the model file"}


def worker_failure(event: Worker.StateChanged) -> tuple[str, ErrorRecord] | None:
    """(the worker's group, the record to show) for a failed explorer worker; ``None`` for anything else.

    A save that failed is not one of them: the saving screen makes it a crash with an emergency checkpoint.
    """
    error = event.worker.error
    group = event.worker.group
    if event.state != WorkerState.ERROR or error is None or group not in WORKER_ACTIVITY:
        return None
    if isinstance(error, NnviewError):
        return group, error.record
    from tui.core.trace.own_errors import internal_record

    return group, internal_record(error, WORKER_ACTIVITY[group])
