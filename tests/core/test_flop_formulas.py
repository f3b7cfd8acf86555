"""nnview's fast matmul FLOP counts agree with torch's own registered formulas."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import flop_registry

from tui.core.trace.opwatch import _fast_flops

aten = torch.ops.aten


@pytest.mark.parametrize(
    ("packet", "args"),
    [
        (aten.mm, (torch.empty(7, 5), torch.empty(5, 3))),
        (aten.addmm, (torch.empty(3), torch.empty(7, 5), torch.empty(5, 3))),
        (aten.bmm, (torch.empty(2, 7, 5), torch.empty(2, 5, 3))),
        (aten.baddbmm, (torch.empty(2, 7, 3), torch.empty(2, 7, 5), torch.empty(2, 5, 3))),
        (
            aten.convolution,
            (torch.empty(2, 3, 9, 9), torch.empty(8, 3, 3, 3), None, [2, 2], [1, 1], [1, 1], False, [0, 0], 1),
        ),
        (
            aten.convolution,
            (torch.empty(2, 4, 5, 5), torch.empty(4, 6, 3, 3), None, [1, 1], [0, 0], [1, 1], True, [0, 0], 1),
        ),
        (aten.convolution, (torch.empty(2, 8, 16), torch.empty(8, 2, 5), None, [1], [2], [1], False, [0], 4)),
    ],
)
def test_fast_count_equals_torch_registry(packet: object, args: tuple[torch.Tensor, ...]) -> None:
    out = packet(*args)  # type: ignore[operator]
    assert _fast_flops(packet, args, out) == flop_registry[packet](*args, out_val=out)


def test_other_ops_fall_back_to_the_registry() -> None:
    assert _fast_flops(aten._scaled_dot_product_flash_attention_for_cpu, (torch.empty(1),), torch.empty(1)) is None
