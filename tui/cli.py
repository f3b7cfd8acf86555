"""Argument parsing: ``nnview [FILE]`` opens the explorer, ``nnview summary`` prints a table."""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import sys
from collections.abc import Iterator, Sequence

from tui import __version__
from tui.arguments import Parser, parse, report_error

EXIT_USER_ERROR = 2
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE
EXIT_INTERRUPTED = 128 + 2  # as if killed by SIGINT
COMMANDS = ("summary",)


def bundled_model() -> str:
    """The path of the bundled default model, models/simple.py (also inside an installed wheel)."""
    from importlib.resources import files

    return str(files("tui") / "examples" / "simple.py")


def _add_model_arguments(parser: Parser) -> None:
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


def summary_parser() -> Parser:
    """The parser for ``nnview summary``."""
    parser = Parser(
        prog="nnview summary",
        description="Trace one forward pass and print every layer's shapes, parameters and MACs.",
    )
    _add_model_arguments(parser)
    parser.add_setting("--depth", "depth", default=None, metavar="N", help="fold rows deeper than N into their parent")
    parser.add_argument("--meta", action="store_true", help="build and trace on the meta device: no weights allocated")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--no-stats", action="store_true", help="skip output statistics (faster on big activations)")
    parser.add_setting(
        "--timeout",
        "timeout",
        default=None,
        metavar="SECONDS",
        help="give up (exit 2) when the model's code runs longer than this",
    )
    return parser


def run_summary(argv: Sequence[str]) -> int:
    """``nnview summary``: print the table (or JSON); exit 2 with a clear message on a user error."""
    from tui.core.records import NnviewError

    try:  # before importing torch: a mistyped argument is answered at once
        args = parse(summary_parser(), argv)
    except NnviewError as exc:
        return report_error(exc.record, "--json" in argv)
    from rich.console import Console

    from tui.core.session import summarize
    from tui.report import error_view, summary_view

    args.model = args.model or bundled_model()
    with _collector_paused():
        try:
            result = summarize(
                args.model,
                inputs=args.input,
                batch=args.batch,
                meta=args.meta,
                budget_bytes=0,  # a summary prints statistics; it keeps no tensors for display
                stats=not args.no_stats,
                timeout=args.timeout,
            )
        except KeyboardInterrupt:
            return _interrupted()
        except NnviewError as exc:
            _stop_capturing_output()  # after a timeout the model's code still runs, with fds 1 and 2 redirected
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


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a summary is made, and none at the process's exit.

    A summary is one short pass: a full collection would walk every object torch made, several
    times over (after the model is built, while 5,000 rows are formatted, and at exit, ~0.15 s with
    torch loaded). Tracing already pauses the collector for the same reason; this extends the pause
    to the whole command. The collector is restored after (a test calling ``main()`` keeps a normal
    heap) and the heap is frozen in an exit handler, which runs after threads are joined and before
    modules are torn down: reference counting still frees, atexit handlers and ``weakref.finalize`` run.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        atexit.register(gc.freeze)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nnview`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _dispatch(args)
    except BrokenPipeError:
        code = _reader_went_away()
    if "tui.core.guest_threads" in sys.modules:  # user code ran: it may have left threads that block exit
        from tui.core.guest_threads import exit_now_if_stuck

        code = exit_now_if_stuck(code)
    return code


def _stop_capturing_output() -> None:
    """Point fds 1 and 2 back at the terminal even if the model's code is still running."""
    if "tui.core.guest" in sys.modules:
        from tui.core.guest_output import restore_output_now

        restore_output_now()


def _interrupted() -> int:
    """Ctrl+C: one line saying what was running (and where), exit 130 as a shell expects."""
    _stop_capturing_output()
    running = None
    if "tui.core.guest_threads" in sys.modules:
        from tui.core.guest_threads import current_activity

        activity = current_activity()
        running = activity.describe() if activity is not None else None
    print(f"interrupted: {running}" if running else "interrupted", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


def _reader_went_away() -> int:
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


def _dispatch(args: list[str]) -> int:
    if args and args[0] in ("-V", "--version"):
        print(f"nnview {__version__}")
        return 0
    if args and args[0] == "summary":
        return run_summary(args[1:])
    if args and args[0] == "train":
        from tui.train_cli import run_train

        return run_train(args[1:])
    return run_explorer(args)


def explorer_parser() -> Parser:
    """The parser for ``nnview [FILE]``."""
    parser = Parser(
        prog="nnview",
        description="Explore a PyTorch model in the terminal. `nnview summary FILE` prints a table instead.",
    )
    _add_model_arguments(parser)
    parser.add_argument("--meta", action="store_true", help="build and trace on the meta device: no weights allocated")
    parser.add_setting("--budget-mb", "budget_mb", default=256, metavar="MB", help="memory for keeping layer outputs")
    parser.add_argument("--no-watch", action="store_true", help="do not reload when the model file is saved")
    parser.add_argument("--data", help="training data for t/s: a built-in name or a .csv file (default: dataset())")
    parser.add_argument("--target", dest="target_column", help="the CSV column holding the target")
    return parser


def run_explorer(argv: Sequence[str]) -> int:
    """``nnview [FILE]``: check the arguments and the target, then open the explorer; exit 2 before the UI."""
    from tui.core.records import NnviewError
    from tui.core.targets import parse_target

    if "NO_COLOR" in os.environ:  # else Textual greys out colours but still sends 24-bit sequences
        os.environ.pop("COLORTERM", None)
    try:
        args = parse(explorer_parser(), argv)
        target = args.model or bundled_model()
        parse_target(target)
    except NnviewError as exc:
        return report_error(exc.record, False)
    from tui.app import run_app
    from tui.core.options import SessionOptions  # no torch: the trace worker imports it after the first frame

    options = SessionOptions(
        target,
        tuple(args.input),
        args.batch,
        args.meta,
        int(args.budget_mb * 1024 * 1024),
        data=args.data,
        target_column=args.target_column,
    )
    return run_app(options, watch=not args.no_watch)  # 1 after a crash, 143/129 after SIGTERM/SIGHUP


if __name__ == "__main__":
    raise SystemExit(main())
