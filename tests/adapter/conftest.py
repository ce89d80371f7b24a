"""Adapter test fixtures: the real in-process model (the ONNX file built by model_convertation), a vhost.

The worker fakes and the broker view these fixtures hand out live in tests/fixtures/worker.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapter.inference.base import Upscaler
from adapter.inference.upscalers import make_upscaler
from tests.fixtures.media import make_gop_clip
from tests.fixtures.models import MODEL, MODELS_DIR
from tests.fixtures.services import private_vhost, require
from tests.fixtures.worker import BROKER, Broker, Running


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


@pytest.fixture(scope="module")
def vhost() -> Iterator[str]:
    """A fresh vhost, so these tests neither see nor disturb other users of the broker."""
    with private_vhost() as made:
        yield made.name


@pytest.fixture
def broker(vhost: str) -> Iterator[Broker]:
    """The test's view of the vhost (queues purged): publish tasks, read events and dead letters."""
    b = Broker(f"amqp://guest:guest@{BROKER}/{vhost}")
    yield b
    b.close()


@pytest.fixture
def start(broker: Broker, tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """Starts workers on threads of the test process (on ``broker``'s vhost); stops them afterwards."""
    started: list[Running] = []

    def _start(**config: Any) -> Running:
        started.append(Running(broker.url, tmp_path, **config))
        return started[-1]

    yield _start
    for running in started:
        if running.thread.is_alive():
            running.stop()


@pytest.fixture(scope="session")
def clip12(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s, 25 fps, keyframe every 2 s (B-frames on), sine audio."""
    return make_gop_clip(tmp_path_factory.mktemp("seg") / "clip12.mp4", seconds=12)
