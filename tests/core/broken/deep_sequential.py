"""Broken: encoder.2 = nn.Linear(12, 4) but encoder.0 = nn.Linear(8, 16) feeds it 16 features.

The failure is two levels deep (AutoEncoder -> encoder Sequential -> Linear at index 2), after
a ReLU module, so nnview must name `encoder.2` and say the 16 features come from `encoder.0`.
"""

from torch import nn


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(8, 16),
            nn.ReLU(),
            nn.Linear(12, 4),  # wrong: should be nn.Linear(16, 4)
        )
        self.decoder = nn.Linear(4, 8)

    def forward(self, x):
        z = self.encoder(x)
        return self.decoder(z)
