"""Adapter test fixtures: the real in-process model (the ONNX file built by model_convertation)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter.inference.base import Upscaler
from adapter.inference.upscalers import make_upscaler
from tests.conftest import require

MODELS_DIR = Path(__file__).resolve().parents[2] / ".models" / "onnx"
MODEL = "realesr-animevideov3-x4"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """Folder holding the built ONNX models; the default model must be there."""
    require(
        (MODELS_DIR / f"{MODEL}.onnx").is_file(),
        f"{MODEL}.onnx missing: run python -m model_convertation build --target cpu",
    )
    return MODELS_DIR


@pytest.fixture(scope="session")
def upscaler(models_dir: Path) -> Iterator[Upscaler]:
    """The default model running in-process (OpenVINO), shared by the whole session."""
    model = make_upscaler(MODEL, None, models_dir, 60)
    yield model
    model.close()
