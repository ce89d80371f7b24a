"""Offline text-to-speech: the ``Speaker`` protocol and the espeak-ng voice (Debian main, GPL-3)."""

from __future__ import annotations

import io
import shutil
import wave
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

import numpy as np

from adapter.errors import InferenceUnavailableError
from adapter.media import job_error
from contract import media
from contract.catalogue import reason
from contract.media import StopFn

Lang = Literal["ru", "en"]
#: Samples quieter than this (of full scale) count as silence when trimming the voice's edges.
_TRIM_LEVEL = 0.01


@dataclass(frozen=True)
class Speech:
    """Mono float32 samples in -1..1 at ``rate`` Hz, with leading and trailing silence trimmed."""

    samples: np.ndarray
    rate: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate


class Speaker(Protocol):
    """Speaks one sentence in ``lang``."""

    def __call__(self, text: str, lang: Lang) -> Speech: ...


def trim(samples: np.ndarray) -> np.ndarray:
    """Cut leading/trailing silence so a cue's start is the first audible sample."""
    loud = np.flatnonzero(np.abs(samples) > _TRIM_LEVEL)
    return samples[loud[0] : loud[-1] + 1] if loud.size else samples[:0]


def read_wav(data: bytes) -> Speech:
    """Decode 16-bit mono/stereo PCM WAV bytes to mono float samples."""
    with wave.open(io.BytesIO(data)) as wav:
        if wav.getsampwidth() != 2:
            raise ValueError("only 16-bit WAV is supported")
        frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32) / 32768.0
        channels, rate = wav.getnchannels(), wav.getframerate()
    return Speech(frames.reshape(-1, channels).mean(axis=1), rate)


class EspeakSpeaker:
    """espeak-ng voices ``ru`` and ``en-gb``; the text goes in on stdin so it is never read as an option."""

    VOICES: ClassVar[dict[str, str]] = {"ru": "ru", "en": "en-gb"}

    def __init__(
        self,
        *,
        words_per_minute: int = 165,
        binary: str = "espeak-ng",
        timeout_s: float = 60,
        should_stop: StopFn | None = None,
    ) -> None:
        found = shutil.which(binary)
        if found is None:
            raise InferenceUnavailableError(reason("description.speech_missing"))
        self.binary, self.words_per_minute, self.timeout_s = found, words_per_minute, timeout_s
        self.should_stop = should_stop

    def __call__(self, text: str, lang: Lang) -> Speech:
        """Synthesise ``text`` in ``lang``; raises InferenceUnavailableError when espeak-ng fails."""
        args = [self.binary, "-v", self.VOICES[lang], "-s", str(self.words_per_minute), "--stdin", "--stdout"]
        stdin = text.encode()
        try:
            done = media.run(args, timeout_s=self.timeout_s, should_stop=self.should_stop, stdin=stdin)
        except media.MediaFailed as exc:
            # espeak-ng failing on our own sentence is the voice's fault, never the input's.
            raise InferenceUnavailableError(reason("description.speech_failed")) from exc
        except media.MediaError as exc:
            raise job_error(exc, reason("description.speech_failed")) from exc
        if not done.stdout:
            raise InferenceUnavailableError(reason("description.speech_failed"))
        speech = read_wav(done.stdout)
        return Speech(trim(speech.samples), speech.rate)
