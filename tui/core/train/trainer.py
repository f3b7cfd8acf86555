"""The seed's training loop, done right, as a step API a worker can drive and stop between steps.

``Trainer.step()`` trains one mini-batch (forward, loss, zero_grad, backward, optimizer step) and,
at the end of an epoch, evaluates on the validation split. It never touches a UI. The one loop that
walks it is ``tui.core.train.loop.training_updates``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, replace
from typing import Any

import torch
from torch import nn

from tui.core.dtypes import as_model_input, model_float_dtype
from tui.core.example_input import ExampleInput
from tui.core.guest.output import Captured
from tui.core.guest.usercode import sandboxed_process_state
from tui.core.load.datasets import TrainingData
from tui.core.load.validate import check_settings
from tui.core.records import ErrorRecord, NnviewError
from tui.core.trace.tracing import trace_model
from tui.core.train.batches import Block, next_batch
from tui.core.train.config import TrainConfig as TrainConfig  # re-exported: callers import it from here
from tui.core.train.loss_fit import check_loss_on_sample, check_output_width
from tui.core.train.records import EpochRecord, StepOutcome, StepRecord
from tui.core.train.setup import FLOAT16_ADAM_EPS as FLOAT16_ADAM_EPS  # re-exported: tests and callers read it here
from tui.core.train.setup import accuracy_counts, loss_function, make_optimizer
from tui.core.train.setup import resolve_device as resolve_device
from tui.core.train.shards import shard_length, training_shard, validation_rows
from tui.core.train.step_errors import non_finite_loss, step_failed

# Below this many multiply-accumulates per step, torch's second OpenMP thread costs more than it
# gives: measured 67 vs 933 steps/s for models/simple.py on a busy 2-core machine.
SMALL_STEP_MACS = 50_000_000

# Called with a step's failure (or None) and numbers to add up; returns the sums, or raises the failure.
# Alone, that is the numbers themselves; under torch.distributed, one all-reduce over the ranks.
Agree = Callable[[ErrorRecord | None, Sequence[float]], list[float]]


def agree_alone(failure: ErrorRecord | None, values: Sequence[float]) -> list[float]:
    """One process: a failure is this process's own; the sums are the numbers themselves."""
    if failure is not None:
        raise NnviewError(failure)
    return list(values)


