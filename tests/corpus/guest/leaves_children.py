"""Starts a multiprocessing child and a subprocess that sleep forever; writes their pids for the test."""

import multiprocessing
import os
import subprocess
import sys
import time

from torch import nn


def _sleep() -> None:
    time.sleep(10**6)


if __name__ != "__mp_main__":  # the child re-imports nothing under fork; guard for spawn all the same
    _child = multiprocessing.get_context("fork").Process(target=_sleep)
    _child.start()
    _proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10**6)"])
    with open(os.environ["NNVIEW_TEST_PIDS"], "w") as handle:
        handle.write(f"{_child.pid} {_proc.pid}\n")


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        return self.fc(x)
