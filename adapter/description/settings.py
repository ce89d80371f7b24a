"""Settings of the description engine: read from the environment once, by the CLI or the worker."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DescriptionSettings(BaseSettings):
    """Which model looks at the key frames (see docs/description.md)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=True, extra="ignore")

    #: The COCO detector written by ``python -m adapter.description.fetch_models``.
    DESCRIPTION_DETECTOR_ONNX: Path = Path("./.models/description/centernet.onnx")
    #: Optional captioning model (input ``image`` uint8 [1,H,W,3], output string [1]); replaces the detector.
    DESCRIPTION_CAPTIONER_ONNX: Path | None = None
    #: Detections below this confidence are not mentioned.
    DESCRIPTION_MIN_SCORE: float = Field(default=0.3, gt=0, lt=1)
