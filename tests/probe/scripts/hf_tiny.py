"""A tiny Hugging Face Trainer run with nnview's callback, nothing downloaded (run by tests/probe/test_hf.py).

    python hf_tiny.py RUN_DIR [--model bert|gpt2] [--steps 6] [--accumulate 1] [--every 2] [--stop-at N]
                     [--max-grad-norm 1.0]

Also runs under ``torchrun --nproc-per-node 2``. The model is built from a small config with random weights.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch
from process_group import leave_process_group
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from tui.core.runs.layout import CONTROL_FILE, write_json_atomically
from tui.probe.hf import NnviewCallback

VOCAB, LENGTH, ROWS = 100, 8, 64


class Rows(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """Random token rows with a label: ``input_ids`` and ``labels`` (the class, or the tokens for a causal LM)."""

    def __init__(self, causal: bool) -> None:
        generator = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, VOCAB, (ROWS, LENGTH), generator=generator)
        self.classes = (self.ids[:, 0] % 2).long()
        self.causal = causal

    def __len__(self) -> int:
        return ROWS

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        labels = self.ids[index] if self.causal else self.classes[index]
        return {"input_ids": self.ids[index], "labels": labels}


class AskToStop(TrainerCallback):  # type: ignore[misc]
    """Plays the viewer: rank 0 writes a stop request before step ``at`` (counted from 1)."""

    def __init__(self, run_dir: Path, at: int) -> None:
        self.run_dir, self.at = run_dir, at

    def on_step_begin(self, args: TrainingArguments, state: object, control: object, **kwargs: object) -> None:
        if args.process_index == 0 and getattr(state, "global_step", 0) + 1 == self.at:
            write_json_atomically(self.run_dir / CONTROL_FILE, {"command": "stop", "id": "test-stop", "time": 0})


def tiny_model(kind: str) -> torch.nn.Module:
    """A one-layer BERT classifier or GPT-2 from a config: a few thousand random weights."""
    if kind == "gpt2":
        return GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_positions=LENGTH, n_embd=32, n_layer=1, n_head=2))
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=LENGTH,
    )
    return BertForSequenceClassification(config)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--model", choices=("bert", "gpt2"), default="bert")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--accumulate", type=int, default=1)
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--stop-at", type=int, default=0)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    training = TrainingArguments(
        output_dir=str(args.run_dir.parent / "trainer"),
        use_cpu=True,
        max_steps=args.steps,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=args.accumulate,
        logging_steps=1,
        max_grad_norm=args.max_grad_norm,
        learning_rate=1e-3,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    callbacks: list[TrainerCallback] = [NnviewCallback(args.run_dir, every=args.every)]
    if args.stop_at:
        callbacks.append(AskToStop(args.run_dir, args.stop_at))
    trainer = Trainer(
        model=tiny_model(args.model), args=training, train_dataset=Rows(args.model == "gpt2"), callbacks=callbacks
    )
    trainer.train()
    leave_process_group()


if __name__ == "__main__":
    main()
