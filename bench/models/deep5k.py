"""A 5,000-module model for the terminal benchmarks: ``nn.Sequential`` of 2,500 x (Linear(64, 64), ReLU()).

``bench/startup.py`` opens it with ``nnview bench/models/deep5k.py --no-watch`` to show that the screen
paints (header ``loading …``) long before the trace of 5,001 module calls is done, and that keys answer
while it loads. The same shape as ``bench/nets.py``'s ``deep_mlp``, batch 16; the environment
variable ``NNVIEW_BENCH_PAIRS`` sets the number of pairs (``--quick`` uses 250).
"""

from __future__ import annotations

import os

import torch
from torch import nn

PAIRS = int(os.environ.get("NNVIEW_BENCH_PAIRS", "2500"))  # bench/startup.py --quick makes it smaller

model = nn.Sequential(*(m for _ in range(PAIRS) for m in (nn.Linear(64, 64), nn.ReLU())))
example_input = torch.rand(16, 64)
