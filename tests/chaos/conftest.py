"""Chaos suite (issue 20): real broker, real tritonserver, real processes; each fault hits a running job.

The stack fixture is the session's (tests/fixtures/stack.py); the e2e helpers are shared, not copied.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backend.conftest import postgres_url
from tests.e2e.conftest import api, e2e_clips
from tests.fixtures.media import make_clip

__all__ = ["api", "chaos_clip", "e2e_clips", "postgres_url"]


@pytest.fixture(scope="session")
def chaos_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 320x240 H.264/AAC MP4 (a few hundred kB: many PATCHes each)."""
    return make_clip(tmp_path_factory.mktemp("chaos") / "clip.mp4", size="320x240", seconds=2.0)
