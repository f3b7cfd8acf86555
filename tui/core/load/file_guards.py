"""What loading a model file needs beyond running it: its neighbour modules, the meta device, clear errors."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import torch
from torch import nn

from tui.core.records import ErrorRecord


def relative_import_error(path: Path, text: str, attr: str | None, record: ErrorRecord) -> ErrorRecord:
    """A package module run by path: name the dotted path that imports it with its package."""
    folder = path.resolve().parent
    parts = [path.stem]
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1:  # a namespace package (no __init__.py) still imports by its folder name
        parts.insert(0, folder.name)
        folder = folder.parent
    classes = re.findall(r"^class\s+(\w+)\s*\([^)]*Module", text, re.MULTILINE)
    name = attr or ("build_model" if re.search(r"^def build_model\b", text, re.MULTILINE) else None)
    name = name or (classes[-1] if classes else "NAME")
    dotted = ".".join(parts)
    where = "" if folder == Path.cwd().resolve() else f" from {folder} (cd there first)"
    return ErrorRecord(
        kind="load",
        message=f"{path} uses relative imports (from . import ...), so it only runs as part of its package "
        f"{parts[0]}, not by path",
        hint=f"run it as `nnview summary {dotted}:{name}`{where}",
        location=record.location,
        output=record.output,
    )


def meta_hint(record: ErrorRecord) -> ErrorRecord:
    """Say why a file that runs without ``--meta`` fails with it: its top level ran on the meta device."""
    return ErrorRecord(
        kind=record.kind,
        message=record.message,
        hint="under --meta the file's top level runs on the meta device, where tensors have shapes but no "
        "values: move code that needs values into build_model() or under `if __name__ == '__main__':`, "
        "or run without --meta",
        location=record.location,
        output=record.output,
    )


def evict_neighbours(before: set[str], folder: Path) -> list[str]:
    """Forget the modules imported from ``folder`` (``blocks.py`` beside the model); return their files.

    The next load imports them afresh, so an edit to ``blocks.py`` is seen on reload. Modules that were
    loaded before the model file (nnview's own, a library) and the file's own private module stay.
    """
    root = os.path.realpath(folder) + os.sep
    files = []
    for name in [n for n in list(sys.modules) if n not in before and not n.startswith("nnview_user_")]:
        filename = getattr(sys.modules.get(name), "__file__", None)
        if not filename:
            continue
        real = os.path.realpath(filename)
        if real.startswith(root) and "site-packages" not in real and "dist-packages" not in real:
            del sys.modules[name]
            files.append(filename)
    return files


def on_meta(model: nn.Module) -> nn.Module:
    """``model`` with every parameter and buffer on the meta device, tied ones still tied.

    ``model.to("meta")`` makes one new tensor per module that holds a tied weight (GPT-2's
    ``wte``/``lm_head``), so the tie would be counted twice; here each tensor is moved once.
    """
    moved: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # keeps the old tensor alive: ids stay unique
    for module in model.modules():
        for table in (module._parameters, module._buffers):
            for key, tensor in table.items():
                if tensor is None or tensor.device.type == "meta":
                    continue
                if id(tensor) not in moved:
                    new = tensor.to("meta")
                    if isinstance(tensor, nn.Parameter):
                        new = nn.Parameter(new, requires_grad=tensor.requires_grad)
                    moved[id(tensor)] = (tensor, new)
                table[key] = moved[id(tensor)][1]  # type: ignore[assignment]
    return model
