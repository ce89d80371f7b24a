"""Seconds of audio-description work per minute of video, by step (text, picture, speech, the rest).

Source: 60 s at 1280x720 made here: twelve 5 s shots of scikit-image photographs panning slowly (so no
two sampled frames are equal and every OCR sample is really read), half of them with a drawtext title,
and a sine soundtrack with pauses, H.264 with a keyframe every 2 s. ``describe`` runs once per density
asked for, with the shipped detector, Tesseract and espeak-ng; the readers and the engine's steps are
wrapped to time them. Run
``.venv/bin/python -m bench.description [--density brief normal detailed]``; writes
bench/results/description.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np

from adapter.description import describe, engine
from adapter.description.engine import build_describer
from adapter.description.ocr import TesseractReader, TextReader
from adapter.description.shots import Density
from adapter.description.speech import EspeakSpeaker, Speaker

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "camera") * 2
TITLES = ("Новости дня", "Open the door", "Выход на сцену", "Итоги недели", "Breaking news", "Конец")
SHOT_S, WIDTH, HEIGHT = 5, 1280, 720
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def make_clip(folder: Path) -> Path:
    """The 60 s source clip (see the module docstring)."""
    import skimage.data
    import skimage.io

    args: list[str] = []
    for number, name in enumerate(PHOTOS):
        picture = getattr(skimage.data, name)()
        if picture.ndim == 2:
            picture = np.repeat(picture[:, :, None], 3, axis=2)
        path = folder / f"{number}.png"
        skimage.io.imsave(path, picture[:, :, :3], check_contrast=False)
        args += ["-loop", "1", "-framerate", "25", "-t", str(SHOT_S), "-i", str(path)]
    shots = []
    for number in range(len(PHOTOS)):
        pan = f"[{number}:v]scale=1440:810,crop={WIDTH}:{HEIGHT}:x='t*30':y=40,setsar=1,fps=25"
        if number % 2 == 0:
            text = folder / f"title{number}.txt"
            text.write_text(TITLES[number // 2], encoding="utf-8")
            pan += (
                f",drawtext=fontfile={FONT}:textfile={text}:fontsize=56:fontcolor=white:borderw=3:x=60:y=60"
            )
        shots.append(pan + f"[s{number}]")
    graph = ";".join(shots) + ";" + "".join(f"[s{n}]" for n in range(len(PHOTOS)))
    graph += f"concat=n={len(PHOTOS)}:v=1:a=0[v]"
    beeps = "sine=frequency=330:sample_rate=48000,volume='if(lt(mod(t,5),2),1,0)':eval=frame"
    clip = folder / "bench.mp4"
    args += ["-f", "lavfi", "-t", str(SHOT_S * len(PHOTOS)), "-i", beeps]
    args += ["-filter_complex", graph, "-map", "[v]", "-map", f"{len(PHOTOS)}:a", "-c:v", "libx264"]
    # A keyframe every 2 s, as phones and cameras write: each frame decoded for OCR seeks to one.
    args += ["-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip)]
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=600)
    return clip


def _timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    return wrapper


def run(clip: Path, density: str, folder: Path) -> dict[str, Any]:
    """One ``describe`` run; seconds per step and per minute of video."""
    ocr: list[float] = []
    picture: list[float] = []
    speech: list[float] = []
    reader = TesseractReader()
    describer = build_describer()
    speaker = EspeakSpeaker()
    # The wrappers keep the call signatures; cast tells mypy they still meet the protocols.
    read = cast(TextReader, _timed(reader, ocr))
    speak = cast(Speaker, _timed(speaker, speech))
    names = ("key_frame", "frames_at", "detect_scenes", "silences", "mux")
    steps: dict[str, list[float]] = {name: [] for name in names}
    originals = {name: getattr(engine, name) for name in steps}
    for name, spent in steps.items():  # the engine's own steps, timed where the engine looks them up
        setattr(engine, name, _timed(originals[name], spent))
    started = time.perf_counter()
    try:
        result = describe(
            clip,
            folder / f"out-{density}.mp4",
            lang="ru",
            density=cast(Density, density),
            describer=_timed(describer, picture),
            reader=read,
            speaker=speak,
        )
    finally:
        for name, original in originals.items():
            setattr(engine, name, original)
    total = time.perf_counter() - started
    minutes = SHOT_S * len(PHOTOS) / 60
    timed = {f"{name}_s": round(sum(spent), 2) for name, spent in steps.items()}
    rest = total - sum(ocr) - sum(picture) - sum(speech) - sum(map(sum, steps.values()))
    return {
        "density": density,
        "seconds_total": round(total, 2),
        "seconds_per_minute": round(total / minutes, 2),
        "ocr_s": round(sum(ocr), 2),
        "ocr_frames": len(ocr),
        "picture_s": round(sum(picture), 2),
        "speech_s": round(sum(speech), 2),
        **timed,
        "decoding_s": round(sum(steps["key_frame"]) + sum(steps["frames_at"]), 2),
        "decoder_runs": len(steps["key_frame"]) + len(steps["frames_at"]),
        "rest_s": round(rest, 2),
        "cues": len(result.cues),
        "notes": [note.text("en") for note in result.notes],
    }


def main(argv: list[str] | None = None) -> int:
    """Make the clip, run each density, print a table, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.description", description=__doc__)
    parser.add_argument("--density", nargs="+", default=["normal"], choices=("brief", "normal", "detailed"))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-description-") as tmp:
        clip = make_clip(Path(tmp))
        for density in args.density:
            rows.append(run(clip, density, Path(tmp)))
    print(
        "| density | s per minute of video | OCR s (frames) | frame decoding s (ffmpeg runs) | scenes s"
        " | picture s | speech s | pauses s | mux s | rest s | cues |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['density']} | {row['seconds_per_minute']} | {row['ocr_s']} ({row['ocr_frames']}) |"
            f" {row['decoding_s']} ({row['decoder_runs']}) | {row['detect_scenes_s']} |"
            f" {row['picture_s']} | {row['speech_s']} | {row['silences_s']} | {row['mux_s']} |"
            f" {row['rest_s']} | {row['cues']} |"
        )
    machine = {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()}
    out = ROOT / "bench" / "results" / "description.json"
    out.write_text(json.dumps({"machine": machine, "video_s": SHOT_S * len(PHOTOS), "runs": rows}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
