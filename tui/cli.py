"""Argument parsing: ``nnview [FILE]`` opens the explorer, ``nnview summary`` prints a table."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from tui import __version__

EXIT_USER_ERROR = 2
COMMANDS = ("summary",)


def bundled_model() -> str:
    """The path of the bundled default model, models/simple.py (also inside an installed wheel)."""
    from importlib.resources import files

    return str(files("tui") / "examples" / "simple.py")


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument("--batch", type=int, default=4, metavar="N", help="batch size where nnview makes the input (4)")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")


def summary_parser() -> argparse.ArgumentParser:
    """The parser for ``nnview summary``."""
    parser = argparse.ArgumentParser(
        prog="nnview summary",
        description="Trace one forward pass and print every layer's shapes, parameters and MACs.",
    )
    _add_model_arguments(parser)
    parser.add_argument(
        "--depth", type=int, default=None, metavar="N", help="fold rows deeper than N into their parent"
    )
    parser.add_argument("--meta", action="store_true", help="build and trace on the meta device: no weights allocated")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--no-stats", action="store_true", help="skip output statistics (faster on big activations)")
    return parser


def run_summary(argv: Sequence[str]) -> int:
    """``nnview summary``: print the table (or JSON); exit 2 with a clear message on a user error."""
    from rich.console import Console

    from tui.core.records import NnviewError
    from tui.core.session import summarize
    from tui.report import error_view, summary_view

    args = summary_parser().parse_args(argv)
    args.model = args.model or bundled_model()
    if args.batch < 1:
        summary_parser().error("--batch must be at least 1")
    try:
        result = summarize(
            args.model,
            inputs=args.input,
            batch=args.batch,
            meta=args.meta,
            budget_bytes=0,  # a summary prints statistics; it keeps no tensors for display
            stats=not args.no_stats,
        )
    except NnviewError as exc:
        if args.debug:
            import traceback

            traceback.print_exception(exc.__cause__ or exc)
        if args.json:
            print(json.dumps({"error": exc.record.to_json()}))
        # soft_wrap: the terminal wraps long lines itself, and piped text stays greppable.
        Console(stderr=True, highlight=False, soft_wrap=True).print(error_view(exc.record))
        return EXIT_USER_ERROR
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        console = Console(highlight=False)
        console.print(summary_view(result, args.depth, console.width))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nnview`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-V", "--version"):
        print(f"nnview {__version__}")
        return 0
    if args and args[0] == "summary":
        return run_summary(args[1:])
    if args and args[0] == "train":
        from tui.train_cli import run_train

        return run_train(args[1:])
    return run_explorer(args)


def explorer_parser() -> argparse.ArgumentParser:
    """The parser for ``nnview [FILE]``."""
    parser = argparse.ArgumentParser(
        prog="nnview",
        description="Explore a PyTorch model in the terminal. `nnview summary FILE` prints a table instead.",
    )
    _add_model_arguments(parser)
    parser.add_argument("--meta", action="store_true", help="build and trace on the meta device: no weights allocated")
    parser.add_argument("--budget-mb", type=float, default=256, metavar="MB", help="memory for keeping layer outputs")
    parser.add_argument("--no-watch", action="store_true", help="do not reload when the model file is saved")
    parser.add_argument("--data", help="training data for t/s: a built-in name or a .csv file (default: dataset())")
    parser.add_argument("--target", dest="target_column", help="the CSV column holding the target")
    return parser


def run_explorer(argv: Sequence[str]) -> int:
    """``nnview [FILE]``: check the target, then open the explorer; exit 2 before the UI on a bad path."""
    from rich.console import Console

    from tui.core.records import NnviewError
    from tui.core.targets import parse_target
    from tui.report import error_view

    args = explorer_parser().parse_args(argv)
    target = args.model or bundled_model()
    if "NO_COLOR" in os.environ:  # else Textual greys out colours but still sends 24-bit sequences
        os.environ.pop("COLORTERM", None)
    try:
        parse_target(target)
    except NnviewError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(error_view(exc.record))
        return EXIT_USER_ERROR
    from tui.app import NnviewApp
    from tui.core.session import SessionOptions

    options = SessionOptions(
        target,
        tuple(args.input),
        args.batch,
        args.meta,
        int(args.budget_mb * 1024 * 1024),
        data=args.data,
        target_column=args.target_column,
    )
    NnviewApp(options, watch=not args.no_watch).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
