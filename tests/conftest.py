"""Shared fixtures: the repository root and the bundled example models."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


@pytest.fixture
def models_dir() -> Path:
    """The folder of bundled example models."""
    return MODELS
