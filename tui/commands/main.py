"""The ``nnview`` console script: ``nnview [FILE]`` opens the explorer, ``nnview summary`` prints a table,
``nnview train`` trains without a screen, ``nnview watch`` follows a training run's folder, ``nnview export``
writes ONNX, ``nnview serve`` puts the explorer in a browser. Each subcommand lives beside this file."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tui import __version__
from tui.commands.exits import reader_went_away


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nnview`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _dispatch(args)
    except BrokenPipeError:
        code = reader_went_away()
    if "tui.core.guest.threads" in sys.modules:  # user code ran: it may have left threads that block exit
        from tui.core.guest.threads import exit_now_if_stuck

        code = exit_now_if_stuck(code)
    return code


def _dispatch(args: list[str]) -> int:
    if args and args[0] in ("-V", "--version"):
        print(f"nnview {__version__}")
        return 0
    if args and args[0] == "summary":
        from tui.commands.summary import run_summary

        return run_summary(args[1:])
    if args and args[0] == "train":
        from tui.commands.train import run_train

        return run_train(args[1:])
    if args and args[0] == "watch":
        from tui.commands.watch import run_watch

        return run_watch(args[1:])
    if args and args[0] == "export":
        from tui.commands.export import run_export

        return run_export(args[1:])
    if args and args[0] == "serve":
        from tui.commands.serve import run_serve

        return run_serve(args[1:])
    from tui.commands.explore import run_explorer

    return run_explorer(args)


if __name__ == "__main__":
    raise SystemExit(main())
