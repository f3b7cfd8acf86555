"""What the user asked for on the command line: importing this module loads no torch (the first frame comes first)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024  # bytes of layer outputs kept for display


@dataclass(frozen=True)
class SessionOptions:
    """What the user asked for on the command line."""

    model_ref: str
    inputs: tuple[str, ...] = ()
    batch: int = 4
    meta: bool = False
    budget_bytes: int = DEFAULT_BUDGET_BYTES
    stats: bool = True
    data: str | None = None
    target_column: str | None = None
    weights: str | None = None  # a checkpoint to load after building the model (ctrl+s, nnview train --save)
    # A model already built in this process (``tui.explore``): a ``LoadedModel`` used instead of loading
    # ``model_ref`` (typed ``object`` so this module stays torch-free).
    preloaded: object = None
    log_dir: str | None = None  # TensorBoard event files of the explorer's training (``--log-dir``)
