"""``nnview train``: headless training with a progress bar and the seed's one line per epoch.

Under torchrun every rank runs this; rank 0 alone prints and saves (see ``tui.core.train.distributed``).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tui.commands.arguments import Parser, parse, report_error

if TYPE_CHECKING:
    from tui.core.train.distributed import Ranks
    from tui.core.train.loop import TrainingUpdate
    from tui.core.train.records import EpochRecord
    from tui.core.train.run import TrainingSession

T = TypeVar("T")
EXIT_USER_ERROR = 2
EXIT_NOT_SAVED = 1  # trained, but --save could not be written: the weights went to a rescue file instead


def train_parser() -> Parser:
    """The parser for ``nnview train``."""
    from tui.core.load.validate import BUILT_IN, LOSSES, OPTIMIZERS

    parser = Parser(prog="nnview train", description="Train a model file headlessly.")
    parser.add_argument("model", metavar="FILE[:NAME]", help="model file (or pkg.module:attr)")
    parser.add_argument("--data", help=f"built-in dataset ({', '.join(BUILT_IN)}) or a .csv file; default: dataset()")
    parser.add_argument("--target", dest="target_column", help="the CSV column holding the target (default: last)")
    parser.add_setting("--epochs", "epochs", metavar="N")
    parser.add_setting("--batch-size", "batch_size", metavar="B", help="samples per step (per rank under torchrun)")
    parser.add_setting("--lr", "lr", metavar="LR")
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--loss", choices=LOSSES)
    parser.add_setting("--weight-decay", "weight_decay", metavar="W")
    parser.add_setting("--seed", "seed", metavar="S")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default cpu)")
    threads = "CPU threads (default: 1 for small steps, else torch's)"
    parser.add_setting("--threads", "threads", metavar="N", help=threads)
    parser.add_argument("--weights", help="start from these weights (safetensors; pickles are refused)")
    parser.add_argument(
        "--save",
        metavar="PATH.safetensors",
        help="write a checkpoint here when training ends (+ PATH.safetensors.json); checked before the first step",
    )
    parser.add_argument("--force", action="store_true", help="let --save replace an existing checkpoint")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a progress bar")
    run_dir = "write a run folder here for `nnview watch` (under torchrun: runs/<model>-<time> if not given)"
    parser.add_argument("--run-dir", metavar="DIR", help=run_dir)
    tensorboard = "also write TensorBoard event files here (epochs; layers' gradient norms and update ratios)"
    parser.add_argument("--log-dir", metavar="DIR", help=tensorboard)
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    return parser


def epoch_line(event: EpochRecord) -> str:
    """The seed's format: Epoch [k/N], Train Loss: ..., Val Loss: ..., Train Acc: ..., Val Acc: ..."""
    line = f"Epoch [{event.epoch}/{event.epochs}], Train Loss: {event.train_loss:.4f}, Val Loss: {event.val_loss:.4f}"
    if event.train_accuracy is not None:
        line += f", Train Acc: {event.train_accuracy:.4f}, Val Acc: {event.val_accuracy:.4f}"
    return line


def json_lines(update: TrainingUpdate) -> str:
    """One ``{"event": "step", ...}`` line per step of the update, each epoch's line right after its last step."""
    ended = {epoch.epoch: epoch for epoch in update.epoch_records}
    lines = []
    for i, step in enumerate(update.steps):
        lines.append(json.dumps({"event": "step", **asdict(step)}) + "\n")
        following = update.steps[i + 1].epoch if i + 1 < len(update.steps) else None
        if step.epoch in ended and following != step.epoch:
            lines.append(json.dumps({"event": "epoch", **asdict(ended.pop(step.epoch))}) + "\n")
    lines += [json.dumps({"event": "epoch", **asdict(epoch)}) + "\n" for epoch in ended.values()]
    return "".join(lines)


