"""Broken: prints 300 lines at import, changes cwd, sys.path and sys.argv, then fails in forward.

nnview must capture the printing, restore cwd, sys.path and sys.argv, and still diagnose the
forward failure: fc2 = nn.Linear(7, 2) receives fc1's 16 features.
"""

import os
import sys
import tempfile

from torch import nn

for i in range(300):
    print(f"noisy line {i}")
print("noisy to stderr", file=sys.stderr)

os.chdir(tempfile.gettempdir())
sys.path.append("/nnview-test-appended-path")
sys.path.insert(0, "/nnview-test-inserted-path")
sys.argv.append("--nnview-test-argv")


class Noisy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(7, 2)  # wrong: should be nn.Linear(16, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x))
