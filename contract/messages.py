"""Versioned message models exchanged over RabbitMQ between backend and adapter."""

from __future__ import annotations

import time
from typing import Annotated, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from contract import limits
from contract.catalogue import ParamValue, Reason
from contract.container import ContainerOption
from contract.interlace import DeinterlaceOption, Parity
from contract.models import BY_ID, denoise_level

#: The model catalogue lives in contract.models; these names are kept for the code that imports them here.
from contract.models import DEFAULT_MODEL as DEFAULT_MODEL
from contract.models import MODELS as MODELS

SCHEMA_VERSION = 1

#: x264/x265 presets, fastest first. "auto" (the default) lets the adapter choose by where the model runs.
Preset = Literal[
    "auto", "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]
#: Languages of the audio description (тифлокомментарии) the adapter can add.
DescribeLang = Literal["ru", "en"]
DESCRIBE_LANGUAGES: tuple[str, ...] = get_args(DescribeLang)
#: How much the audio description says (adapter.description.shots.PLANS).
DescribeDensity = Literal["brief", "normal", "detailed"]
DESCRIBE_DENSITIES: tuple[str, ...] = get_args(DescribeDensity)


class _Message(BaseModel):
    """Base of every message: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    v: Literal[1] = 1


class JobOptions(BaseModel):
    """What the user asked for: upscaling (model, output size) and/or an audio description in a language."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    model: str = DEFAULT_MODEL
    scale: int | None = Field(default=None, ge=1, le=4)
    height: int | None = Field(default=None, ge=limits.MIN_OUTPUT_HEIGHT, le=limits.MAX_OUTPUT_HEIGHT)
    crf: int = Field(default=18, ge=0, le=51)
    preset: Preset = "auto"
    encoder: Literal["libx264", "libx265", "h264_nvenc"] = "libx264"
    #: False: keep the video as it is (only useful together with ``describe``).
    upscale: bool = True
    #: Add a spoken description track (and a WebVTT) in this language.
    describe: DescribeLang | None = None
    #: How much the description says: text and people only (brief), plus shot size, objects, setting.
    density: DescribeDensity = "normal"
    #: Interlaced input: decide from the file, never, one picture per frame, or one per field (50i → 50p).
    deinterlace: DeinterlaceOption = "auto"
    #: Region inference: ``auto`` infers only what changed since it was last inferred (docs/pipeline.md).
    regions: Literal["off", "auto"] = "off"
    #: Which field comes first, as the backend found it at upload (None: each frame's own flags).
    field_parity: Parity | None = None
    #: The output's container: MKV only where MP4 would lose subtitles (``contract.container``).
    container: ContainerOption = "auto"
    #: Restoration strength: 1 = the model alone, 0 = a Lanczos resize, between = a blend; "auto" = estimated.
    strength: float | Literal["auto"] = 1.0
    #: Real-CUGAN denoise level (-1 conservative, 0 none, 1–3); None = the model's default.
    denoise: int | None = Field(default=None, ge=-1, le=3)
    #: What transparent pixels of an animated image are laid on where the output has no transparency.
    background: str = Field(default="#000000", pattern=r"^#[0-9a-fA-F]{6}$")
    #: HDR input (PQ, HLG): kept HDR (10-bit HEVC), or tone-mapped to BT.709 SDR (``adapter.video.tonemap``).
    hdr: Literal["keep", "sdr"] = "keep"

    @model_validator(mode="after")
    def _check(self) -> JobOptions:
        # Each refusal's error type is its catalogue code: the backend's form parser shows it as it is.
        if self.model not in MODELS:
            choices = ", ".join(MODELS)
            raise PydanticCustomError(
                "options.unknown_model", "unknown model {model!r}; choose one of {choices}",
                {"model": self.model[:64], "choices": choices},
            )  # fmt: skip
        if self.strength != "auto" and not 0.0 <= self.strength <= 1.0:
            raise PydanticCustomError("options.bad_strength", "strength must be between 0 and 1, or auto")
        try:
            denoise_level(self.model, self.denoise)
        except ValueError as exc:  # a level the model has no weights for
            choices = ", ".join(map(str, BY_ID[self.model].denoise_levels)) or "—"
            raise PydanticCustomError(
                "options.bad_denoise", str(exc), {"model": self.model, "choices": choices}
            ) from exc
        if self.scale is not None and self.height is not None:
            raise PydanticCustomError("options.scale_and_height", "give either scale or height, not both")
        if not self.upscale and self.describe is None:
            raise PydanticCustomError(
                "options.nothing_to_do", "nothing to do: ask for upscaling, a description, or both"
            )
        return self


class Segment(BaseModel):
    """One part of a segmented job: the frames whose pts lie in ``[start_pts, end_pts)``.

    Bounds are integers in the input video stream's time base (no float drift); None means the
    start or the end of the stream, so no frame before the first or after the last cut is lost.
    ``frames`` is the backend's planned count of output pictures (``backend.intake.segments``; twice the
    frames when the job deinterlaces at field rate): the adapter reports progress
    against it; its done event carries the exact count.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    index: int = Field(ge=0)
    count: int = Field(ge=1)
    start_pts: int | None = None
    end_pts: int | None = None
    frames: int = Field(ge=1)

    @model_validator(mode="after")
    def _check(self) -> Segment:
        if self.index >= self.count:
            raise ValueError(f"segment index {self.index} is not below the count {self.count}")
        if self.start_pts is not None and self.end_pts is not None and self.end_pts <= self.start_pts:
            raise ValueError("a segment must end after it starts")
        return self


#: ``job``: upscale the whole input into the output; ``segment``: upscale ``segment`` of the input into
#: its segment file; ``assemble``: join ``segments`` segment files and mux the input's audio, subtitles
#: and metadata. The same names are the backend's ``tasks.kind`` (docs/segments.md).
TaskKind = Literal["job", "segment", "assemble"]
JOB: Final[TaskKind] = "job"
SEGMENT: Final[TaskKind] = "segment"
ASSEMBLE: Final[TaskKind] = "assemble"


class JobMessage(_Message):
    """A task on the task queue: upscale one stored input (or a segment of it), or assemble segments."""

    kind: TaskKind = JOB
    job_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    #: Who the job belongs to (for the adapter's logs); absent in messages from before owners.
    owner: str | None = Field(default=None, max_length=128)
    input_key: str
    output_key: str
    options: JobOptions = JobOptions()
    #: Set on ``segment`` tasks only.
    segment: Segment | None = None
    #: Number of segment files an ``assemble`` task joins; set on those only.
    segments: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _segment_kind(cls, data: object) -> object:
        """Read a segment task from before the ``segment`` kind (it said ``job`` and named its segment)."""
        if isinstance(data, dict) and data.get("segment") is not None and data.get("kind", JOB) == JOB:
            return {**data, "kind": SEGMENT}
        return data

    @model_validator(mode="after")
    def _check_kind(self) -> JobMessage:
        if (self.kind == SEGMENT) != (self.segment is not None):
            raise ValueError("a segment task names its segment, and only a segment task does")
        if (self.kind == ASSEMBLE) != (self.segments is not None):
            raise ValueError("an assemble task names its segment count, and only an assemble task does")
        if self.segment is not None and self.options.describe is not None:
            raise ValueError("jobs with an audio description are not segmented")
        return self

    @property
    def label(self) -> str:
        """Human name of the task in logs: ``job <id>``, ``... segment 3/6`` or ``... assembly``."""
        if self.segment is not None:
            return f"job {self.job_id} segment {self.segment.index + 1}/{self.segment.count}"
        return f"job {self.job_id} assembly" if self.kind == ASSEMBLE else f"job {self.job_id}"


class ProgressEvent(_Message):
    """Periodic progress of a running job (at most about once a second)."""

    type: Literal["progress"] = "progress"
    job_id: str
    frames_done: int = Field(ge=0)
    frames_total: int = Field(ge=0)
    fps: float = Field(ge=0)
    eta_s: float | None = None
    #: Share of the frames' pixels sent to the model so far (region inference); absent when unknown.
    share: float | None = Field(default=None, ge=0, le=1)
    #: Index of the segment this progress is about (absent for whole-video jobs).
    segment: int | None = Field(default=None, ge=0)
    #: The task's run this progress belongs to (``RetryEvent.run``): every retry or redelivery starts a
    #: new run from frame 0; absent in events from before runs.
    run: int | None = Field(default=None, ge=1)
    #: The attempt this run is (1-based) of at most ``attempts``; a wait for the model server is no attempt.
    attempt: int | None = Field(default=None, ge=1)
    attempts: int | None = Field(default=None, ge=1)
    ts: float = Field(default_factory=time.time)


class DoneEvent(_Message):
    """The job's output and previews (and the description's WebVTT, if asked for) are stored."""

    type: Literal["done"] = "done"
    job_id: str
    output_key: str
    vtt_key: str | None = None
    preview_before_key: str | None = None
    preview_after_key: str | None = None
    #: The playable «before» proxy of an original the browser cannot play (``contract.playable``).
    source_proxy_key: str | None = None
    frames: int = Field(ge=0)
    width: int = Field(ge=0)
    height: int = Field(ge=0)
    seconds: float = Field(ge=0)
    #: Set when one segment file is stored (the job is done only with the assembly's event).
    segment: int | None = Field(default=None, ge=0)
    #: What the run changed in the video and why (deinterlaced, timeline shifted...), for the job's page.
    notes: list[Reason] = []
    #: Share of the frames' pixels sent to the model (region inference); absent when unknown.
    share: float | None = Field(default=None, ge=0, le=1)
    #: Pictures lost to damage and replaced by the last good one (absent: an assembly's event).
    damaged: int | None = Field(default=None, ge=0)
    ts: float = Field(default_factory=time.time)


class FailedEvent(_Message):
    """The job failed; ``permanent`` is false only when it will not be retried for another reason.

    ``code`` and ``params`` are the reason as a catalogue entry (``contract.catalogue``), which the page
    translates; ``reason`` is its English text for logs (and all that events from before codes carry).
    Build one from a Reason with :meth:`from_reason`.
    """

    type: Literal["failed"] = "failed"
    job_id: str
    reason: str
    code: str | None = None
    params: dict[str, ParamValue] = {}
    permanent: bool = True
    #: Index of the segment that failed, when a segment task failed.
    segment: int | None = Field(default=None, ge=0)
    ts: float = Field(default_factory=time.time)

    @classmethod
    def from_reason(
        cls, job_id: str, why: Reason, *, permanent: bool = True, segment: int | None = None
    ) -> FailedEvent:
        """The failed event carrying ``why`` (its code, parameters and English text)."""
        return cls(
            job_id=job_id,
            reason=why.text("en"),
            code=why.code,
            params=dict(why.params),
            permanent=permanent,
            segment=segment,
        )

    def why(self) -> Reason | None:
        """The reason as a catalogue Reason; None without a code or with one this side does not know."""
        return known_reason(self.code, self.params)


def known_reason(code: str | None, params: dict[str, ParamValue]) -> Reason | None:
    """A wire code and parameters as a catalogue Reason; None without a code or with one unknown here."""
    if code is None:
        return None
    try:
        return Reason(code=code, params=params)
    except ValidationError:
        return None


class RetryEvent(_Message):
    """A task failed for a transient reason and runs again after ``delay_s`` (a retry queue's delay).

    ``attempt`` is the attempt the retry will be (1-based) of at most ``attempts``; a model-server
    outage or overload (``infra``; the code says which) does not count as an attempt and is bounded by
    wall-clock time instead.
    ``code`` and ``params`` are the failure's catalogue reason, ``reason`` its English text.
    """

    type: Literal["retry"] = "retry"
    job_id: str
    attempt: int = Field(ge=1)
    attempts: int = Field(ge=1)
    delay_s: float = Field(ge=0)
    reason: str
    code: str | None = None
    params: dict[str, ParamValue] = {}
    infra: bool = False
    #: Index of the segment that is retried, when a segment task failed.
    segment: int | None = Field(default=None, ge=0)
    #: The run the retry will be (``ProgressEvent.run``); progress of earlier runs is stale from now on.
    run: int | None = Field(default=None, ge=1)
    ts: float = Field(default_factory=time.time)

    @classmethod
    def from_reason(
        cls,
        job_id: str,
        why: Reason,
        *,
        attempt: int,
        attempts: int,
        delay_s: float,
        infra: bool = False,
        run: int | None = None,
    ) -> RetryEvent:
        """The retry event carrying ``why`` (its code, parameters and English text)."""
        return cls(
            job_id=job_id,
            attempt=attempt,
            attempts=attempts,
            delay_s=delay_s,
            reason=why.text("en"),
            code=why.code,
            params=dict(why.params),
            infra=infra,
            run=run,
        )

    def why(self) -> Reason | None:
        """The failure as a catalogue Reason; None without a code or with one this side does not know."""
        return known_reason(self.code, self.params)


AnyEvent = ProgressEvent | DoneEvent | FailedEvent | RetryEvent
Event = Annotated[AnyEvent, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)


def parse_event(body: bytes) -> AnyEvent:
    """Parse an event body (JSON bytes) into its model; raises pydantic.ValidationError."""
    return EVENT_ADAPTER.validate_json(body)
