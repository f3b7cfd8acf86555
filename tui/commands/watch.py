"""``nnview watch [RUN_DIR]``: follow a training run's folder live, or print its state once (``--json``)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from tui.commands.arguments import Parser, parse, report_error


def watch_parser() -> Parser:
    """The parser for ``nnview watch``."""
    parser = Parser(
        prog="nnview watch",
        description=(
            "Follow a training run live: the layer table with per-layer statistics, loss and metric curves, "
            "each rank's progress; t pauses or resumes the run, s stops it. The run writes its folder with "
            "tui.probe.Probe (or the Lightning / Hugging Face callbacks). A TensorBoard log folder (event files, "
            "sub-folders as runs) shows its scalar curves live."
        ),
    )
    parser.add_argument(
        "run_dirs",
        metavar="RUN_DIR",
        nargs="*",
        help=(
            "the run folder; the newest run under ./runs if left out. Several folders are one run whose nodes "
            "each wrote their own ranks (no shared storage). Or a TensorBoard log folder"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the run's state once as JSON and exit")
    return parser


def run_watch(argv: Sequence[str]) -> int:
    """``nnview watch``: open the viewer (or print ``--json``); exit 2 with a clear message on a user error."""
    from tui.core.records import NnviewError
    from tui.core.runs.reader import RunReader, check_run_folder, find_newest_run, state_json
    from tui.core.tensorboard.reader import is_tensorboard_folder

    as_json = "--json" in argv
    try:
        args = parse(watch_parser(), argv)
        if len(args.run_dirs) == 1 and is_tensorboard_folder(args.run_dirs[0]):
            return _watch_tensorboard(Path(args.run_dirs[0]), args.json)
        paths = [check_run_folder(p) for p in args.run_dirs] if args.run_dirs else [find_newest_run()]
    except NnviewError as exc:
        return report_error(exc.record, as_json)
    if args.json:
        reader = RunReader(*paths)
        reader.poll()
        print(json.dumps(state_json(reader.state)), flush=True)
        return 0
    if "NO_COLOR" in os.environ:  # else Textual greys out colours but still sends 24-bit sequences
        os.environ.pop("COLORTERM", None)
    from tui.screens.watch_app import run_watch_app

    return run_watch_app([Path(p) for p in paths])


def _watch_tensorboard(path: Path, as_json: bool) -> int:
    """``nnview watch LOGDIR`` on a TensorBoard log folder (event files and no run.json / rank files)."""
    from tui.core.tensorboard.reader import TensorBoardReader, tensorboard_json

    reader = TensorBoardReader(path)  # an NnviewError (no tensorboard package) is reported by run_watch
    if as_json:
        reader.poll()
        print(json.dumps(tensorboard_json(reader.state)), flush=True)
        return 0
    if "NO_COLOR" in os.environ:
        os.environ.pop("COLORTERM", None)
    from tui.screens.tb_watch import run_tb_watch_app

    return run_tb_watch_app(reader)
