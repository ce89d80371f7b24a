"""Is a video interlaced, and which field comes first: the stream's flag, checked by ffmpeg's ``idet``.

Flags are often wrong both ways: broadcast film content flagged interlaced, camcorder footage re-encoded
with the combing baked into "progressive" frames, old codecs with no flag at all. So ``idet`` looks at
up to ``SAMPLE_FRAMES`` frames in ``WINDOWS`` windows spread across the file, twice in one pass: at its
default interlace threshold (1.04) and at a stricter one (1.5). A file flagged progressive, or not
flagged at all, is deinterlaced only when the strict count says interlaced: very sharp progressive video
(ffmpeg's testsrc2 at 176×144, in an AVI with no flag) fools the default threshold, while combing baked
into progressive frames clears 1.5 by far. Deinterlacing progressive video doubles its frames for
nothing, so without a flag the stricter evidence is asked for (``field`` or ``frame`` force it). A file
flagged interlaced goes by the default count; where ``idet`` cannot tell (static pictures) the flag
decides. See tests/contract/test_interlace.py for the cases.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from contract import media
from contract.media import UserInput, ffmpeg

log = logging.getLogger(__name__)

Parity = Literal["tff", "bff"]
#: What a job asks for: decide from the file, never, one frame per frame, or one frame per field.
DeinterlaceOption = Literal["auto", "off", "frame", "field"]
DEINTERLACE_OPTIONS: tuple[DeinterlaceOption, ...] = ("auto", "off", "frame", "field")


def deinterlace_option(text: str) -> DeinterlaceOption | None:
    """The option a word names (``auto``, ``off``, ``frame``, ``field``), or None."""
    return next((option for option in DEINTERLACE_OPTIONS if option == text), None)


SAMPLE_FRAMES = 200
WINDOWS = 4
#: idet's own default, and the stricter one that must agree before a "progressive" flag is overruled.
IDET_DEFAULT = 1.04
IDET_STRICT = 1.5
#: Share of the frames idet is sure about that must look interlaced (or progressive) for it to decide.
MAJORITY = 0.5
#: Share of all sampled frames idet must be sure about before its verdict outweighs the flag.
MIN_DETERMINED = 0.1

_FLAGS: dict[str, Parity] = {"tt": "tff", "tb": "tff", "bb": "bff", "bt": "bff"}
_MULTI = re.compile(
    r"Parsed_idet_(\d+)\s*@\s*\w+\]\s*Multi frame detection:"
    r"\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)\s*Undetermined:\s*(\d+)"
)


@dataclass(frozen=True)
class FieldCounts:
    """idet's multi-frame verdicts, summed over the windows."""

    tff: int = 0
    bff: int = 0
    progressive: int = 0
    undetermined: int = 0

    def __add__(self, other: FieldCounts) -> FieldCounts:
        return FieldCounts(
            self.tff + other.tff,
            self.bff + other.bff,
            self.progressive + other.progressive,
            self.undetermined + other.undetermined,
        )

    @property
    def total(self) -> int:
        """Frames idet looked at."""
        return self.tff + self.bff + self.progressive + self.undetermined


@dataclass(frozen=True)
class FieldVotes:
    """idet's counts at its default threshold and at the strict one."""

    default: FieldCounts = FieldCounts()
    strict: FieldCounts = FieldCounts()

    def __add__(self, other: FieldVotes) -> FieldVotes:
        return FieldVotes(self.default + other.default, self.strict + other.strict)


def parse_idet(stderr: str) -> FieldVotes:
    """The multi-frame counts the idet filters log when they end, summed over the windows' chains.

    idet filters come in graph order, two per window: the first of each pair runs at the default
    threshold, the second at the strict one (a lone idet is a default one). A stream whose frame size
    changes rebuilds the graph: each filter then logs once per graph, and every log counts.
    """
    by_filter: dict[int, FieldCounts] = {}
    for index, *counts in _MULTI.findall(stderr):
        found = FieldCounts(*(int(v) for v in counts))
        by_filter[int(index)] = by_filter.get(int(index), FieldCounts()) + found
    default, strict = FieldCounts(), FieldCounts()
    for rank, index in enumerate(sorted(by_filter)):
        if rank % 2:
            strict += by_filter[index]
        else:
            default += by_filter[index]
    return FieldVotes(default, strict)


