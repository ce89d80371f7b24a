"""Encoder preset choice (the rest of adapter.video is exercised through the pipeline tests)."""

from __future__ import annotations

import pytest

from adapter.video import AUTO_PRESETS, resolve_preset


@pytest.mark.parametrize(
    ("preset", "encoder", "device", "expected"),
    [
        ("auto", "libx264", "cpu", "ultrafast"),
        ("auto", "libx265", "cpu", "ultrafast"),
        ("auto", "libx264", "gpu", "veryfast"),
        ("auto", "h264_nvenc", "cpu", "medium"),
        ("auto", "libx264", "unknown", AUTO_PRESETS["cpu"]),
        ("slow", "libx264", "cpu", "slow"),
        ("medium", "libx264", "gpu", "medium"),
    ],
)
def test_resolve_preset(preset: str, encoder: str, device: str, expected: str) -> None:
    assert resolve_preset(preset, encoder, device) == expected
