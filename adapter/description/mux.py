"""The output video: original streams copied, plus a description audio track; and the WebVTT beside it."""

from __future__ import annotations

import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from adapter.description.placement import Cue
from adapter.description.speech import Speech
from adapter.errors import InvalidInputError, StorageError
from adapter.media import job_error
from adapter.video.muxer import kept_subtitles
from contract import media, storage
from contract.catalogue import reason
from contract.media import Arg, OwnInput, StopFn, UserInput, ffmpeg

Lang = Literal["ru", "en"]
TrackMode = Literal["mix", "speech"]
#: Output containers that hold several audio tracks with language and disposition flags.
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
LANGUAGE_TAGS = {"ru": "rus", "en": "eng"}
TITLES = {"ru": "Тифлокомментарий", "en": "Audio description"}
#: Gain of the original soundtrack under a description that overlaps dialogue (about -12 dB).
DUCK_GAIN = 0.25


def speech_bed(cues: Sequence[Cue], voices: Sequence[Speech]) -> tuple[np.ndarray, int]:
    """All spoken cues on one timeline starting at 0 s, as int16 samples at the voices' rate."""
    rate = voices[0].rate if voices else 22050
    end = max(
        (round(c.start * rate) + len(v.samples) for c, v in zip(cues, voices, strict=True)), default=rate
    )
    bed = np.zeros(end, np.float32)
    for cue, voice in zip(cues, voices, strict=True):
        if voice.rate != rate:
            raise ValueError("all voices must share one sample rate")
        offset = round(cue.start * rate)
        bed[offset : offset + len(voice.samples)] += voice.samples
    return (np.clip(bed, -1, 1) * 32767).astype(np.int16), rate


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


def _filter(cues: Sequence[Cue], has_audio: bool, mode: TrackMode) -> str:
    voice = "[1:a]aresample=48000,aformat=channel_layouts=stereo"
    if not has_audio or mode == "speech":
        return voice + "[desc]"
    ducked = "+".join(f"between(t,{c.start:.3f},{c.end:.3f})" for c in cues if c.ducked)
    bed = "[0:a:0]aresample=48000,aformat=channel_layouts=stereo"
    if ducked:
        bed += f",volume=volume={DUCK_GAIN}:enable='{ducked}'"
    # normalize=0: amix would otherwise halve both inputs and the dialogue would get quieter everywhere.
    return f"{bed}[bed];{voice}[voice];[bed][voice]amix=inputs=2:duration=longest:normalize=0[desc]"


def mux(
    source: Path,
    output: Path,
    cues: Sequence[Cue],
    voices: Sequence[Speech],
    *,
    lang: Lang,
    audio_streams: int,
    mode: TrackMode = "mix",
    timeout_s: float = 1800,
    should_stop: StopFn | None = None,
) -> None:
    """Write ``output``: video and original audio copied untouched, description track last (AAC)."""
    muxer = _muxer(output)
    index = audio_streams  # the description track comes after the original tracks
    with tempfile.TemporaryDirectory(prefix="description-") as tmp:
        bed, rate = speech_bed(cues, voices)
        voice_wav = Path(tmp) / "voice.wav"
        _write_wav(voice_wav, bed, rate)
        args = _mux_args(source, voice_wav, _filter(cues, audio_streams > 0, mode), index, lang, muxer)
        _write(args, source, output, muxer, timeout_s=timeout_s, should_stop=should_stop)


def remux(source: Path, output: Path, *, timeout_s: float = 1800, should_stop: StopFn | None = None) -> None:
    """Write ``output`` with the source's video and audio copied and no description track (nothing found)."""
    muxer = _muxer(output)
    args = ffmpeg(UserInput(source), "-map", "0:v:0", "-map", "0:a?", "-c", "copy", "-f", muxer)
    if muxer in ("mp4", "mov"):
        args += ["-movflags", "+faststart"]
    _write(args, source, output, muxer, timeout_s=timeout_s, should_stop=should_stop)


def _muxer(output: Path) -> str:
    """The ffmpeg muxer of an output's suffix, or the user's error naming the containers we write."""
    muxer = CONTAINERS.get(output.suffix.lower())
    if muxer is None:
        raise InvalidInputError(reason("description.bad_output", containers=", ".join(CONTAINERS)))
    return muxer


def _write(
    args: list[Arg], source: Path, output: Path, muxer: str, *, timeout_s: float, should_stop: StopFn | None
) -> None:
    """The one writer: ``args`` and the subtitles the container keeps, into a temporary renamed on success."""
    partial = storage.temporary(output, "description")
    args = [*args, *_subtitles(source, muxer), f"file:{partial.resolve()}"]
    try:
        media.run(args, timeout_s=timeout_s, should_stop=should_stop)
    except media.MediaError as exc:
        partial.unlink(missing_ok=True)
        raise _mux_error(exc, output.suffix) from exc
    try:
        partial.replace(output)
    except OSError as exc:
        raise StorageError(reason("description.write_failed")) from exc


def _subtitles(source: Path, muxer: str) -> list[Arg]:
    """The source's subtitles (and fonts) the output's container keeps (``contract.container``)."""
    return kept_subtitles(source, "mkv" if muxer == "matroska" else "mp4")


def _mux_args(source: Path, voice_wav: Path, graph: str, index: int, lang: Lang, muxer: str) -> list[Arg]:
    """ffmpeg's arguments: video and original audio copied, the description as audio track ``index``."""
    track = [
        f"-c:a:{index}", "aac", f"-b:a:{index}", "128k",
        f"-metadata:s:a:{index}", f"language={LANGUAGE_TAGS[lang]}",
        f"-metadata:s:a:{index}", f"title={TITLES[lang]}",
        f"-metadata:s:a:{index}", f"handler_name={TITLES[lang]}",
        f"-disposition:a:{index}", "visual_impaired+descriptions",
    ]  # fmt: skip
    args = ffmpeg(
        UserInput(source), OwnInput(voice_wav, "wav"), "-filter_complex", graph,
        "-map", "0:v:0", "-map", "0:a?", "-map", "[desc]", "-c:v", "copy", "-c:a", "copy",
        *track, "-f", muxer,
    )  # fmt: skip
    if muxer in ("mp4", "mov"):
        args += ["-movflags", "+faststart"]
    return args


def _mux_error(exc: media.MediaError, suffix: str) -> Exception:
    """The adapter error of a failed mux; audio the container cannot hold gets its own advice."""
    if isinstance(exc, media.MediaFailed) and (
        "codec not currently supported in container" in exc.tail or "Could not find tag" in exc.tail
    ):
        return InvalidInputError(reason("description.audio_not_copyable", suffix=suffix))
    return job_error(exc, reason("description.write_failed"))


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def webvtt(cues: Sequence[Cue], lang: Lang) -> str:
    """A WebVTT document for ``<track kind="descriptions">`` with one cue per spoken description."""
    lines = ["WEBVTT", "", f"NOTE kind: descriptions; language: {lang}", ""]
    for number, cue in enumerate(cues, 1):
        # "-->" never occurs in our sentences, but a caption model's text might contain it.
        text = cue.text.replace("-->", "→").strip()
        lines += [str(number), f"{_timestamp(cue.start)} --> {_timestamp(cue.end)}", text, ""]
    return "\n".join(lines)
