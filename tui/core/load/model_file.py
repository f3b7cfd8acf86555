"""Model file or ``pkg.module:attr`` -> a built model and the namespace it came from.

The contract (also in the README): a file is executed by path, never imported as a package,
and the model is, in order, ``NAME`` when given (an ``nn.Module`` instance, an ``nn.Module``
subclass with a no-argument constructor, or a zero-argument factory), else ``build_model()``,
else a module-level ``model`` instance, else the single no-argument ``nn.Module`` subclass
defined in that file.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tui.core.guest.usercode import run_user_code
from tui.core.load.file_guards import evict_neighbours, meta_hint, on_meta, relative_import_error
from tui.core.load.model_refs import MAX_SOURCE_BYTES, check_model_file, parse_model_ref, unreadable
from tui.core.records import ErrorRecord, NnviewError


@dataclass
class LoadedModel:
    """A model built from the user's code, with the namespace it was defined in.

    Attributes:
        model: the built module.
        name: how the model was found, e.g. ``"SimpleNN"`` or ``"build_model"``.
        source: the file path or dotted module the code came from.
        namespace: the module's globals, for ``example_input``, ``dataset``, ``loss``...
        user_files: files whose frames count as the user's in error locations.
        output: everything the user's code printed while loading and building.
    """

    model: nn.Module
    name: str
    source: str
    namespace: dict[str, Any] = field(repr=False)
    user_files: tuple[str, ...] = ()
    output: str = ""


def _exec_file(path: Path, meta: bool = False, attr: str | None = None) -> tuple[dict[str, Any], str]:
    """Compile and execute a model file under a private module name; return its globals.

    Under ``meta`` the file's own top level runs inside ``torch.device("meta")``: a module-level
    ``model = LM()`` allocates nothing, and weights it ties stay tied.
    """
    check_model_file(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise unreadable(path, (exc.strerror or str(exc)).lower()) from None
    if len(raw) > MAX_SOURCE_BYTES:  # it grew after the check
        check_model_file(path)
    if b"\x00" in raw:
        raise NnviewError(
            ErrorRecord(
                kind="syntax",
                message=f"{path} is not Python source: it contains binary data (a NUL byte at offset {raw.index(0)})",
                hint="point nnview at a .py file that defines a torch.nn.Module",
                location=str(path),
            )
        )
    text = raw.decode("utf-8", errors="replace")
    try:
        code = compile(raw, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        undecodable = "decode" in str(exc.msg) or "codec" in str(exc.msg)
        if not undecodable and not _looks_like_python(text):
            raise NnviewError(_not_python(path, text)) from exc
        where = f"{path}:{exc.lineno}:{exc.offset}" if exc.lineno else str(path)
        line = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        raise NnviewError(
            ErrorRecord(
                kind="syntax",
                message=f"syntax error in {where}: {exc.msg}{line}",
                hint=f"fix line {exc.lineno} of {path.name}" if exc.lineno else "fix the file",
                location=where,
            )
        ) from exc
    except ValueError as exc:  # e.g. source that is not valid UTF-8 in some Python versions
        raise NnviewError(
            ErrorRecord(kind="syntax", message=f"{path} is not Python source: {exc}", hint="point nnview at a .py file")
        ) from exc
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    module_name = f"nnview_user_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
    module = types.ModuleType(module_name)
    module.__file__ = str(path.resolve())
    # Registered so that dataclasses, pickling and typing inside the file can find their module.
    sys.modules[module_name] = module

    def run() -> None:
        if meta:
            with torch.device("meta"):
                exec(code, module.__dict__)  # running the user's model file is the point
        else:
            exec(code, module.__dict__)

    try:
        _, output = run_user_code(run, "loading the file", (str(path),), path.resolve().parent, str(path))
    except NnviewError as exc:
        del sys.modules[module_name]
        if not _looks_like_python(text):
            raise NnviewError(_not_python(path, text)) from exc
        cause = exc.__cause__
        if isinstance(cause, ImportError) and "no known parent package" in str(cause):
            raise NnviewError(relative_import_error(path, text, attr, exc.record)) from cause
        if meta and cause is not None and "meta" in str(cause):
            raise NnviewError(meta_hint(exc.record)) from cause
        raise
    return module.__dict__, output


def _looks_like_python(text: str) -> bool:
    """Whether any line starts like Python code does (import, def, class, a decorator)."""
    return bool(re.search(r"^\s*(import |from \S+ import |def |class |@)", text, re.MULTILINE))


def _not_python(path: Path, text: str) -> ErrorRecord:
    """The record for a file that is plainly something else (Markdown, CSV, notes) named .py."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return ErrorRecord(
        kind="syntax",
        message=f"{path} does not look like Python source: no import, def or class lines (it starts {first[:40]!r})",
        hint="point nnview at a .py file that defines a torch.nn.Module",
        location=str(path),
    )


def _import_module(dotted: str) -> tuple[dict[str, Any], str, tuple[str, ...]]:
    """Import ``dotted`` as a normal module; return its globals, printed text and its file."""
    module, output = run_user_code(
        lambda: importlib.import_module(dotted), f"importing {dotted}", (), Path.cwd(), dotted
    )
    files = (str(module.__file__),) if getattr(module, "__file__", None) else ()
    return module.__dict__, output, files


