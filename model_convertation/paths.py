"""Default locations inside the project checkout."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ONNX_DIR = PROJECT_ROOT / ".models" / "onnx"
REPOSITORY = PROJECT_ROOT / "tensorrt_models_running"
