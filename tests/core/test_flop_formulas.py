"""nnview's fast matmul FLOP counts agree with torch's own registered formulas."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import flop_registry

from tui.core.opwatch import _matmul_flops

aten = torch.ops.aten


@pytest.mark.parametrize(
    ("packet", "args"),
    [
        (aten.mm, (torch.empty(7, 5), torch.empty(5, 3))),
        (aten.addmm, (torch.empty(3), torch.empty(7, 5), torch.empty(5, 3))),
        (aten.bmm, (torch.empty(2, 7, 5), torch.empty(2, 5, 3))),
        (aten.baddbmm, (torch.empty(2, 7, 3), torch.empty(2, 7, 5), torch.empty(2, 5, 3))),
    ],
)
def test_fast_matmul_count_equals_torch_registry(packet: object, args: tuple[torch.Tensor, ...]) -> None:
    out = packet(*args)  # type: ignore[operator]
    assert _matmul_flops(packet, args) == flop_registry[packet](*args, out_val=out)


def test_other_ops_fall_back_to_the_registry() -> None:
    assert _matmul_flops(aten.convolution, (torch.empty(1),)) is None