def _takes_no_arguments(obj: Any) -> bool:
    """Whether ``obj`` (a class or function) can be called with no arguments."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    params = list(sig.parameters.values())
    if inspect.isclass(obj) and params and params[0].name == "self":
        params = params[1:]
    return all(p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)


def _module_classes(namespace: dict[str, Any]) -> list[tuple[str, type]]:
    """The ``nn.Module`` subclasses defined in this namespace's own file."""
    own = namespace.get("__name__")
    return [
        (key, value)
        for key, value in namespace.items()
        if inspect.isclass(value) and issubclass(value, nn.Module) and value.__module__ == own
    ]


def _pick(namespace: dict[str, Any], attr: str | None, source: str) -> tuple[str, Any]:
    """Choose the object that makes the model, following the contract's order."""
    if attr is not None:
        if attr not in namespace:
            names = [k for k, _ in _module_classes(namespace)] + [k for k in ("build_model", "model") if k in namespace]
            raise NnviewError(
                ErrorRecord(
                    kind="no_model",
                    message=f"{source} has no attribute {attr!r}",
                    hint=f"pick one of: {', '.join(names)}" if names else "check the name after the colon",
                    candidates=tuple(names),
                )
            )
        return attr, namespace[attr]
    if callable(namespace.get("build_model")):
        return "build_model", namespace["build_model"]
    if isinstance(namespace.get("model"), nn.Module):
        return "model", namespace["model"]
    classes = _module_classes(namespace)
    usable = [(k, c) for k, c in classes if _takes_no_arguments(c)]
    if len(usable) == 1:
        return usable[0]
    if len(usable) > 1:
        choices = tuple(k for k, _ in usable)
        raise NnviewError(
            ErrorRecord(
                kind="ambiguous",
                message=f"{source} defines {len(choices)} candidate models: {', '.join(choices)}",
                hint=f"pick one with {source}:NAME, e.g. {source}:{choices[-1]}, or add a build_model() function",
                candidates=choices,
            )
        )
    if classes:
        needs = ", ".join(k for k, _ in classes)
        hint = f"{needs} need constructor arguments: add `def build_model(): return {classes[0][0]}(...)`"
    else:
        hint = "define an nn.Module subclass, a build_model() function or a module-level `model`"
    raise NnviewError(ErrorRecord(kind="no_model", message=f"no model found in {source}", hint=hint))


def _build(found: Any, name: str, meta: bool) -> nn.Module:
    """Turn the chosen object into a module instance, on the meta device if asked."""
    if isinstance(found, nn.Module):
        return on_meta(found) if meta else found
    if not callable(found):
        raise NnviewError(
            ErrorRecord(
                kind="no_model",
                message=f"{name} is a {type(found).__name__}, not a model",
                hint="NAME must be an nn.Module instance, an nn.Module subclass or a function that returns one",
            )
        )
    if not _takes_no_arguments(found):
        raise NnviewError(
            ErrorRecord(
                kind="no_model",
                message=f"{name} needs arguments to build the model",
                hint=f"give every argument of {name} a default, or add `def build_model(): return {name}(...)`",
            )
        )
    if meta:
        with torch.device("meta"):
            built = found()
        return on_meta(built) if isinstance(built, nn.Module) else built
    return found()  # type: ignore[no-any-return]


def load_model(text: str, *, meta: bool = False, imported: list[str] | None = None) -> LoadedModel:
    """Load and build the model named by ``FILE[:NAME]`` or ``pkg.module[:attr]``.

    Modules the file imports from its own folder are forgotten again afterwards (so a reload imports
    them afresh) and count as the user's files: in error locations, and for the explorer to watch.

    Args:
        text: what the user typed.
        meta: run the file's top level and build the model on the meta device, allocating no weights.
        imported: when given, receives the files of the neighbour modules the file imported, also
            when loading fails.

    Returns:
        The built model with its namespace.

    Raises:
        NnviewError: kinds ``load``, ``syntax``, ``no_model`` or ``ambiguous``.
    """
    target = parse_model_ref(text)
    # Same weights on every run unless the file seeds torch itself.
    torch.manual_seed(0)
    before = set(sys.modules)
    neighbours: list[str] = []
    try:
        if target.is_file:
            namespace, output = _exec_file(Path(target.location), meta, target.attr)
            files: tuple[str, ...] = (target.location,)
            search_dir: Path | None = Path(target.location).resolve().parent
        else:
            namespace, output, files = _import_module(target.location)
            search_dir = Path.cwd()
        name, found = _pick(namespace, target.attr, target.location)
        built, more = run_user_code(
            lambda: _build(found, name, meta), f"building the model with {name}", files, search_dir, target.location
        )
    finally:
        if target.is_file:
            neighbours = evict_neighbours(before, Path(target.location).resolve().parent)
            if imported is not None:
                imported.extend(neighbours)
    files = (*files, *(f for f in neighbours if f not in files))
    if not isinstance(built, nn.Module):
        raise NnviewError(
            ErrorRecord(
                kind="no_model",
                message=f"{name}() returned a {type(built).__name__}, not an nn.Module",
                hint=f"make {name} return the model (an nn.Module instance)",
            )
        )
    label = type(built).__name__ if name in ("build_model", "model") else name
    return LoadedModel(built, label, target.location, namespace, files, output + more)
