"""``describe()``: scenes → frames → text, people, objects, setting → speech → placement → video + WebVTT."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from adapter.description.audio import silences
from adapter.description.detector import CenterNetDetector, Describer, OnnxCaptioner
from adapter.description.faces import FaceReader, FacingDescriber
from adapter.description.mux import TrackMode, mux, remux, webvtt
from adapter.description.ocr import TesseractReader, TextReader
from adapter.description.placement import Cue, Pending, place
from adapter.description.scenes import KEY_FRAME_SIDE, Scene, detect_scenes, frames_at, key_frame
from adapter.description.shots import (
    PLANS,
    Density,
    PictureMemory,
    Plan,
    picture_pending,
    read_texts,
    text_pendings,
)
from adapter.description.speech import EspeakSpeaker, Speaker, Speech
from adapter.errors import InvalidInputError, JobCancelled, StorageError
from adapter.limits import Limits
from adapter.video.stages import probe_input
from contract.catalogue import Reason, reason
from contract.limits import MAX_OUTPUT_HEIGHT, MAX_OUTPUT_WIDTH
from contract.media import StopFn
from contract.mediainfo import MediaInfo
from contract.messages import DESCRIBE_LANGUAGES
from contract.probe import probe

Lang = Literal["ru", "en"]
Progress = Callable[[float], None]
#: Where ``python -m adapter.description.setup.fetch_models`` writes the detector (DESCRIPTION_DETECTOR_ONNX).
DEFAULT_DETECTOR_ONNX = Path("./.models/description/centernet.onnx")


@dataclass(frozen=True)
class DescriptionResult:
    """What ``describe`` wrote: the video, the WebVTT beside it, the spoken cues, the shots, the notes."""

    output_path: Path
    #: None when nothing was found to describe (no track, no WebVTT).
    vtt_path: Path | None
    cues: list[Cue]
    scenes: list[Scene]
    #: What the job reports: how many descriptions and from what, or that nothing was found.
    notes: tuple[Reason, ...] = ()


def build_describer(
    detector_onnx: Path = DEFAULT_DETECTOR_ONNX,
    captioner_onnx: Path | None = None,
    min_score: float = 0.3,
) -> Describer:
    """The captioner when one is configured, else the shipped COCO detector with the face models beside it."""
    if captioner_onnx is not None:
        return OnnxCaptioner(captioner_onnx)
    detector = CenterNetDetector(detector_onnx, min_score=min_score)
    return FacingDescriber(detector, FaceReader(detector_onnx.parent))


def _pendings(
    input_path: Path,
    scenes: list[Scene],
    info: MediaInfo,
    lang: Lang,
    tools: tuple[Describer, TextReader | None],
    plan: Plan,
    read_subtitles: bool,
    report: Progress,
    should_stop: StopFn,
) -> list[Pending]:
    """Every description of the video in time order: texts as they appear, then what each shot shows."""
    describer, reader = tools

    def frame_at(time_s: float, side: int) -> np.ndarray:
        return key_frame(input_path, time_s, info.width, info.height, should_stop=should_stop, side=side)

    def shot_frames(times: list[float], side: int) -> list[np.ndarray]:
        return frames_at(input_path, times, info.width, info.height, should_stop=should_stop, side=side)

    done = iter(range(1, 2 * len(scenes) + 1))

    def step() -> None:
        report(0.1 + 0.5 * next(done) / (2 * len(scenes)))

    texts: dict[int, list[Pending]] = {}
    if reader is not None:
        samples = read_texts(scenes, plan, shot_frames, reader, step)
        texts = text_pendings(scenes, samples, lang, read_subtitles=read_subtitles)
    else:
        for _scene in scenes:
            step()
    pendings: list[Pending] = []
    memory = PictureMemory()
    for index, scene in enumerate(scenes):
        # Text first: on-screen text is what a blind viewer misses most, so the picture's description
        # waits for the shot's texts (placement goes in window order) and is the one dropped when the
        # shot has no room left.
        shot_texts = texts.get(index, [])
        pendings += shot_texts
        key = frame_at(scene.key_time, KEY_FRAME_SIDE)
        picture = picture_pending(scene, key, describer, lang, plan, memory)
        if picture is not None and shot_texts:
            window = Scene(max(p.scene.start for p in shot_texts), scene.end)
            picture = dataclasses.replace(picture, scene=window)
        pendings += [picture] if picture is not None else []
        step()
    return pendings


def _timed(pending: Pending, voices: dict[str, Speech]) -> Pending:
    """``pending`` (and its shorter form) with the spoken length of its voice."""
    shorter = None if pending.shorter is None else _timed(pending.shorter, voices)
    return dataclasses.replace(pending, duration_s=voices[pending.text].duration_s, shorter=shorter)


def notes_of(cues: list[Cue]) -> tuple[Reason, ...]:
    """The job's note: how many descriptions and from what, or that there was nothing to describe."""
    if not cues:
        return (reason("description.nothing_found"),)
    counts = {kind: sum(kind in c.sources for c in cues) for kind in ("text", "people", "objects")}
    return (reason("description.added", count=len(cues), **counts),)


