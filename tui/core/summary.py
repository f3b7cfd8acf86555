"""One call from what the user typed to a trace: load, pick the input, trace."""

from __future__ import annotations

from dataclasses import replace

from tui.core.inputs import parse_input_spec, resolve_inputs
from tui.core.loading import load_model
from tui.core.records import NnviewError, TraceResult
from tui.core.tracing import DEFAULT_BUDGET_BYTES, trace_model
from tui.core.usercode import sandboxed_process_state


def summarize(
    target: str,
    *,
    inputs: list[str] | None = None,
    batch: int = 4,
    meta: bool = False,
    budget_bytes: int = DEFAULT_BUDGET_BYTES,
) -> TraceResult:
    """Load ``FILE[:NAME]`` (or ``pkg.module:attr``) and trace one forward pass.

    Args:
        target: the model file or module path, optionally with ``:NAME``.
        inputs: ``--input`` specs such as ``"4x5"`` or ``"2x12:long"``, one per positional input.
        batch: batch size where nnview makes the input itself.
        meta: build and trace on the meta device (shapes, parameters and MACs only).
        budget_bytes: bytes of layer outputs to keep for display.

    Raises:
        NnviewError: any user mistake, as a structured record.
    """
    specs = [parse_input_spec(text) for text in inputs or []]
    loaded = load_model(target, meta=meta)
    # forward() is the user's code too: its prints must not reach our stdout, and a chdir is undone.
    with sandboxed_process_state(None, loaded.source) as printed:
        try:
            example = resolve_inputs(loaded, specs, batch)
            return trace_model(
                loaded.model,
                example,
                model_name=loaded.name,
                source=loaded.source,
                budget_bytes=budget_bytes,
                user_files=loaded.user_files,
            )
        except NnviewError as exc:
            output = loaded.output + printed.getvalue()
            raise NnviewError(replace(exc.record, output=output)) from exc.__cause__
