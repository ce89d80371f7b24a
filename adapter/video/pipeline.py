"""The upscaling pipeline: plan → temporaries → stage threads (``adapter.video.flow``) → mux → previews →
publish.

The job probes the input once and hands its ``MediaInfo`` in; a direct call without one probes here.
Output goes to a hidden temporary name and is renamed on success only.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adapter.errors import JobCancelled, LimitExceededError, StorageError
from adapter.inference.base import Upscaler
from adapter.inference.deadline import Deadlined
from adapter.inference.upscalers import TiledUpscaler
from adapter.limits import Limits
from adapter.regions.field import field_of
from adapter.regions.planner import Planner
from adapter.restoration.auto import auto_strength_note, bits_per_pixel
from adapter.restoration.degradation import clean_strength
from adapter.video import animated, muxer
from adapter.video import decode as video
from adapter.video.animation import AnimationDecoder, parse_colour
from adapter.video.colour import RANGE_MPEG, SPC_SMPTE170M, Colour
from adapter.video.deinterlacer import Deinterlace, choose
from adapter.video.depth import high_bit_depth
from adapter.video.encoder import Encoder, resolve_preset
from adapter.video.flow import Flow, Image, Meter, resize
from adapter.video.stages import OnProgress, Result, Segment, ShouldStop, probe_input
from adapter.video.tonemap import ToneMapped
from contract import storage
from contract.catalogue import Reason, reason
from contract.container import ANIMATED, STYLED_SUBTITLES, Container, container_for, keeps, needs_mkv
from contract.hdr import HDR_TRANSFERS, HdrMetadata
from contract.hdr import read as read_hdr
from contract.media import MediaCancelled
from contract.mediainfo import MediaInfo
from contract.messages import JobOptions
from contract.probe import is_animation
from contract.probe import probe as ffprobe
from contract.sizing import SizeRefused, job_output_size

#: Frames a stream may hold beyond its duration limit at the probed rate, as a factor.
FRAME_SLACK = 2
#: Share of one call's deadline that one batch's answer may take beyond its calls' (copies, hand-offs).
ANSWER_MARGIN = 0.5
#: How deep ``deadlines_of`` looks through wrappers (throttle → tiles → watchdog → model).
MAX_WRAPPERS = 8


def answer_timeout(upscaler: Upscaler, frame: tuple[int, int], limits: Limits) -> float:
    """Longest wait for one batch's answer: a model call's deadline for each call a batch takes.

    A call's deadline is the upscaler's own where it has one (it grows with the call's pixels and the
    model's measured speed: ``adapter.inference.deadline``), else ``limits.inference_timeout_s``; asked
    again before each wait, so a model measured slower mid-run is waited for longer.
    """
    calls, pixels = 1, upscaler.max_batch * frame[0] * frame[1]
    if isinstance(upscaler, TiledUpscaler) and max(frame) > upscaler.tile:
        core = upscaler.tile - 2 * upscaler.overlap
        tiles = math.ceil(frame[0] / core) * math.ceil(frame[1] / core) * upscaler.max_batch
        calls = math.ceil(tiles / upscaler.inner.max_batch)
        pixels = upscaler.inner.max_batch * upscaler.tile * upscaler.tile
    carrier = deadlines_of(upscaler)
    if carrier is None:
        return limits.inference_timeout_s * (calls + ANSWER_MARGIN)
    # One call more: a call may first wait for a lane behind another (``Lanes``), and the upscaler's own
    # deadline, not this backstop, is what tells overload from a fault.
    per_call = max(limits.inference_timeout_s, carrier.deadlines.deadline_s(pixels))
    return per_call * (calls + 1 + ANSWER_MARGIN)


def deadlines_of(upscaler: object) -> Deadlined | None:
    """The upscaler (or one it wraps, through ``inner``) whose calls have size-fitted deadlines."""
    seen = 0
    while upscaler is not None and seen < MAX_WRAPPERS:
        if isinstance(upscaler, Deadlined):
            return upscaler
        upscaler, seen = getattr(upscaler, "inner", None), seen + 1
    return None


@dataclass(frozen=True)
class Plan:
    """What a run produces, decided before any frame is decoded."""

    width: int
    height: int
    #: Encoded frame size: the display size turned back for a rotated source (the player turns it).
    stored: tuple[int, int]
    frames_total: int
    preset: str
    encoder: str = "libx264"
    #: A high-bit-depth source: 16-bit pictures around the model, 10-bit HEVC out (adapter/video/depth.py).
    deep: bool = False
    #: HDR asked for as SDR: 16-bit pictures decoded, tone-mapped to 8-bit BT.709 (adapter/video/tonemap.py).
    tonemap: bool = False


def plan(
    info: MediaInfo,
    options: JobOptions,
    upscaler: Upscaler,
    limits: Limits,
    segment: Segment | None,
    deinterlace: Deinterlace | None = None,
) -> Plan:
    """Output size (the contract's rule, within the output box), planned frames and encoder preset."""
    try:
        width, height = job_output_size(
            options,
            info.frame_width,
            info.frame_height,
            sar=info.sar,
            rotation=info.rotation,
            box=limits.max_output,
        )
    except SizeRefused as exc:
        raise LimitExceededError(exc.reason) from exc
    stored = (height, width) if info.rotation in (90, 270) else (width, height)
    # A segment's planned frame count comes from the backend's plan (the exact one once encoded).
    # Field mode doubles the pictures (50i → 50p); a segment's plan counts output pictures already.
    factor = deinterlace.rate_factor if deinterlace is not None else 1
    frames_total = info.frames * factor if segment is None else segment.frames
    # 10 bits in, 10 bits out: HEVC Main10 (H.264 High 10 plays almost nowhere); NVENC here is H.264, 8-bit.
    tonemap = options.hdr == "sdr" and info.color_transfer in HDR_TRANSFERS
    deep = high_bit_depth(info.pix_fmt) and options.encoder != "h264_nvenc" and not tonemap
    encoder = "libx265" if deep else options.encoder
    preset = resolve_preset(options.preset, encoder, upscaler.device)
    return Plan(width, height, stored, frames_total, preset, encoder, deep, tonemap)


@dataclass(frozen=True)
class Temporaries:
    """Hidden names beside the output: the encoded video alone, and the muxed file before its rename."""

    video: Path
    output: Path

    @classmethod
    def beside(cls, output: Path) -> Temporaries:
        """Fresh names in the output's folder (a rename there is atomic)."""
        tag = uuid.uuid4().hex[:8]
        return cls(
            storage.temporary(output.with_suffix(".mp4"), f"{tag}.video"),
            storage.temporary(output.with_suffix(".mp4"), tag),
        )

    def remove(self) -> None:
        """Delete whichever of them still exists."""
        for temp in (self.video, self.output):
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def stream_limits(info: MediaInfo, limits: Limits) -> video.StreamLimits:
    """What the decoder may meet: the input box, the duration limit, and frames for it at twice the rate."""
    # Twice the probed rate: variable-rate video runs above its average for a while; a stream with
    # frames but no advancing timestamps still stops.
    most = math.ceil(limits.max_duration_s * info.fps * FRAME_SLACK) + 1
    return video.StreamLimits(
        limits.max_width, limits.max_height, limits.max_duration_s, most, limits.max_damaged_share
    )


def open_decoder(
    path: Path,
    info: MediaInfo,
    limits: Limits | None = None,
    deinterlace: Deinterlace | None = None,
    *,
    deep: bool = False,
    background: str = "#000000",
) -> video.Pictures:
    """The input's decoder: the one place a job opens the input (checked against ``limits``).

    Video is decoded with PyAV; an animated image is read with Pillow and laid on ``background``.
    """
    checks = None if limits is None else stream_limits(info, limits)
    if is_animation(info):
        return AnimationDecoder(path, info, background=parse_colour(background), limits=checks)
    # The probe's frame rate and time base: one rule for the whole job.
    return video.Decoder(path, info, limits=checks, deinterlace=deinterlace, deep=deep)


def hdr_of(source: Path, info: MediaInfo, limits: Limits) -> HdrMetadata:
    """The source's mastering-display and light-level metadata, kept in the output (HDR sources only)."""
    if info.color_transfer not in HDR_TRANSFERS:
        return HdrMetadata()
    return read_hdr(source, timeout_s=limits.probe_timeout_s)


def _encoder_opener(
    decoder: video.Pictures, path: Path, planned: Plan, options: JobOptions, hdr: HdrMetadata
) -> Callable[[], Encoder]:
    """Opens the encoder on the first frame, when the decoder knows the source's colour."""

    def open_encoder() -> Encoder:
        colour = decoder.colour or Colour(SPC_SMPTE170M, 6, 6, RANGE_MPEG)
        return Encoder(
            path,
            width=planned.stored[0],
            height=planned.stored[1],
            time_base=decoder.time_base,
            fps=decoder.fps,
            colour=colour,
            encoder=planned.encoder,
            crf=options.crf,
            preset=planned.preset,
            deep=planned.deep,
            x265_params=tuple(hdr.x265_params()),
        )

    return open_encoder


def _complete_video(
    temps: Temporaries,
    source: Path,
    decoder: video.Pictures,
    info: MediaInfo,
    limits: Limits,
    segment: Segment | None,
    should_stop: ShouldStop,
    container: Container,
) -> None:
    """Mux the encoded video with the source's other streams; a segment stays video-only.

    An animated image has nothing but pictures; a GIF or WebP output is written from the encoded
    video (``adapter.video.animated``), with the source's transparency where it had some.
    """
    if segment is not None:
        os.replace(temps.video, temps.output)  # the assembly muxes audio, subtitles and metadata
        return
    if container in ANIMATED or is_animation(info):
        alpha = alpha_source(source, info, container)
        timeout_s, stop = limits.mux_timeout_s, should_stop
        animated.write(
            temps.video, temps.output, container, alpha_source=alpha, timeout_s=timeout_s, should_stop=stop
        )
        return
    muxer.mux(
        temps.video,
        source,
        temps.output,
        others=decoder.others,
        rotation=info.rotation,
        timeout_s=limits.mux_timeout_s,
        start_s=info.container_start_s,
        container=container,
        should_stop=should_stop,
    )


def _write_previews(
    paths: tuple[Path, Path], frames: tuple[Image, Image], stored: tuple[int, int], rotation: int
) -> None:
    """The middle frame before (resized to the output size, for a fair comparison) and after."""
    before, after = frames
    _write_preview(paths[0], resize(before, *stored), rotation)
    _write_preview(paths[1], after, rotation)


def _write_preview(path: Path, rgb: Image, rotation: int) -> None:
    """Write a JPEG shown upright (stored frames are rotated by the player, a JPEG is not)."""
    upright = np.rot90(rgb, k=-(rotation // 90)) if rotation else rgb
    temp = storage.temporary(path, f"jpeg.{uuid.uuid4().hex[:8]}")  # the janitor's rule, .jpg kept
    if not cv2.imwrite(
        str(temp),
        cv2.cvtColor(np.ascontiguousarray(upright), cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, 90],
    ):
        raise StorageError(reason("job.preview_not_written"))
    os.replace(temp, path)


def _never() -> bool:
    return False


def run(
    input_path: Path,
    output_path: Path,
    options: JobOptions,
    upscaler: Upscaler,
    *,
    info: MediaInfo | None = None,
    segment: Segment | None = None,
    on_progress: OnProgress | None = None,
    should_stop: ShouldStop | None = None,
    previews: tuple[Path, Path] | None = None,
    limits: Limits | None = None,
) -> Result:
    """Upscale ``input_path`` into the MP4 ``output_path`` (via a temporary name, renamed on success).

    ``segment`` upscales only the frames whose pts lie in ``[start_pts, end_pts)``
    (None: from the start / to the end) into a *video-only* MP4 that joins the other segments by stream
    copy (``adapter.video.assembly``); the audio, subtitles and metadata are then the assembly's job.
    """
    started, limits, stop = time.monotonic(), limits or Limits(), should_stop or _never
    source, output_path = Path(input_path), Path(output_path)
    info = info or probe_input(ffprobe, source, limits)
    how = None
    if not is_animation(info):  # an animated image has no fields
        try:
            how = choose(
                source,
                info,
                options.deinterlace,
                parity=options.field_parity,
                timeout_s=limits.probe_timeout_s,
                should_stop=stop,
            )
        except MediaCancelled as exc:  # cancelled during the field check: a cancel like any other
            raise JobCancelled("cancelled") from exc
    planned = plan(info, options, upscaler, limits, segment, how)
    container = container_of(options, info)
    hdr = hdr_of(source, info, limits) if planned.deep or planned.tonemap else HdrMetadata()
    temps = Temporaries.beside(output_path)
    decoder = open_decoder(
        source, info, limits, how, deep=planned.deep or planned.tonemap, background=options.background
    )
    if planned.tonemap:  # HDR asked for as SDR: the pictures leave the decoder tone-mapped
        decoder = ToneMapped(decoder, info.color_transfer or "", hdr.peak_nits())
    hdr = hdr if planned.deep else HdrMetadata()
    try:
        opener = _encoder_opener(decoder, temps.video, planned, options, hdr)
        frame = (info.frame_width, info.frame_height)
        flow = Flow(
            decoder,
            upscaler,
            opener,
            size=planned.stored,
            frames_total=planned.frames_total,
            segment=segment,
            answer_timeout_s=lambda: answer_timeout(upscaler, frame, limits),
            regions=planner(options, float(decoder.fps), limits),
            strength=options.strength,
            bits_per_pixel=bits_per_pixel(source, info),
            clean_strength=clean_strength(options.model),
        )
        flow.run(stop, Meter(on_progress))
        _complete_video(temps, source, decoder, info, limits, segment, stop, container)
        if previews is not None and flow.preview is not None:
            _write_previews(previews, flow.preview, planned.stored, info.rotation)
        os.replace(temps.output, output_path)
    finally:
        decoder.close()
        temps.remove()
    seconds = round(time.monotonic() - started, 3)
    notes = notes_of(info, how, decoder, planned.stored, segment, container, options.background)
    if flow.degradation is not None:  # strength=auto: show the job what was chosen
        notes = (*notes, auto_strength_note(flow.degradation))
    return Result(
        flow.frames_done,
        planned.width,
        planned.height,
        seconds,
        flow.inferred,
        notes=notes,
        share=flow.share,
        damaged=decoder.damage.lost,
    )


def planner(options: JobOptions, fps: float, limits: Limits) -> Planner | None:
    """The run's region planner: ``regions=auto`` on a model whose receptive field is known."""
    field = field_of(options.model)
    if options.regions != "auto" or field is None:
        return None
    return Planner(field, fps, refresh_s=limits.regions_refresh_s)


def notes_of(
    info: MediaInfo,
    how: Deinterlace | None,
    decoder: video.Pictures,
    size: tuple[int, int],
    segment: Segment | None,
    container: Container = "mp4",
    background: str = "#000000",
) -> tuple[Reason, ...]:
    """What the run changed in the video and why, in the catalogue's words (the job shows them)."""
    notes: list[Reason] = []
    if how is not None and how.mode == "field":
        notes.append(reason("note.deinterlaced_field", fps=round(float(decoder.fps), 3)))
    elif how is not None:
        notes.append(reason("note.deinterlaced_frame"))
    if decoder.resized:
        notes.append(reason("note.frames_resized", width=size[0], height=size[1]))
    if isinstance(decoder, ToneMapped):
        notes.append(reason("note.tone_mapped"))
    kept = segment is None and container in ANIMATED  # GIF and WebP keep the transparency
    if decoder.flattened and not kept:
        black = background.lower() == "#000000"
        notes.append(
            reason("note.alpha_flattened") if black else reason("note.alpha_on_colour", colour=background)
        )
    damaged = decoder.damage.note()
    if damaged is not None:
        notes.append(damaged)
    if segment is None:  # a segment's mux is the assembly's
        notes += mux_notes(info, decoder.others, container)
    return tuple(notes)


def alpha_source(source: Path, info: MediaInfo, container: Container) -> tuple[Path, Any] | None:
    """Where a GIF/WebP output takes its transparency from: a transparent animated source, else nowhere."""
    if container not in ANIMATED or not is_animation(info) or info.pix_fmt != "rgba":
        return None
    return source, info.format_name


def container_of(options: JobOptions, info: MediaInfo) -> Container:
    """The container this job writes (the backend and the CLI resolve ``auto`` before; direct calls here)."""
    return container_for(options.container, info.subtitle_codecs, info.attachments)


def mux_notes(
    info: MediaInfo, others: list[video.SourceStream], container: Container = "mp4"
) -> list[Reason]:
    """What muxing changes: the timeline moved to 0, MKV chosen, what the container cannot carry left out."""
    notes: list[Reason] = []
    if container in ANIMATED and info.has_audio:
        notes.append(reason("note.sound_left_out", container=container.upper()))
    if info.container_start_s > 0:
        notes.append(reason("note.timeline_shifted", seconds=round(info.container_start_s, 3)))
    subtitles = [s.codec for s in others if s.kind == "subtitle"]
    if container == "mkv" and needs_mkv(subtitles, info.attachments):
        notes.append(reason("note.kept_in_mkv"))
    dropped = sum(1 for codec in subtitles if not keeps(container, codec))
    if dropped:
        notes.append(reason("note.subtitles_dropped", count=dropped, container=container.upper()))
    if container == "mp4" and info.attachments and set(subtitles) & STYLED_SUBTITLES:
        notes.append(reason("note.styles_flattened"))
    return notes
