"""Command-line arguments for ``nnview``, ``nnview summary`` and ``nnview train``, checked at the edge.

Every value is checked here, before a model is loaded or a screen opens, against the rules in
:mod:`tui.core.load.validate`; any mistake (argparse's own included) becomes one nnview error: exit 2,
what is wrong and how to fix it, never a traceback.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any, NoReturn

from tui.core.load.input_specs import check_input_size, parse_input_spec
from tui.core.load.validate import check_data_argument, check_weights_argument, parse_argument
from tui.core.records import ErrorRecord, NnviewError

EXIT_USER_ERROR = 2


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are :class:`NnviewError` and whose numbers follow ``RULES``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings: dict[str, tuple[str, str]] = {}  # dest -> (rule name, flag)

    def add_setting(self, flag: str, rule: str, **kwargs: Any) -> None:
        """A numeric option read as text, then checked by ``tui.core.load.validate.RULES[rule]``."""
        action = self.add_argument(flag, **kwargs)
        self.settings[action.dest] = (rule, flag)

    def error(self, message: str) -> NoReturn:
        """argparse's own complaint (unknown option, bad choice, missing value), as an nnview error."""
        raise NnviewError(ErrorRecord(kind="input", message=message, hint=f"run `{self.prog} --help` for every option"))


def parse(parser: Parser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv`` and check every value: numbers, ``--input`` shapes and their size, ``--data``.

    Raises:
        NnviewError: kind ``input`` for the first value that is wrong, with the fix.
    """
    args = parser.parse_args(_attach_dashed_values(parser, argv))
    for dest, (rule, flag) in parser.settings.items():
        value = getattr(args, dest)
        if isinstance(value, str):
            setattr(args, dest, parse_argument(rule, value, flag))
    specs = [parse_input_spec(text) for text in getattr(args, "input", None) or ()]
    if specs and not getattr(args, "meta", False):
        check_input_size(specs, "a smaller --input shape")
    if hasattr(args, "data"):
        check_data_argument(args.data, args.target_column)
    check_weights_argument(getattr(args, "weights", None))
    return args


def _attach_dashed_values(parser: Parser, argv: Sequence[str]) -> list[str]:
    """``--lr -inf`` -> ``--lr=-inf``: argparse would take ``-inf`` (or ``-1e-3``) for an option and say only
    "expected one argument"; attached, the value reaches the rule that says what is wrong with it."""
    flags = {flag for _, flag in parser.settings.values()}
    out: list[str] = []
    for token in argv:
        if out and out[-1] in flags and token.startswith("-") and token not in parser._option_string_actions:
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def report_error(error: ErrorRecord, as_json: bool) -> int:
    """Print a user error (and, with ``--json``, its ``{"error": ...}`` object on stdout); return 2."""
    from rich.console import Console

    from tui.report import error_view

    if as_json:
        print(json.dumps({"error": error.to_json()}), flush=True)
    # soft_wrap: the terminal wraps long lines itself, and piped text stays greppable.
    Console(stderr=True, highlight=False, soft_wrap=True).print(error_view(error))
    return EXIT_USER_ERROR


def bundled_model() -> str:
    """The path of the bundled default model, models/simple.py (also inside an installed wheel)."""
    from importlib.resources import files

    return str(files("tui") / "examples" / "simple.py")


def add_timeout_argument(parser: Parser) -> None:
    """``--timeout SECONDS``: shared by ``nnview summary`` and ``nnview export``."""
    parser.add_setting(
        "--timeout",
        "timeout",
        default=None,
        metavar="SECONDS",
        help="give up (exit 2) when the model's code runs longer than this",
    )


def add_model_arguments(parser: Parser) -> None:
    """The model file, ``--input``, ``--batch`` and ``--debug``: shared by ``nnview`` and ``nnview summary``."""
    parser.add_argument(
        "model",
        metavar="FILE[:NAME]",
        nargs="?",
        default=None,
        help="model file (or pkg.module:attr), optionally :NAME; the bundled models/simple.py if left out",
    )
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="SHAPE[:dtype]",
        help="an input shape such as 4x5 or 2x12:long; repeat once per positional input",
    )
    parser.add_setting("--batch", "batch", default=4, metavar="N", help="batch size where nnview makes the input (4)")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
