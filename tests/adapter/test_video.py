"""Encoder preset choice and the decoder's frame-rate rule (the rest runs through the pipeline tests)."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from adapter.video.decode import Decoder
from adapter.video.encoder import AUTO_PRESETS, resolve_preset
from contract.probe import probe
from tests.fixtures.media import ClipFactory


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


def test_the_decoder_takes_the_probes_frame_rate_and_time_base(clip: ClipFactory) -> None:
    path = clip("decoder.mp4", rate="30000/1001", audio_tracks=1)
    info = probe(path, max_width=3840, max_height=2160, max_duration_s=60)
    # A rate the container does not say proves which rule the decoder follows.
    told = dataclasses.replace(info, fps=Fraction(24000, 1001), time_base=Fraction(1, 24000))
    decoder = Decoder(path, told)
    try:
        assert (decoder.fps, decoder.time_base) == (Fraction(24000, 1001), Fraction(1, 24000))
        assert [s.kind for s in decoder.others] == ["audio"]
    finally:
        decoder.close()
    alone = Decoder(path)
    try:
        assert (alone.fps, alone.time_base) == (info.fps, info.time_base)  # the two rules agree here
    finally:
        alone.close()