def raise_error(update: TrainingUpdate) -> None:
    """A step that failed comes as data in the update; the command reports it as any other user error."""
    from tui.core.records import NnviewError

    if update.error is not None:
        raise NnviewError(update.error)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: stop training as Ctrl+C does, and remember which signal it was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopRequests:
    """Ctrl+C, SIGTERM and SIGHUP while training: stop at the next step boundary, so the kept weights are whole.

    Before training starts (loading, checks), or when the signal comes a second time (a step that never
    ends), stop at once. Raising at the boundary, outside the model's code, also keeps the interruption
    from landing inside nnview's own bookkeeping around user code (fd redirection, restored state).
    ``requested`` is the training loop's pause: set, the loop yields right after the step in flight.
    """

    def __init__(self) -> None:
        self.signum: int | None = None  # a signal number, or VIEWER_STOP
        self.training = False
        self.requested = threading.Event()

    def __call__(self, signum: int, frame: object) -> None:
        if not self.training or self.signum is not None:
            raise Stopped(signum)
        self.signum = signum
        self.requested.set()

    def viewer_stop(self) -> None:
        """``nnview watch`` asked to stop: as a first signal does, at the next step boundary."""
        from tui.core.train.distributed import VIEWER_STOP

        if self.signum is None:
            self.signum = VIEWER_STOP
            self.requested.set()

    def watch(self, events: Iterator[T], ranks: Ranks | None = None) -> Iterator[T]:
        """Pass ``events`` through; raise :class:`Stopped` after the one during which a signal came.

        Under torchrun, only after the step the ranks agreed to stop at (a rank's own signal may come later).
        """
        self.training = True
        for event in events:
            yield event
            code = self.signum if ranks is None else (ranks.stopped_by[1] if ranks.stopped_by else None)
            if code is not None:
                raise Stopped(code)


def _keep_unsaved(session: TrainingSession) -> str:
    """Write the steps trained so far to a rescue checkpoint; the sentence that says where (or why not)."""
    from tui.core.load.save_path import save_rescue
    from tui.core.records import NnviewError

    trainer = session.trainer
    if trainer.step_count == 0:
        return "no step had finished: nothing to keep"
    info = {
        "model": session.loaded.source,
        "data": session.data.source,
        "hyperparameters": asdict(session.config),
        "step": trainer.step_count,
        "epoch": trainer.epoch,
        "emergency": True,
    }
    name = f"{Path(session.loaded.source.split(':')[0]).stem}-step{trainer.step_count}"
    try:
        path = save_rescue(trainer.model, info, name)
    except NnviewError as exc:
        return f"the {trainer.step_count} trained steps could not be kept: {exc.record.message}"
    return f"the {trainer.step_count} trained steps were written to {path}"


def _stopped_line(code: int, ranks: Ranks | None, kept: str, save: str | None) -> str:
    """What stopped training early (a signal, or ``nnview watch``; under torchrun, on which rank) and what is kept."""
    from tui.core.train.distributed import VIEWER_STOP

    by = "Ctrl+C" if code == signal.SIGINT else "nnview watch" if code == VIEWER_STOP else signal.Signals(code).name
    if ranks is not None and ranks.stopped_by is not None and code != VIEWER_STOP:  # the viewer stops every rank
        by += f" on rank {ranks.stopped_by[0]}"
    unchanged = f"; {save} was not touched" if save else ""
    return f"{'stopped' if code == VIEWER_STOP else 'interrupted'} by {by} before training ended: {kept}{unchanged}"


