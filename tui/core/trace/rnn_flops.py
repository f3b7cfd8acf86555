"""FLOP formulas for the fused recurrent kernels, so LSTM/GRU/RNN count the same on every device.

The convention, one for every recurrent layer and every kernel:

    MACs = tokens x (sum of the elements of every weight *matrix* of the layer stack)

where ``tokens`` is the number of (time step, batch item) pairs the layer saw (``T x B``, or the
sum of a packed sequence's ``batch_sizes``). Spelled out per token, per layer, per direction::

    gates x hidden x (layer_input + hidden_out)  +  proj_size x hidden   (the last term only with proj_size)

with ``gates`` = 4 for LSTM, 3 for GRU, 1 for RNN (tanh or relu), ``layer_input`` = ``input_size``
for layer 0 and ``hidden_out x directions`` above it, ``hidden_out`` = ``proj_size`` or ``hidden``.
These are the matmuls of the input-to-hidden and hidden-to-hidden gates plus the projection. Bias
adds and the elementwise gate arithmetic (sigmoid, tanh, the cell update) are not MACs, the same
rule ``addmm`` follows for ``nn.Linear``.

Why per kernel: ``aten.lstm``/``aten.gru``/``aten.rnn_tanh``/``aten.lstm_cell``... are composite
ops that torch splits before a dispatch mode sees them. What then runs differs by device and dtype:

* CPU float32/bfloat16 LSTM without projection: one ``aten.mkldnn_rnn_layer`` per layer and direction;
* CPU float16/float64, LSTM with ``proj_size``, GRU, RNN, packed input, every ``*Cell``, and meta:
  ``addmm``/``mm`` per step, which torch's own formulas already count (and give the figure above);
* CUDA: ``aten._cudnn_rnn`` for the whole stack (ROCm: ``aten.miopen_rnn``), and for the cells
  ``addmm`` plus ``aten._thnn_fused_lstm_cell``/``_thnn_fused_gru_cell``, whose gate math is 0 MACs.
"""

from __future__ import annotations

from typing import Any

import torch

aten = torch.ops.aten


def _tokens(x: torch.Tensor) -> int:
    """(time step, batch item) pairs: ``T x B`` for a padded input, the row count of a packed one."""
    return x.numel() // x.shape[-1] if x.dim() and x.shape[-1] else 0


def _matrix_elements(weights: Any) -> int:
    """Elements of the 2-D tensors among ``weights`` (w_ih, w_hh, w_hr); biases are 1-D and skipped."""
    return sum(w.numel() for w in weights if isinstance(w, torch.Tensor) and w.dim() == 2)


def mkldnn_rnn_layer_flop(
    x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, *args: Any, out_val: Any = None, **kwargs: Any
) -> int:
    """FLOPs of one layer and direction of oneDNN's CPU LSTM: ``2 x tokens x (w_ih + w_hh elements)``."""
    return 2 * _tokens(x) * _matrix_elements((w_ih, w_hh))


def stacked_rnn_flop(x: torch.Tensor, weights: Any, *args: Any, out_val: Any = None, **kwargs: Any) -> int:
    """FLOPs of a whole cuDNN/MIOpen recurrent stack: every layer and direction in one call."""
    return 2 * _tokens(x) * _matrix_elements(weights)


def fused_cell_flop(*args: Any, out_val: Any = None, **kwargs: Any) -> int:
    """The CUDA cells' fused gate arithmetic: the gate matmuls ran (and counted) as ``addmm`` before it."""
    return 0


RNN_FORMULAS: dict[Any, Any] = {
    aten.mkldnn_rnn_layer: mkldnn_rnn_layer_flop,
    aten._cudnn_rnn: stacked_rnn_flop,
    aten.miopen_rnn: stacked_rnn_flop,
    aten._thnn_fused_lstm_cell: fused_cell_flop,
    aten._thnn_fused_gru_cell: fused_cell_flop,
}
