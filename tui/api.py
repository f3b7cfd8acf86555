"""nnview from Python: ``summary(model, x)`` prints what ``nnview summary`` prints; ``explore(model, x)`` opens
the explorer on a model in memory. The command line goes through the same :class:`Summary`.

    from tui import summary, explore
    result = summary(model, torch.randn(4, 5))    # or input_size=(4, 5)
    print(result)                                  # the table, sized to the console
    result.totals.params, result.layers[0].outputs
    result.to_json()                               # the `nnview summary --json` object
    explore(model, torch.randn(4, 5))              # returns when the explorer quits
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from torch import nn

    from tui.core.load.model_file import LoadedModel
    from tui.core.records import LayerRecord, TensorSpec, Totals, TraceResult

IN_MEMORY = "<in memory>"
NOTEBOOK_WIDTH = 120  # columns of the table a notebook shows (it has no terminal to ask)


@dataclass(frozen=True)
class Summary:
    """One traced forward pass: the table ``nnview summary`` prints, and its records.

    Attributes:
        result: every record the trace made (``tui.core.records.TraceResult``).
        depth: rows deeper than this fold into their parent in the printed table (``None``: all rows).
    """

    result: TraceResult
    depth: int | None = None

    @property
    def layers(self) -> tuple[LayerRecord, ...]:
        """One record per module call, in execution order (the model itself first)."""
        return self.result.layers

    @property
    def totals(self) -> Totals:
        """Parameters (tied weights once), trainable ones, MACs, parameter and activation bytes."""
        return self.result.totals

    def to_json(self) -> dict[str, Any]:
        """The ``nnview summary --json`` object."""
        return self.result.to_json()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from tui.report import summary_view

        yield summary_view(self.result, self.depth, options.max_width)

    def text(self, width: int | None = None) -> str:
        """The table as plain text, ``width`` columns wide (default: the console's width, 80 when piped)."""
        from rich.console import Console

        out = io.StringIO()
        Console(file=out, width=width or _console_width(), highlight=False, color_system=None).print(self)
        return out.getvalue().rstrip("\n")

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's plain-text display
        printer.text(self.text(NOTEBOOK_WIDTH))

    def _repr_html_(self) -> str:  # Jupyter's display: the same table with its styles, as HTML
        from rich.console import Console

        console = Console(file=io.StringIO(), width=NOTEBOOK_WIDTH, record=True, highlight=False)
        console.print(self)
        return console.export_html(inline_styles=True, code_format="<pre style='font-size: 12px'>{code}</pre>")


def _console_width() -> int:
    from rich.console import Console

    return Console().width


def summary(
    model: nn.Module | Callable[[], nn.Module],
    input_data: Any = None,
    *,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    dtypes: Sequence[str] | None = None,
    batch: int = 4,
    meta: bool = False,
    depth: int | None = None,
    stats: bool = True,
) -> Summary:
    """Trace one forward pass of ``model`` and return its :class:`Summary` (print it for the table).

    The model is left as it was: its train/eval mode, device, ``requires_grad`` flags and weights.

    Args:
        model: the model; with ``meta=True`` also a function that builds it (called under
            ``torch.device("meta")``, so a 7B model allocates nothing).
        input_data: what to call it with: a tensor, a tuple of positional inputs, or a dict of keyword inputs.
        input_size: instead of ``input_data``: one shape, e.g. ``(4, 5)``, or a list of shapes for several inputs
            (random float32 tensors, or ``dtypes`` such as ``["long"]``).
        batch: the batch size of an input nnview infers from the first layer (neither of the above given).
        meta: trace on the meta device: shapes, parameters and MACs without computing anything.
        depth: fold rows deeper than this into their parent in the printed table.
        stats: compute each layer's output statistics (the costliest part on big activations).

    Raises:
        ValueError: the input or the model cannot be traced; the message says what is wrong and how to fix it.
    """
    from tui.core.records import NnviewError
    from tui.core.trace.tracing import trace_model

    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"summary(batch={batch!r}): the batch size must be a whole number of at least 1")
    loaded = _loaded(model, meta)
    specs = _specs(input_size, dtypes)
    if input_data is not None and specs:
        raise ValueError("summary(): give input_data or input_size, not both")
    try:
        example = _example(loaded, input_data, specs, batch)
        result = trace_model(loaded.model, example, source=IN_MEMORY, budget_bytes=0, stats=stats and not meta)
    except NnviewError as exc:
        record = exc.record
        raise ValueError(f"{record.message} ({record.hint})" if record.hint else record.message) from exc
    return Summary(result, depth)


