"""Chaos tests' own clip (the stack and e2e helpers are session plugins: tests/fixtures/stack.py, e2e.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.media import make_clip


@pytest.fixture(scope="session")
def chaos_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 320x240 H.264/AAC MP4 (a few hundred kB: many PATCHes each)."""
    return make_clip(tmp_path_factory.mktemp("chaos") / "clip.mp4", size="320x240", seconds=2.0)
