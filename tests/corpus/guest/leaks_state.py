"""Changes every piece of process state a model file can reach, at its top level and in forward."""

import os
import signal
import sys
import warnings

import torch
from torch import nn

torch.set_grad_enabled(False)
torch.set_default_dtype(torch.float64)
torch.set_default_device("meta")
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.autograd.set_detect_anomaly(True)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
sys.setrecursionlimit(200)
warnings.simplefilter("ignore")
os.environ["NNVIEW_GUEST_WAS_HERE"] = "1"
os.chdir("/")
sys.argv.append("--guest")
torch.set_default_device(None)  # the model itself is built on the CPU
torch.set_default_dtype(torch.float32)
torch.set_default_dtype(torch.float64)


class Leaky(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        torch.set_grad_enabled(True)
        torch.set_num_threads(1)
        os.environ["NNVIEW_GUEST_FORWARD"] = "1"
        return self.fc(x.to(self.fc.weight.dtype))