def explore(model: nn.Module, input_data: Any = None, *, dataset: Callable[[], Any] | None = None) -> None:
    """Open the explorer on ``model`` (in this terminal) and return when it quits.

    Args:
        model: the model (trained in place with ``t`` when ``dataset`` is given).
        input_data: the batch the table shows: a tensor, a tuple of positional inputs or a dict of keywords;
            left out, nnview infers one from the first layer.
        dataset: a function returning ``(x_train, y_train, x_val, y_val)``, as a model file's ``dataset()``.

    Raises:
        RuntimeError: inside a Jupyter kernel (there is no terminal): use ``nnview serve`` there.
    """
    if _in_notebook() or not sys.stdin.isatty() or not sys.stdout.isatty():
        raise RuntimeError(
            "explore() needs a terminal, and this process has none (a notebook kernel, or redirected input/output). "
            "In a notebook, print(summary(model, x)) shows the table; for the explorer, save the model in a file "
            "and run `nnview serve FILE` (a browser tab), or `nnview FILE` in a terminal"
        )
    from tui.app import NnviewApp
    from tui.core.options import SessionOptions

    namespace: dict[str, Any] = {}
    if input_data is not None:
        namespace["example_input"] = input_data
    if dataset is not None:
        namespace["dataset"] = dataset
    loaded = _loaded(model, False, namespace)
    NnviewApp(SessionOptions(IN_MEMORY, preloaded=loaded), watch=False).run()


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell" or "ipykernel" in sys.modules


def _loaded(model: Any, meta: bool, namespace: dict[str, Any] | None = None) -> LoadedModel:
    import torch
    from torch import nn

    from tui.core.load.model_file import LoadedModel

    if meta and callable(model) and not isinstance(model, nn.Module):
        with torch.device("meta"):
            model = model()
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if meta and any(p.device.type != "meta" for p in model.parameters()):
        raise ValueError(
            "summary(meta=True): this model's weights are real already; pass a function that builds it "
            "(summary(lambda: MyModel(), meta=True)), or build it under `with torch.device('meta'):`"
        )
    return LoadedModel(model, type(model).__name__, IN_MEMORY, namespace or {})


def _specs(input_size: Any, dtypes: Sequence[str] | None) -> list[TensorSpec]:
    from tui.core.example_input import DTYPES
    from tui.core.records import TensorSpec

    if input_size is None:
        return []
    shapes = list(input_size) if input_size and not isinstance(input_size[0], int) else [input_size]
    if isinstance(input_size, str) or not shapes or any(
        isinstance(s, str) or not s or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in s)
        for s in shapes
    ):
        raise ValueError(f"input_size={input_size!r}: a shape such as (4, 5), or a list of shapes, of sizes ≥ 1")
    names = list(dtypes or ["float32"] * len(shapes))
    if len(names) != len(shapes):
        raise ValueError(f"dtypes: one per input ({len(shapes)}), got {len(names)}")
    unknown = [d for d in names if d not in DTYPES]
    if unknown:
        raise ValueError(f"dtypes: {unknown[0]!r} is not a dtype nnview knows; one of {', '.join(DTYPES)}")
    return [TensorSpec(tuple(s), d) for s, d in zip(shapes, names, strict=True)]


def _example(loaded: LoadedModel, input_data: Any, specs: list[TensorSpec], batch: int) -> Any:
    from tui.core.load.inputs import resolve_inputs

    if input_data is not None:
        loaded.namespace["example_input"] = input_data
    try:
        example = resolve_inputs(loaded, specs, batch)
    finally:
        loaded.namespace.pop("example_input", None)
    if input_data is not None or specs:  # say where it came from in the API's words, not the command line's
        example = replace(example, origin="input_data" if input_data is not None else "input_size")
    return example
