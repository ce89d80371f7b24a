"""``describe()``: scenes → key frames → sentences → speech → placement → output video + WebVTT."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from adapter.description.audio import silences
from adapter.description.detector import CenterNetDetector, Describer, OnnxCaptioner
from adapter.description.mux import TrackMode, mux, webvtt
from adapter.description.placement import Cue, Pending, place
from adapter.description.scenes import Scene, detect_scenes, key_frame
from adapter.description.sentences import sentence, signature
from adapter.description.speech import EspeakSpeaker, Speaker
from adapter.errors import InvalidInputError, JobCancelled, LimitExceededError, StorageError
from adapter.media import job_error
from contract import media
from contract.catalogue import reason
from contract.media import StopFn
from contract.probe import MediaInfo, ProbeError, probe

Lang = Literal["ru", "en"]
Progress = Callable[[float], None]
#: Where ``python -m adapter.description.fetch_models`` writes the detector (DESCRIPTION_DETECTOR_ONNX).
DEFAULT_DETECTOR_ONNX = Path("./.models/description/centernet.onnx")


@dataclass(frozen=True)
class DescriptionResult:
    """What ``describe`` wrote: the video, the WebVTT beside it, the spoken cues and the shots found."""

    output_path: Path
    vtt_path: Path
    cues: list[Cue]
    scenes: list[Scene]


def build_describer(
    detector_onnx: Path = DEFAULT_DETECTOR_ONNX,
    captioner_onnx: Path | None = None,
    min_score: float = 0.3,
) -> Describer:
    """The captioner when one is configured, else the shipped COCO detector."""
    if captioner_onnx is not None:
        return OnnxCaptioner(captioner_onnx)
    return CenterNetDetector(detector_onnx, min_score=min_score)


def _texts(
    input_path: Path,
    scenes: list[Scene],
    width: int,
    height: int,
    lang: Lang,
    describer: Describer,
    report: Progress,
    should_stop: StopFn,
) -> list[tuple[Scene, str]]:
    """One sentence per scene that shows something new compared with the last described scene."""
    texts: list[tuple[Scene, str]] = []
    last: object = None
    for number, scene in enumerate(scenes):
        found = describer(key_frame(input_path, scene.key_time, width, height, should_stop=should_stop))
        report(0.1 + 0.5 * (number + 1) / len(scenes))
        seen: object
        if isinstance(found, str):
            text, seen = (found or None), found.strip().lower()
        else:
            text, seen = sentence(found, lang), signature(found)
        if text is None or seen == last:
            continue
        texts.append((scene, text))
        last = seen
    return texts


def _probe(path: Path, max_duration_s: float) -> MediaInfo:
    """The input's facts; refusals and runner failures become the adapter's errors."""
    try:
        return probe(path, max_width=7680, max_height=4320, max_duration_s=max_duration_s)
    except ProbeError as exc:
        error = LimitExceededError if exc.kind == "too_large" else InvalidInputError
        raise error(exc.reason) from exc
    except media.MediaError as exc:
        raise job_error(exc, reason("media.damaged")) from exc


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
) -> DescriptionResult:
    """Add an audio-description track in ``lang`` to ``input_path``; write ``output_path`` and its ``.vtt``.

    ``mode="mix"`` (default) makes the description track a complete soundtrack (original, ducked
    under descriptions that overlap dialogue, plus the voice); ``"speech"`` makes it the voice alone.
    ``should_stop`` is polled by every step and every subprocess (a cancel raises JobCancelled within
    a fraction of a second); ``info`` is the job's probe result, probed here when not given.
    """
    if lang not in ("ru", "en"):
        raise InvalidInputError(reason("description.bad_language"))
    stop = should_stop or (lambda: False)
    user_report = on_progress or (lambda _fraction: None)

    def report(fraction: float) -> None:
        if stop():
            raise JobCancelled("cancelled")
        user_report(fraction)

    info = info or _probe(Path(input_path), max_duration_s)
    describer = describer or build_describer()
    speaker = speaker or EspeakSpeaker(should_stop=stop)
    scenes = detect_scenes(input_path, info.duration_s, fps=info.fps, should_stop=stop)
    report(0.1)
    texts = _texts(input_path, scenes, info.width, info.height, lang, describer, report, stop)
    voices = {text: speaker(text, lang) for _scene, text in texts}
    report(0.7)
    pauses = silences(input_path, info.duration_s, should_stop=stop) if info.has_audio else [(0.0, math.inf)]
    cues = place([Pending(scene, text, voices[text].duration_s) for scene, text in texts], pauses)
    report(0.8)
    output_path = Path(output_path)
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
    return DescriptionResult(output_path=output_path, vtt_path=vtt_path, cues=cues, scenes=scenes)
