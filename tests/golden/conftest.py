"""``pytest tests/golden --update-golden`` (or ``NNVIEW_UPDATE_GOLDEN=1``) rewrites the golden texts."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/summaries/* from what nnview prints now, instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the goldens are to be rewritten rather than checked."""
    return bool(request.config.getoption("--update-golden", default=False)) or os.environ.get(
        "NNVIEW_UPDATE_GOLDEN", ""
    ) not in ("", "0")
