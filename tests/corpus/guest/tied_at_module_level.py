"""A GPT-2-shaped toy with its LM head tied to the token embedding, built at module level.

Parameters, the tied matrix counted once: wte 50*16 = 800, wpe 8*16 = 128, ln 2*16 = 32,
fc 16*64 + 64 = 1,088, proj 64*16 + 16 = 1,040, ln_f 32, lm_head.weight = wte.weight (0 more):
3,120. Counted twice (untied, what ``.to("meta")`` used to make of it) it would be 3,920.
"""

import torch
from torch import nn

VOCAB, CONTEXT, WIDTH = 50, 8, 16


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, WIDTH)
        self.wpe = nn.Embedding(CONTEXT, WIDTH)
        self.ln = nn.LayerNorm(WIDTH)
        self.fc = nn.Linear(WIDTH, 4 * WIDTH)
        self.proj = nn.Linear(4 * WIDTH, WIDTH)
        self.ln_f = nn.LayerNorm(WIDTH)
        self.lm_head = nn.Linear(WIDTH, VOCAB, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.wte(ids) + self.wpe(positions)
        x = x + self.proj(torch.nn.functional.gelu(self.fc(self.ln(x))))
        return self.lm_head(self.ln_f(x))


model = TinyGPT()
example_input = torch.randint(0, VOCAB, (2, CONTEXT))
