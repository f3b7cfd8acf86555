"""torchinfo's PackPaddedLSTM with example_input a dict of keywords: {"batch": ids, "lengths": lengths}."""

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence


class PackPaddedLSTM(nn.Module):
    def __init__(self, vocab_size: int = 60, embedding_size: int = 128, output_size: int = 18, hidden_size: int = 32):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.lstm = nn.LSTM(embedding_size, self.hidden_size, num_layers=1)
        self.hidden2out = nn.Linear(self.hidden_size, output_size)
        self.dropout_layer = nn.Dropout(p=0.2)

    def forward(self, batch: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        hidden1 = torch.ones(1, batch.size(-1), self.hidden_size, device=batch.device)
        hidden2 = torch.ones(1, batch.size(-1), self.hidden_size, device=batch.device)
        embeds = self.embedding(batch)
        packed_input = pack_padded_sequence(embeds, lengths)
        _, (ht, _) = self.lstm(packed_input, (hidden1, hidden2))
        output = self.dropout_layer(ht[-1])
        output = self.hidden2out(output)
        return F.log_softmax(output, dim=1)


example_input = {"batch": torch.randint(0, 60, (10, 4)), "lengths": torch.tensor([10, 8, 5, 3])}
