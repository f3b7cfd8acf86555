"""A small Lightning run on sklearn's digits with nnview's callback (run by tests/probe/test_lightning.py).

    python lightning_digits.py RUN_DIR [--devices 2] [--steps 12] [--accumulate 1] [--every 4] [--stop-at N]
                                       [--fail-at N] [--validate] [--amp]

Lightning's DDP strategy starts the second rank by running this script again. Each rank writes the losses its
``training_step`` returned to ``RUN_DIR/../losses-rankN.json`` so the test can compare them with the run folder.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from process_group import leave_process_group
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tui.core.runs.layout import CONTROL_FILE, write_json_atomically
from tui.probe.lightning import Callback, LightningModule, NnviewCallback, Trainer

try:
    from lightning.pytorch.plugins import MixedPrecision
except ImportError:
    from pytorch_lightning.plugins import MixedPrecision


class DigitsMLP(LightningModule):
    """64 pixels -> 32 -> 10, trained with SGD; logs its loss and accuracy each step."""

    def __init__(self, fail_at: int = 0) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        self.losses: list[float] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        if len(self.losses) + 1 == self.fail_at:
            raise RuntimeError(f"failing on purpose at batch {self.fail_at}")
        x, y = batch
        logits = self(x)
        loss = nn.functional.cross_entropy(logits, y)
        self.losses.append(float(loss.detach()))
        self.log("train_loss", loss)
        self.log("train_acc", (logits.argmax(1) == y).float().mean())
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


class AskToStop(Callback):
    """Plays the viewer: rank 0 writes a stop request just before batch ``at`` (counted from 1)."""

    def __init__(self, run_dir: Path, at: int) -> None:
        self.run_dir, self.at = run_dir, at

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: object, idx: int) -> None:
        if trainer.global_rank == 0 and idx + 1 == self.at:
            write_json_atomically(self.run_dir / CONTROL_FILE, {"command": "stop", "id": "test-stop", "time": 0})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--accumulate", type=int, default=1)
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--stop-at", type=int, default=0)
    parser.add_argument("--fail-at", type=int, default=0)
    parser.add_argument("--validate", action="store_true", help="validate on batches of 500 every 2 steps")
    parser.add_argument("--amp", action="store_true", help="float16 autocast with a loss scale of 1024, on the CPU")
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    digits = load_digits()
    data = TensorDataset(torch.tensor(digits.data / 16.0, dtype=torch.float32), torch.tensor(digits.target))
    callbacks: list[Callback] = [NnviewCallback(args.run_dir, every=args.every)]
    if args.stop_at:
        callbacks.append(AskToStop(args.run_dir, args.stop_at))
    trainer = Trainer(
        accelerator="cpu",
        devices=args.devices,
        strategy="ddp" if args.devices > 1 else "auto",
        max_steps=args.steps,
        accumulate_grad_batches=args.accumulate,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        val_check_interval=2 if args.validate else None,
        callbacks=callbacks,
        # Lightning turns precision="16-mixed" on the CPU into bf16 (no scaler); the plugin keeps the scaler.
        plugins=[MixedPrecision("16-mixed", "cpu", torch.amp.GradScaler("cpu", init_scale=1024.0))]
        if args.amp
        else None,
    )
    model = DigitsMLP(args.fail_at)
    try:
        validation = DataLoader(data, batch_size=500) if args.validate else None
        trainer.fit(model, DataLoader(data, batch_size=32, shuffle=True), validation)
    finally:
        out = args.run_dir.parent / f"losses-rank{trainer.global_rank}.json"
        out.write_text(json.dumps({"losses": model.losses}))
    leave_process_group()


if __name__ == "__main__":
    main()
