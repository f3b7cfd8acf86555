"""``nnview export FILE --onnx OUT.onnx``: write the model as ONNX (for Netron), checked and compared with PyTorch.

The model and its input are found exactly as ``nnview summary`` finds them (the same arguments, the
same load and trace, the same error view); the export itself is :func:`tui.core.export.onnx_export.export_onnx`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui.commands.arguments import Parser, add_model_arguments, add_timeout_argument, bundled_model, parse, report_error
from tui.commands.exits import EXIT_USER_ERROR, interrupted, stop_capturing_output

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from tui.core.export.records import OnnxExport
    from tui.core.records import NnviewError

EXIT_CHECK_FAILED = 1  # written, but onnxruntime disagreed with PyTorch (or could not run the file)
NETRON = "open it in Netron: `netron {path}` (pip install netron), or drop it on the page at netron.app"


def export_parser() -> Parser:
    """The parser for ``nnview export``."""
    parser = Parser(
        prog="nnview export",
        description="Export the model to an ONNX file (for Netron), check it and compare it with PyTorch.",
    )
    add_model_arguments(parser)
    parser.add_argument("--onnx", required=True, metavar="OUT.onnx", help="the ONNX file to write")
    parser.add_argument(
        "--opset", type=int, default=None, metavar="N", help="the ONNX opset, 7 to 20 (default: the exporter's, 20)"
    )
    parser.add_argument("--static-batch", action="store_true", help="keep the batch size fixed (default: dynamic)")
    parser.add_argument("--force", action="store_true", help="replace OUT.onnx if it exists")
    add_timeout_argument(parser)
    return parser


def run_export(argv: Sequence[str]) -> int:
    """``nnview export``: 0 when written (and matching), 1 when onnxruntime disagrees, 2 for a user error."""
    from tui.core.records import NnviewError

    try:  # the arguments and the output path, before the model is loaded
        args = parse(export_parser(), argv)
        from tui.core.export.onnx_export import check_opset
        from tui.core.export.out_path import check_onnx_path
        from tui.core.export.verify import require_onnx

        require_onnx()
        check_opset(args.opset)
        target = check_onnx_path(args.onnx, force=args.force)
    except NnviewError as exc:
        return report_error(exc.record, False)
    try:
        result = _export(args, target)
    except KeyboardInterrupt:
        return interrupted()
    except NnviewError as exc:
        return _failed(exc, args.debug)
    for line in result.lines():
        print(line)
    print(NETRON.format(path=result.path))
    return 0 if result.verified else EXIT_CHECK_FAILED


def _export(args: argparse.Namespace, target: Path) -> OnnxExport:
    """Load and trace as ``nnview summary`` does, then export the traced model and input."""
    from tui.core.export.onnx_export import export_onnx
    from tui.core.guest.threads import call_bounded
    from tui.core.session import ModelSession, SessionOptions

    options = SessionOptions(args.model or bundled_model(), tuple(args.input), args.batch, budget_bytes=0, stats=False)
    session = ModelSession(options)
    call_bounded(session.open, timeout=args.timeout)  # the user's code in a thread: Ctrl+C and --timeout answer
    assert session.loaded is not None and session.example is not None
    loaded, example = session.loaded, session.example

    def export() -> OnnxExport:
        dynamic = not args.static_batch
        return export_onnx(loaded, example, target, opset=args.opset, dynamic_batch=dynamic, replace=args.force)

    return call_bounded(export, timeout=args.timeout)


def _failed(exc: NnviewError, debug: bool) -> int:
    """Print the error view (and the traceback under ``--debug``); exit 2."""
    stop_capturing_output()  # after a timeout the model's code still runs, with fds 1 and 2 redirected
    if debug:
        import traceback

        traceback.print_exception(exc.__cause__ or exc)
    report_error(exc.record, False)
    return EXIT_USER_ERROR
