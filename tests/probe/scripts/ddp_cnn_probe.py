"""A small CNN trained with DistributedDataParallel (gloo, CPU) on scikit-learn's digits, with the probe.

Run by the tests under ``torchrun --nproc-per-node 2``: ``ddp_cnn_probe.py RUN_DIR STEPS [SLEEP_SECONDS]``.
"""

import sys
import time

import torch
import torch.distributed as dist
from process_group import leave_process_group
from sklearn.datasets import load_digits
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from tui.probe import Probe

run_dir, steps = sys.argv[1], int(sys.argv[2])
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
dist.init_process_group("gloo")
torch.set_num_threads(1)
torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
y = torch.tensor(digits.target)
data = TensorDataset(x, y)
loader = DataLoader(data, batch_size=32, sampler=DistributedSampler(data, seed=0))
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10)
)
ddp = DistributedDataParallel(model)
optimizer = torch.optim.Adam(ddp.parameters(), lr=0.01)
done = 0
with Probe(ddp, run_dir, every=5) as probe:
    epoch = 0
    while done < steps:
        loader.sampler.set_epoch(epoch)
        for images, labels in loader:
            out = ddp(images)
            loss = nn.functional.cross_entropy(out, labels)
            loss.backward()
            probe.step(loss, accuracy=(out.argmax(1) == labels).float().mean())
            optimizer.step()
            optimizer.zero_grad()
            done += 1
            if pause:
                time.sleep(pause)
            if done == steps:
                break
        epoch += 1
leave_process_group()  # barrier, destroy, os._exit: torch 2.13's gloo can abort as the DDP model is freed