def run_train(argv: Sequence[str]) -> int:
    """Train, print progress and epochs, save if asked; exit 2 with a clear message on user errors."""
    from tui.core.records import NnviewError

    try:  # before importing torch: a mistyped argument is answered at once
        args = parse(train_parser(), argv)
    except NnviewError as exc:
        return report_error(exc.record, "--json" in argv)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from tui.core.load.checkpoints import SaveInterrupted
    from tui.core.load.save_path import SaveFailed
    from tui.core.train.distributed import VIEWER_STOP, Ranks, launch_from_env
    from tui.core.train.run import TrainOptions, open_checked, train
    from tui.core.train.step_errors import is_ranks_lost
    from tui.core.train.tensorboard_run import TrainingLog, logged
    from tui.core.train.trainer import TrainConfig
    from tui.core.train.watched import check_run_dir, run_folder_name
    from tui.report import error_view

    given = {
        key: getattr(args, key)
        for key in ("epochs", "batch_size", "lr", "optimizer", "loss", "weight_decay", "seed")
        if getattr(args, key) is not None
    }
    config = TrainConfig(**given, device=args.device, threads=args.threads)
    options = TrainOptions(args.model, args.data, args.target_column, config, tuple(given), args.weights, args.save)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    session = ranks = probe = log = None
    main = True  # rank 0 (or the only process): the one that prints and saves
    ended = ""  # why training ended early, for the run folder's last line
    together = False  # every rank ends here too: done, or a failure or stop they agreed on
    # SIGTERM and SIGHUP (an SSH connection dropping) stop training as Ctrl+C does: the steps are kept.
    stop = StopRequests()
    saved_handlers = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        launch = launch_from_env()
        main = launch is None or launch.rank == 0
        errors.quiet = not main  # the ranks agree on failures: rank 0 says what any of them saw
        if args.run_dir:
            check_run_dir(args.run_dir)
        if args.log_dir and main:  # before any work: a refused folder or no tensorboard package is said at once
            log = TrainingLog(args.log_dir)
        if launch is not None:
            ranks = Ranks.join(launch, args.device)
            ranks.requested = lambda: stop.signum
        run_dir = args.run_dir or (ranks.from_main(run_folder_name(args.model)) if ranks else None)
        session = open_checked(options, args.force, ranks, run_dir, stop.viewer_stop)
        probe = session.probe
        for note in session.notes:
            errors.print(f"warning: {note}")
        pause = ranks.stop if ranks else stop.requested
        if log is not None:
            log.attach(session.trainer)
        updates = logged(stop.watch(train(session, args.save if main else None, pause), ranks), log)
        if not main:  # the other ranks train quietly: rank 0 shows the agreed figures
            for update in updates:
                raise_error(update)
        elif args.json:
            for update in updates:
                print(json_lines(update), end="", flush=True)
                raise_error(update)
        else:
            console = Console(highlight=False, soft_wrap=True)
            total = session.config.epochs * session.trainer.steps_per_epoch
            columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
            with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
                task = progress.add_task("training", total=total)
                for update in updates:
                    progress.advance(task, len(update.steps))
                    for epoch in update.epoch_records:
                        progress.console.print(epoch_line(epoch))
                    raise_error(update)
            if args.save:
                console.print(f"saved {args.save} (and {args.save}.json)")
        together = True
    except SaveFailed as exc:  # trained, but not saved where asked: say where the weights are
        if args.json:
            print(json.dumps({"error": exc.record.to_json(), "rescued": str(exc.rescued) if exc.rescued else None}))
        errors.print(error_view(exc.record))
        together = True  # rank 0's own failure, after the others finished
        return EXIT_NOT_SAVED
    except NnviewError as exc:
        ended = exc.record.message
        together = not is_ranks_lost(exc.record)
        errors.quiet = not main and together  # rank 0 cannot say what this rank saw when the others are gone
        if args.debug:
            import traceback

            traceback.print_exception(exc.__cause__ or exc)  # every rank's: the cause is on the rank that failed
        if args.json and main:
            print(json.dumps({"error": exc.record.to_json()}))
        errors.print(error_view(exc.record))
        return EXIT_USER_ERROR
    except SaveInterrupted as exc:
        errors.print(f"interrupted while saving: {exc.on_disk}")
        together = True
        return 130
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        together = ranks is None or ranks.stopped_by is not None  # a second signal stops this rank at once
        kept = _keep_unsaved(session) if session is not None and main else "nothing was trained yet"
        with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone; the checkpoint is on disk anyway
            errors.print(_stopped_line(signum, ranks, kept, args.save))
        return 0 if signum == VIEWER_STOP else 128 + signum
    finally:
        for sig, handler in saved_handlers.items():
            signal.signal(sig, handler)
        if probe is not None:
            probe.close(ended)
        if log is not None:
            log.close()
        if ranks is not None:
            ranks.close(together)
    return 0


if __name__ == "__main__":
    sys.exit(run_train(sys.argv[1:]))
