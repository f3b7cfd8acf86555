"""``nnview train``: headless training with a progress bar and the seed's one line per epoch."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

EXIT_USER_ERROR = 2


def train_parser() -> argparse.ArgumentParser:
    """The parser for ``nnview train``."""
    from tui.core.datasets import BUILT_IN
    from tui.core.training import LOSSES, OPTIMIZERS

    parser = argparse.ArgumentParser(prog="nnview train", description="Train a model file headlessly.")
    parser.add_argument("model", metavar="FILE[:NAME]", help="model file (or pkg.module:attr)")
    parser.add_argument("--data", help=f"built-in dataset ({', '.join(BUILT_IN)}) or a .csv file; default: dataset()")
    parser.add_argument("--target", dest="target_column", help="the CSV column holding the target (default: last)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--loss", choices=LOSSES)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default cpu)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: 1 for small steps, else torch's)")
    parser.add_argument("--weights", help="start from these weights (safetensors; pickles are refused)")
    parser.add_argument("--save", help="write a checkpoint here when training ends (safetensors + .json)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a progress bar")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    return parser


def epoch_line(event: object) -> str:
    """The seed's format: Epoch [k/N], Train Loss: ..., Val Loss: ..., Train Acc: ..., Val Acc: ..."""
    line = f"Epoch [{event.epoch}/{event.epochs}], Train Loss: {event.train_loss:.4f}, Val Loss: {event.val_loss:.4f}"  # type: ignore[attr-defined]
    if event.train_accuracy is not None:  # type: ignore[attr-defined]
        line += f", Train Acc: {event.train_accuracy:.4f}, Val Acc: {event.val_accuracy:.4f}"  # type: ignore[attr-defined]
    return line


def run_train(argv: Sequence[str]) -> int:
    """Train, print progress and epochs, save if asked; exit 2 with a clear message on user errors."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from tui.core.records import NnviewError
    from tui.core.train_run import TrainOptions, open_training, train
    from tui.core.training import EpochRecord, TrainConfig
    from tui.report import error_view

    args = train_parser().parse_args(argv)
    given = {
        key: getattr(args, key)
        for key in ("epochs", "batch_size", "lr", "optimizer", "loss", "weight_decay", "seed")
        if getattr(args, key) is not None
    }
    if any(value is not None and value <= 0 for key, value in given.items() if key in ("epochs", "batch_size", "lr")):
        train_parser().error("--epochs, --batch-size and --lr must be positive")
    config = TrainConfig(**given, device=args.device, threads=args.threads)
    options = TrainOptions(args.model, args.data, args.target_column, config, tuple(given), args.weights, args.save)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        session = open_training(options)
        events = train(session, args.save)
        if args.json:
            for event in events:
                kind = "epoch" if isinstance(event, EpochRecord) else "step"
                print(json.dumps({"event": kind, **asdict(event)}), flush=True)
        else:
            console = Console(highlight=False, soft_wrap=True)
            total = session.config.epochs * session.trainer.steps_per_epoch
            columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
            with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
                task = progress.add_task("training", total=total)
                for event in events:
                    if isinstance(event, EpochRecord):
                        progress.console.print(epoch_line(event))
                    else:
                        progress.advance(task)
            if args.save:
                console.print(f"saved {args.save}")
    except NnviewError as exc:
        if args.debug:
            import traceback

            traceback.print_exception(exc.__cause__ or exc)
        if args.json:
            print(json.dumps({"error": exc.record.to_json()}))
        errors.print(error_view(exc.record))
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        errors.print("interrupted: nothing was saved")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(run_train(sys.argv[1:]))