def _verdict(counts: FieldCounts) -> Parity | Literal["unsure"] | None:
    """What idet says where it is sure enough; ``unsure`` otherwise."""
    interlaced = counts.tff + counts.bff
    determined = interlaced + counts.progressive
    if not counts.total or determined < MIN_DETERMINED * counts.total:
        return "unsure"
    if interlaced > MAJORITY * determined:
        return "tff" if counts.tff >= counts.bff else "bff"
    return None


def decide(field_order: str | None, votes: FieldVotes) -> Parity | None:
    """The field order to deinterlace with, or None for progressive video (pure: the rule above)."""
    flagged = _FLAGS.get(field_order or "")
    if flagged is None:  # progressive, or no flag: only the strict count overrules it
        verdict = _verdict(votes.strict)
        return None if verdict == "unsure" else verdict
    verdict = _verdict(votes.default)
    return flagged if verdict == "unsure" else verdict


def windows(duration_s: float, fps: float) -> list[float]:
    """Start times of the sampled windows: one from the start for short files, else spread evenly."""
    if duration_s * fps <= SAMPLE_FRAMES:
        return [0.0]
    return [duration_s * i / WINDOWS for i in range(WINDOWS)]


def count_fields(
    path: Path, duration_s: float, fps: float, *, timeout_s: float, should_stop: media.StopFn | None = None
) -> FieldVotes:
    """Run idet (both thresholds) over up to ``SAMPLE_FRAMES`` frames of an upload, in windows across it.

    One ffmpeg process reads every window (one input per window, each with its own idet chain and null
    output): a process per window cost more in start-up and probing than idet itself on small videos.
    """
    starts = windows(duration_s, fps)
    per_window = str(SAMPLE_FRAMES // len(starts))
    idet = f"idet=intl_thres={IDET_DEFAULT},idet=intl_thres={IDET_STRICT}"
    sources = [UserInput(path, ("-ss", f"{start:.3f}") if start else ()) for start in starts]
    graph = ";".join(f"[{i}:v:0]{idet}[w{i}]" for i in range(len(starts)))
    outputs: list[str] = []
    for i in range(len(starts)):
        outputs += ["-map", f"[w{i}]", "-frames:v", per_window, "-f", "null", "-"]
    args = ffmpeg(*sources, "-filter_complex", graph, *outputs, level="info")
    done = media.run(args, timeout_s=timeout_s, should_stop=should_stop)
    return parse_idet(done.stderr)


def resolve(
    option: DeinterlaceOption, field_order: str | None, votes: FieldVotes
) -> tuple[Literal["off", "frame", "field"], Parity | None]:
    """What a job does: ``auto`` deinterlaces at field rate when the file is interlaced."""
    parity = decide(field_order, votes)
    if option == "off" or (option == "auto" and parity is None):
        return "off", None
    mode: Literal["frame", "field"] = "frame" if option == "frame" else "field"
    return mode, parity


def decide_mode(
    path: Path,
    *,
    duration_s: float,
    fps: float,
    field_order: str | None,
    option: DeinterlaceOption,
    timeout_s: float,
    should_stop: media.StopFn | None = None,
) -> tuple[Literal["off", "frame", "field"], Parity | None]:
    """What a job on ``path`` does: ``auto`` runs idet (advice: if it fails, the flag decides)."""
    votes = FieldVotes()
    if option == "auto":
        try:
            votes = count_fields(path, duration_s, fps, timeout_s=timeout_s, should_stop=should_stop)
        except media.MediaCancelled:
            raise  # the job was stopped: nothing to decide
        except media.MediaError as exc:
            log.warning("field detection failed (%s); the field-order flag decides", type(exc).__name__)
    return resolve(option, field_order, votes)


def pictures_per_frame(mode: DeinterlaceOption) -> int:
    """Output pictures per input frame of a decided mode: two in ``field`` mode (50i → 50p), else one."""
    return 2 if mode == "field" else 1