class Trainer:
    """Mini-batch training of ``model`` on ``data``; call :meth:`step` until :attr:`done`.

    Deterministic under ``config.seed``: the shuffling has its own generator and the weights can be
    put back with :meth:`reset_weights`. Under torch.distributed, :meth:`share` makes it train on one
    rank's share; ``train_model`` (the module a step calls), ``agree`` and ``after_backward`` are the
    hook points ``tui.core.train.distributed`` and the probe set.
    """

    def __init__(
        self,
        model: nn.Module,
        data: TrainingData,
        config: TrainConfig,
        namespace: dict[str, Any] | None = None,
        user_files: tuple[str, ...] = (),
    ) -> None:
        namespace = namespace or {}
        check_settings(asdict(config), "the training settings")
        self.user_files = user_files
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.data = data
        self.config = config
        self.loss_fn, self.loss_name = loss_function(config, data, namespace)
        self._namespace = namespace
        self.initial_state = copy.deepcopy(model.state_dict())
        self.rank, self.world_size = 0, 1
        self.train_model: nn.Module = self.model  # DistributedDataParallel(model) under torchrun
        self.agree: Agree = agree_alone
        # Called with the loss and the batch accuracy after backward, before the optimizer step (the probe).
        self.after_backward: Callable[[torch.Tensor, float | None], None] | None = None
        with sandboxed_process_state(None, "nnview train", "checking the data against the model", user_files):
            macs_per_sample = self.check_fit()
        step_macs = 3 * macs_per_sample * config.batch_size  # forward + backward is about 3 forwards
        self.threads_before = torch.get_num_threads()  # put back by close()
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        elif self.device.type == "cpu" and step_macs < SMALL_STEP_MACS:
            torch.set_num_threads(1)
        self.reset_weights(restore=False)

    def close(self) -> None:
        """Training is over: give torch back the thread count it had before this trainer set its own."""
        if torch.get_num_threads() != self.threads_before:
            torch.set_num_threads(self.threads_before)

    def reset_weights(self, restore: bool = True) -> None:
        """Back to the weights the model started with, a fresh optimizer and step 0."""
        if restore:
            self.model.load_state_dict(self.initial_state)
        torch.manual_seed(self.config.seed)
        self.optimizer = make_optimizer(self.config, self.model.parameters(), self._namespace)
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.step_count = 0
        self.epoch = 0
        self.order = self._new_order()
        self.position = 0
        self._block: Block | None = None
        self._epoch_losses: list[float] = []
        self._epoch_correct = 0
        self._epoch_seen = 0

    def reconfigure(self, config: TrainConfig) -> None:
        """New hyperparameters from here on: the weights stay, the optimizer and loss are rebuilt.

        A new batch size starts a fresh pass over the data; the epoch and step counts carry on.
        """
        check_settings(asdict(config), "the training settings")
        self.loss_fn, self.loss_name = loss_function(config, self.data, self._namespace)
        restart = config.batch_size != self.config.batch_size
        self.config = config
        self.optimizer = make_optimizer(config, self.model.parameters(), self._namespace)
        if restart:
            self.order = self._new_order()
            self.position, self._epoch_losses, self._epoch_correct, self._epoch_seen = 0, [], 0, 0

    def share(self, rank: int, world_size: int) -> None:
        """Train on rank ``rank``'s share of the data from step 0 (every rank draws the same shuffle)."""
        self.rank, self.world_size = rank, world_size
        self.reset_weights(restore=False)

    def _new_order(self) -> torch.Tensor:
        """The next epoch's shuffled sample indices: this rank's share of them."""
        order = torch.randperm(len(self.data.x_train), generator=self.generator)
        return training_shard(order, self.rank, self.world_size)

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batches in one pass over the training split (over this rank's share of it)."""
        return math.ceil(shard_length(len(self.data.x_train), self.world_size) / self.config.batch_size)

    @property
    def done(self) -> bool:
        """Whether all epochs have run."""
        return self.epoch >= self.config.epochs

    def check_fit(self) -> int:
        """Refuse data that does not fit the model before any step, saying what to change.

        Returns:
            The model's MACs for one sample.

        Raises:
            NnviewError: a diagnosed forward error on a sample batch, or labels beyond the outputs.
        """
        sample = self._input(self.data.x_train[: min(2, len(self.data.x_train))])
        try:
            result = trace_model(self.model, ExampleInput((sample,)), budget_bytes=0, stats=False)
        except NnviewError as exc:
            shape = "x".join(str(d) for d in self.data.features)
            message = f"{self.data.source} (samples of shape {shape}) does not fit the model: {exc.record.message}"
            raise NnviewError(replace(exc.record, message=message)) from exc
        check_output_width(self.data, result.layers[0].outputs, self.loss_name, self._loss_inferred)
        target = self.data.y_train[: len(sample)].to(self.device)
        check_loss_on_sample(self.model, sample, target, (self.loss_fn, self.loss_name, self._loss_inferred), self.data)
        return result.totals.macs // max(1, len(sample))

    @property
    def _loss_inferred(self) -> bool:
        """Whether nnview picked the loss from the targets (no --loss and no loss in the file)."""
        return self.config.loss is None and not callable(self._namespace.get("loss"))

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next mini-batch of this epoch's shuffled order, on the model's device and in its dtype."""
        size = self.config.batch_size
        x, y, self._block = next_batch(self.data, self.order, self.position, size, self._block, self._device_batch)
        self.position += size
        return x, y

    def _device_batch(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._input(x), y.to(self.device)

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        """Features on the model's device, in its floating dtype (data is float32; a model may be float64)."""
        return as_model_input(x.to(self.device), model_float_dtype(self.model))

    def _accuracy_counts(self, output: torch.Tensor, target: torch.Tensor) -> tuple[int, int] | None:
        return accuracy_counts(output, target, self.loss_fn, self.loss_name)

    def step(self) -> StepOutcome:
        """Train one mini-batch; at the end of an epoch also evaluate and start the next one.

        The user's forward and loss run as guests: what they change in the process is put back.

        Returns:
            The step's record, with the epoch's record when this step ended an epoch.

        Raises:
            NnviewError: when the loss becomes NaN or infinite (naming the first layer that did).
        """
        with self.guest():
            return self.step_in_guest()

    def guest(self) -> AbstractContextManager[Captured]:
        """The guard the user's forward and loss run inside: output captured, process state put back.

        Entering it costs tens of microseconds (more than a small model's step), so the training loop
        enters it once for a run of steps and calls :meth:`step_in_guest` inside.
        """
        return sandboxed_process_state(None, "nnview train", "a training step", self.user_files)

    def step_in_guest(self) -> StepOutcome:
        """:meth:`step`, for a caller already inside :meth:`guest`."""
        if not self.model.training:  # a trace or an evaluation puts the whole tree in eval mode
            self.train_model.train()
        x, y = self._batch()
        self.optimizer.zero_grad()
        step = self.step_count + 1
        failure: NnviewError | None = None
        cause: Exception | None = None
        try:
            output = self.train_model(x)
            loss = self.loss_fn(output, y)
            value = float(loss.detach())
            if not math.isfinite(value):
                failure = non_finite_loss(self.model, x, value, step)
        except NnviewError as exc:
            failure = cause = exc
        except Exception as exc:  # noqa: BLE001 - the user's forward or loss failed: report it, every rank learns
            failure, cause = step_failed(exc, step, self.user_files), exc
        try:  # before backward: under torchrun a rank that failed must not leave the others in DDP's all-reduce
            self.agree(failure.record if failure else None, ())
        except NnviewError as agreed:
            raise agreed from cause
        counts = self._accuracy_counts(output.detach(), y)
        accuracy = counts[0] / counts[1] if counts is not None else None
        rank = self.rank if self.world_size > 1 else None
        try:
            loss.backward()  # under torchrun, DDP's gradient all-reduce runs in here
        except Exception as exc:
            raise step_failed(exc, step, self.user_files, rank) from exc
        if self.after_backward is not None:  # the gradients are there, the weights not yet changed
            self.after_backward(loss.detach(), accuracy)
        try:
            self.optimizer.step()  # the file's optimizer(params) may be the user's own code
        except Exception as exc:
            raise step_failed(exc, step, self.user_files, rank) from exc
        self.step_count += 1
        self._epoch_losses.append(value * len(x))
        if counts is not None:
            self._epoch_correct += counts[0]
            self._epoch_seen += counts[1]
        record = StepRecord(self.step_count, self.epoch + 1, value, accuracy)
        if self.position < len(self.order):
            return StepOutcome(record)
        return StepOutcome(record, self._finish_epoch())

    def _finish_epoch(self) -> EpochRecord:
        """The epoch's figures (added up over the ranks under torchrun), then the next epoch's shuffle."""
        if self.world_size == 1:
            train_loss = sum(self._epoch_losses) / len(self.order)
            train_accuracy = self._epoch_correct / self._epoch_seen if self._epoch_seen else None
            val_loss, val_accuracy = self.evaluate()
        else:
            train_loss, train_accuracy, val_loss, val_accuracy = self._figures_over_ranks()
        self.epoch += 1
        self.order = self._new_order()
        self.position, self._epoch_losses, self._epoch_correct, self._epoch_seen = 0, [], 0, 0
        return EpochRecord(self.epoch, self.config.epochs, train_loss, val_loss, train_accuracy, val_accuracy)

    def _figures_over_ranks(self) -> tuple[float, float | None, float, float | None]:
        """Train and validation loss and accuracy: each rank's sums over its share, added up in one all-reduce."""
        rows = validation_rows(len(self.data.x_val), self.rank, self.world_size)
        with sandboxed_process_state(None, "nnview train", "evaluating", self.user_files):
            loss, counts, n = self._evaluate(rows) if len(self.data.x_val[rows]) else (0.0, None, 0)
        mine = (sum(self._epoch_losses), len(self.order), self._epoch_correct, self._epoch_seen, loss * n, n)
        t = self.agree(None, (*mine, *(counts or (0, 0))))
        return t[0] / t[1], t[2] / t[3] if t[3] else None, t[4] / t[5], t[6] / t[7] if t[7] else None

    def evaluate(self) -> tuple[float, float | None]:
        """Loss and accuracy on the validation split, in eval mode without gradients."""
        with sandboxed_process_state(None, "nnview train", "evaluating", self.user_files):
            loss, counts, _ = self._evaluate(slice(None))
        return loss, (counts[0] / counts[1] if counts else None)

    def _evaluate(self, rows: slice) -> tuple[float, tuple[int, int] | None, int]:
        """The mean loss, the accuracy counts and the number of ``rows`` of the validation split."""
        self.model.eval()
        with torch.no_grad():
            x, y = self._input(self.data.x_val[rows]), self.data.y_val[rows].to(self.device)
            output = self.model(x)
            loss = float(self.loss_fn(output, y))
            counts = self._accuracy_counts(output, y)
        return loss, counts, len(x)
