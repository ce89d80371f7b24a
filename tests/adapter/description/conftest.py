"""Fixtures: the converted detector and a real three-shot clip (sample photos + espeak-ng dialogue)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from adapter.description.speech import EspeakSpeaker
from tests.fixtures.description import DIALOGUE_S, FACE_MODELS, MODEL, SHOT_S, SHOTS
from tests.fixtures.services import require


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The ONNX detector (and the face models beside it) built at setup by ``fetch_models``."""
    for path in (MODEL, *FACE_MODELS):
        require(path.is_file(), f"{path} is missing: run python -m adapter.description.setup.fetch_models")
    return MODEL


def _dialogue(path: Path, total_s: float) -> None:
    """A mono WAV: a spoken line at the start of every shot, silence elsewhere."""
    voice = EspeakSpeaker()("Hello, how are you today? Fine.", "en")
    rate = voice.rate
    track = np.zeros(round(total_s * rate), np.float32)
    line = voice.samples[: round(DIALOGUE_S * rate)]
    for shot in range(len(SHOTS)):
        offset = round((shot * SHOT_S + 0.1) * rate)
        track[offset : offset + len(line)] += line
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((np.clip(track, -1, 1) * 32767).astype(np.int16).tobytes())


@pytest.fixture(scope="session")
def scene_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s, 320x240: astronaut, cat, coffee shots of 4 s each, with dialogue then a pause in each."""
    import skimage.data
    import skimage.io

    folder = tmp_path_factory.mktemp("description")
    args = ["ffmpeg", "-v", "error", "-nostdin", "-y"]
    for name in SHOTS:
        image = folder / f"{name}.png"
        skimage.io.imsave(image, getattr(skimage.data, name)(), check_contrast=False)
        args += ["-loop", "1", "-framerate", "25", "-t", str(SHOT_S), "-i", str(image)]
    wav = folder / "dialogue.wav"
    _dialogue(wav, SHOT_S * len(SHOTS))
    args += ["-i", str(wav)]
    fit = "scale=320:240:force_original_aspect_ratio=decrease,pad=320:240:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25"
    graph = ";".join(f"[{i}:v]{fit}[v{i}]" for i in range(len(SHOTS)))
    graph += ";" + "".join(f"[v{i}]" for i in range(len(SHOTS))) + f"concat=n={len(SHOTS)}:v=1:a=0[v]"
    clip = folder / "shots.mp4"
    args += [
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        f"{len(SHOTS)}:a",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        "-c:a",
        "aac",
        "-shortest",
        str(clip),
    ]
    subprocess.run(args, check=True, timeout=120)
    return clip