def _probe(path: Path, max_duration_s: float) -> MediaInfo:
    """The input's facts under the output box (a description may follow an upscale), as a job probes them."""
    box = Limits(max_width=MAX_OUTPUT_WIDTH, max_height=MAX_OUTPUT_HEIGHT, max_duration_s=max_duration_s)
    return probe_input(probe, path, box)


def describe(
    input_path: Path,
    output_path: Path,
    *,
    lang: Lang,
    describer: Describer | None = None,
    speaker: Speaker | None = None,
    on_progress: Progress | None = None,
    mode: TrackMode = "mix",
    max_duration_s: float = 7200,
    should_stop: StopFn | None = None,
    info: MediaInfo | None = None,
    density: Density = "normal",
    reader: TextReader | Literal["default"] | None = "default",
    read_subtitles: bool = False,
) -> DescriptionResult:
    """Add an audio-description track in ``lang`` to ``input_path``; write ``output_path`` and its ``.vtt``.

    ``mode="mix"`` (default) makes the description track a complete soundtrack (original, ducked
    under descriptions that overlap dialogue, plus the voice); ``"speech"`` makes it the voice alone.
    ``should_stop`` is polled by every step and every subprocess (a cancel raises JobCancelled within
    a fraction of a second); ``info`` is the job's probe result, probed here when not given.
    ``density`` chooses how much is said; ``reader`` reads on-screen text (Tesseract by default, None:
    no text); ``read_subtitles`` reads burned-in dialogue subtitles too. When nothing is found the
    output is the input's streams copied, with no description track and no WebVTT.
    """
    if lang not in DESCRIBE_LANGUAGES:
        raise InvalidInputError(reason("description.bad_language"))
    stop = should_stop or (lambda: False)
    user_report = on_progress or (lambda _fraction: None)

    def report(fraction: float) -> None:
        if stop():
            raise JobCancelled("cancelled")
        user_report(fraction)

    info = info or _probe(Path(input_path), max_duration_s)
    describer = describer or build_describer()
    text_reader = TesseractReader(should_stop=stop) if reader == "default" else reader
    speaker = speaker or EspeakSpeaker(should_stop=stop)
    scenes = detect_scenes(input_path, info.duration_s, fps=info.fps, should_stop=stop)
    report(0.1)
    tools = (describer, text_reader)
    found = _pendings(input_path, scenes, info, lang, tools, PLANS[density], read_subtitles, report, stop)
    texts = {p.text for p in found} | {p.shorter.text for p in found if p.shorter is not None}
    voices = {text: speaker(text, lang) for text in sorted(texts)}
    report(0.7)
    pauses = silences(input_path, info.duration_s, should_stop=stop) if info.has_audio else [(0.0, math.inf)]
    cues = place([_timed(p, voices) for p in found], pauses)
    report(0.8)
    output_path = Path(output_path)
    if not cues:
        remux(input_path, output_path, should_stop=stop)
        report(1.0)
        return DescriptionResult(output_path, None, [], scenes, notes_of(cues))
    mux(
        input_path,
        output_path,
        cues,
        [voices[c.text] for c in cues],
        lang=lang,
        audio_streams=info.audio_streams,
        mode=mode,
        should_stop=stop,
    )
    vtt_path = output_path.with_suffix(".vtt")
    try:
        vtt_path.write_text(webvtt(cues, lang), encoding="utf-8")
    except OSError as exc:
        raise StorageError(reason("description.vtt_failed")) from exc
    report(1.0)
    return DescriptionResult(output_path, vtt_path, cues, scenes, notes_of(cues))
