"""``nnview [FILE]``: check the arguments and the model file's name, then open the explorer."""

from __future__ import annotations

import os
from collections.abc import Sequence

from tui.commands.arguments import Parser, add_model_arguments, bundled_model, parse, report_error


def explorer_parser() -> Parser:
    """The parser for ``nnview [FILE]``."""
    parser = Parser(
        prog="nnview",
        description=(
            "Explore a PyTorch model in the terminal. Also: `nnview summary FILE` prints the layer table "
            "(or --json), `nnview train FILE` trains without a screen, `nnview watch [RUN_DIR]` shows a training run "
            "that a Probe writes (your own loop, Lightning, Hugging Face, torchrun) or a TensorBoard folder, "
            "`nnview export FILE --onnx OUT.onnx` writes ONNX, `nnview serve FILE` serves this explorer to a browser. "
            "Each takes --help."
        ),
    )
    add_model_arguments(parser)
    parser.add_argument("--meta", action="store_true", help="build and trace on the meta device: no weights allocated")
    parser.add_setting("--budget-mb", "budget_mb", default=256, metavar="MB", help="memory for keeping layer outputs")
    parser.add_argument("--no-watch", action="store_true", help="do not reload when the model file is saved")
    parser.add_argument("--data", help="training data for t/s: a built-in name or a .csv file (default: dataset())")
    parser.add_argument("--target", dest="target_column", help="the CSV column holding the target")
    parser.add_argument("--weights", metavar="CKPT", help="open with weights saved by ctrl+s or `nnview train --save`")
    parser.add_argument("--log-dir", metavar="DIR", help="write TensorBoard event files of the training (t) here")
    return parser


def run_explorer(argv: Sequence[str]) -> int:
    """``nnview [FILE]``: check the arguments and the model file, then open the explorer; exit 2 before the UI."""
    from tui.core.load.model_refs import parse_model_ref
    from tui.core.records import NnviewError

    if "NO_COLOR" in os.environ:  # else Textual greys out colours but still sends 24-bit sequences
        os.environ.pop("COLORTERM", None)
    try:
        args = parse(explorer_parser(), argv)
        model_ref = args.model or bundled_model()
        parse_model_ref(model_ref)
        if args.log_dir:  # before the screen: a refused folder or no tensorboard package is said at once
            from tui.core.tensorboard.writer import check_log_dir, check_tensorboard_installed

            check_log_dir(args.log_dir)
            check_tensorboard_installed("writing TensorBoard logs")
    except NnviewError as exc:
        return report_error(exc.record, False)
    from tui.app import run_app
    from tui.core.options import SessionOptions  # no torch: the trace worker imports it after the first frame

    options = SessionOptions(
        model_ref,
        tuple(args.input),
        args.batch,
        args.meta,
        int(args.budget_mb * 1024 * 1024),
        data=args.data,
        target_column=args.target_column,
        weights=args.weights,
        log_dir=args.log_dir,
    )
    return run_app(options, watch=not args.no_watch)  # 1 after a crash, 143/129 after SIGTERM/SIGHUP
