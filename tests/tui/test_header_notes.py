"""The explorer's header says when MACs are a lower bound (naming the ops) and when eval mode mattered."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.conftest import MODELS, ROOT
from tests.tui.conftest import explorer

pytestmark = pytest.mark.asyncio
FOOTER = ROOT / "tests" / "corpus" / "footer"


def header(screen: object) -> str:
    """The header line, then the notes line below it when it is shown (what the figures leave out)."""
    lines = [str(screen.query_one("#model-header", Static).content)]  # type: ignore[attr-defined]
    notes = screen.query_one("#model-notes", Static)  # type: ignore[attr-defined]
    return "\n".join(lines + ([str(notes.content)] if notes.display else []))


async def test_plain_model_header_has_no_notes() -> None:
    async with explorer(str(MODELS / "simple.py")) as (_pilot, screen):
        text = header(screen)
        assert "params 147" in text
        assert "eval mode" not in text and "lower bound" not in text


async def test_sparse_model_header_says_macs_are_a_lower_bound_and_why() -> None:
    async with explorer(str(FOOTER / "sparse_mm.py"), size=(160, 40)) as (_pilot, screen):
        # fc: 3 x 8 x 8 = 192 MACs counted; torch.sparse.mm is not.
        assert "MACs at least 192 (a lower bound: no formula for aten._sparse_addmm)" in header(screen)
        assert screen.shown == "trace"


async def test_batchnorm_model_header_says_traced_in_eval_mode() -> None:
    async with explorer(str(FOOTER / "batchnorm_cnn.py")) as (_pilot, screen):
        text = header(screen)
        assert "traced in eval mode: BatchNorm2d uses running statistics" in text.splitlines()[1]
        assert "lower bound" not in text
