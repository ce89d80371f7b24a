"""The upscaling pipeline: probe → decode → batch → infer (several in flight) → resize → encode → mux.

Stages are threads joined by bounded queues, so memory does not grow with video length and no
frame touches the disk. Output goes to a hidden temporary name and is renamed on success only.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adapter import video
from adapter.errors import InvalidInputError, JobCancelled, LimitExceededError, StorageError
from adapter.inference import Upscaler
from adapter.limits import Limits
from contract.messages import JobOptions
from contract.probe import MediaInfo, ProbeError, probe
from contract.sizing import SizeRefused, job_output_size

#: Largest mean difference (0..255) of any 8×8 block for two frames to count as the same picture.
STATIC_THRESHOLD = 1.5
_POLL_S = 0.2
_PROGRESS_EVERY_S = 0.5
_DONE = object()


@dataclass(frozen=True)
class Progress:
    """Frames encoded so far, the total (estimated until the end), recent frames/s and seconds left."""

    frames_done: int
    frames_total: int
    fps: float
    eta_s: float | None


@dataclass(frozen=True)
class Result:
    """What was written: frame count, display size, wall seconds, and frames actually sent to the model."""

    frames: int
    width: int
    height: int
    seconds: float
    inferred: int = 0


def resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize to exactly width×height: area averaging when shrinking, Lanczos when growing."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    method = cv2.INTER_AREA if width <= w and height <= h else cv2.INTER_LANCZOS4
    return cv2.resize(frame, (width, height), interpolation=method)


def same_picture(a: np.ndarray, b: np.ndarray, threshold: float = STATIC_THRESHOLD) -> bool:
    """Whether two frames differ nowhere by more than ``threshold`` on average over an 8×8 block."""
    h, w = a.shape[:2]
    diff = cv2.absdiff(a, b)
    blocks = cv2.resize(diff, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    return float(blocks.max()) <= threshold


@dataclass
class _Batch:
    """Frames sent to the model in one call, and the decoded frames they stand for, in order."""

    future: Future[np.ndarray]
    inputs: np.ndarray
    # (frame index, pts, position in inputs) per decoded frame; repeats point at their unique frame.
    frames: list[tuple[int, int, int]] = field(default_factory=list)


class _Run:
    """State shared by the stage threads of one run."""

    def __init__(self, frames_total: int) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.frames_total = frames_total
        self.frames_done = 0
        self.inferred = 0
        self.preview: tuple[np.ndarray, np.ndarray] | None = None

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self.stop.set()

    def put(self, q: queue.Queue[Any], item: Any) -> bool:
        while not self.stop.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def get(self, q: queue.Queue[Any]) -> Any:
        while not self.stop.is_set():
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return _DONE


def segment_frames(info: MediaInfo, start_pts: int | None, end_pts: int | None) -> int:
    """Planned frame count of a segment (for progress; the exact count is known once it is encoded)."""
    begin = Fraction(start_pts) * info.time_base if start_pts is not None else Fraction(0)
    end = (
        Fraction(end_pts) * info.time_base
        if end_pts is not None
        else Fraction(info.start_time_s + info.duration_s)
    )
    return max(1, round((end - begin) * info.fps))


def _decode_stage(
    run: _Run,
    decoder: video.Decoder,
    upscaler: Upscaler,
    pool: ThreadPoolExecutor,
    batches: queue.Queue[Any],
    segment: tuple[int | None, int | None] | None = None,
) -> None:
    """Decode, skip repeated pictures, group unique frames into batches and submit them to the model."""
    try:
        pending: list[np.ndarray] = []
        frames: list[tuple[int, int, int]] = []
        last_unique: np.ndarray | None = None

        def submit() -> bool:
            future: Future[np.ndarray]
            if pending:
                inputs = np.stack(pending)
                future = pool.submit(upscaler.infer, inputs)
                run.inferred += len(pending)
            else:  # only repeats of an earlier frame: nothing to infer
                inputs = np.empty((0, 1, 1, 3), np.uint8)
                future = Future()
                future.set_result(inputs)
            batch = _Batch(future, inputs, list(frames))
            pending.clear()
            frames.clear()
            return run.put(batches, batch)

        for index, (rgb, pts) in enumerate(decoder.frames(*(segment or (None, None)))):
            if run.stop.is_set():
                return
            if last_unique is not None and same_picture(rgb, last_unique):
                frames.append((index, pts, -1))  # -1: show the latest unique frame again
                continue
            last_unique = rgb
            pending.append(rgb)
            frames.append((index, pts, len(pending) - 1))
            if len(pending) == upscaler.max_batch and not submit():
                return
        if frames and not submit():
            return
        run.put(batches, _DONE)
    except BaseException as exc:
        run.fail(exc)
    finally:
        decoder.close()


def _resize_stage(
    run: _Run, batches: queue.Queue[Any], encoded: queue.Queue[Any], size: tuple[int, int], middle: int
) -> None:
    """Take model results in order, resize them to the exact output size and expand repeats."""
    try:
        last_in: np.ndarray | None = None
        last_out: np.ndarray | None = None
        while (batch := run.get(batches)) is not _DONE:
            out = _result(run, batch.future)
            if out is None:
                return
            for index, pts, pos in batch.frames:
                if pos >= 0:
                    last_in, last_out = batch.inputs[pos], resize(out[pos], *size)
                if last_in is None or last_out is None:
                    raise RuntimeError("a repeated frame came before any unique frame")
                if index == middle or run.preview is None:
                    run.preview = (last_in, last_out)
                if not run.put(encoded, (last_out, pts)):
                    return
        run.put(encoded, _DONE)
    except BaseException as exc:
        run.fail(exc)


def _result(run: _Run, future: Future[np.ndarray]) -> np.ndarray | None:
    """The model's answer, or None when the run stops while waiting."""
    while not run.stop.is_set():
        try:
            return future.result(timeout=_POLL_S)
        except TimeoutError:
            continue
    return None


def _encode_stage(run: _Run, encoded: queue.Queue[Any], open_encoder: Callable[[], video.Encoder]) -> None:
    """Encode frames in order (the encoder opens on the first frame, once the colour is known)."""
    complete = False
    encoder: video.Encoder | None = None
    try:
        while (item := run.get(encoded)) is not _DONE:
            encoder = encoder or open_encoder()
            encoder.write(*item)
            run.frames_done += 1
        complete = not run.stop.is_set()
    except BaseException as exc:
        run.fail(exc)
    finally:
        try:
            if encoder is not None:
                encoder.close(flush=complete)
        except BaseException as exc:
            run.fail(exc)
        if not complete:
            run.stop.set()


class _Meter:
    """Progress reports at most every half second, with frames/s over the last few seconds."""

    def __init__(self, on_progress: Callable[[Progress], None] | None) -> None:
        self._on_progress = on_progress
        self._samples: deque[tuple[float, int]] = deque(maxlen=20)
        self._last = 0.0

    def report(self, run: _Run, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._on_progress is None or (not force and now - self._last < _PROGRESS_EVERY_S):
            return
        self._last = now
        done = run.frames_done
        self._samples.append((now, done))
        t0, d0 = self._samples[0]
        fps = (done - d0) / (now - t0) if now > t0 else 0.0
        total = max(run.frames_total, done)
        eta = (total - done) / fps if fps > 0 else None
        self._on_progress(Progress(frames_done=done, frames_total=total, fps=round(fps, 2), eta_s=eta))


def _probe(path: Path, limits: Limits) -> MediaInfo:
    """Probe the input under ``limits``; refusals become the adapter's permanent errors."""
    try:
        return probe(
            path,
            max_width=limits.max_width,
            max_height=limits.max_height,
            max_duration_s=limits.max_duration_s,
            timeout_s=limits.probe_timeout_s,
        )
    except ProbeError as exc:
        error = LimitExceededError if exc.kind == "too_large" else InvalidInputError
        raise error(exc.reason) from exc


probe_input = _probe


def _write_preview(path: Path, rgb: np.ndarray, rotation: int) -> None:
    """Write a JPEG shown upright (stored frames are rotated by the player, a JPEG is not)."""
    upright = np.rot90(rgb, k=-(rotation // 90)) if rotation else rgb
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.jpg")
    if not cv2.imwrite(
        str(temp),
        cv2.cvtColor(np.ascontiguousarray(upright), cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, 90],
    ):
        raise StorageError(f"the preview {path.name} could not be written")
    os.replace(temp, path)


def run(
    input_path: Path,
    output_path: Path,
    options: JobOptions,
    upscaler: Upscaler,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    previews: tuple[Path, Path] | None = None,
    limits: Limits | None = None,
    segment: tuple[int | None, int | None] | None = None,
) -> Result:
    """Upscale ``input_path`` into the MP4 ``output_path`` (via a temporary name, renamed on success).

    ``segment`` = (start_pts, end_pts) upscales only the frames whose pts lie in that half-open range
    (None: from the start / to the end) into a *video-only* MP4 that joins the other segments by stream
    copy (``adapter.assembly``); the audio, subtitles and metadata are then the assembly's job.
    """
    started = time.monotonic()
    limits = limits or Limits()
    stop_requested = should_stop or (lambda: False)
    info = _probe(Path(input_path), limits)
    try:
        width, height = job_output_size(
            options, info.frame_width, info.frame_height, sar=info.sar, rotation=info.rotation,
            box=limits.max_output,
        )
    except SizeRefused as exc:
        raise LimitExceededError(str(exc)) from exc
    stored = (height, width) if info.rotation in (90, 270) else (width, height)
    output_path = Path(output_path)
    tag = uuid.uuid4().hex[:8]
    video_temp = output_path.with_name(f".{output_path.name}.{tag}.video.mp4")
    output_temp = output_path.with_name(f".{output_path.name}.{tag}.partial.mp4")
    decoder = video.Decoder(Path(input_path))
    preset = video.resolve_preset(options.preset, options.encoder, upscaler.device)
    frames_total = info.frames if segment is None else segment_frames(info, *segment)
    state = _Run(frames_total)
    meter = _Meter(on_progress)
    batches: queue.Queue[Any] = queue.Queue(maxsize=upscaler.in_flight + 1)
    encoded: queue.Queue[Any] = queue.Queue(maxsize=4)
    pool = ThreadPoolExecutor(max_workers=upscaler.in_flight, thread_name_prefix="infer")
    threads: list[threading.Thread] = []
    try:

        def open_encoder() -> video.Encoder:
            # The decoder knows the colour once it produced the first frame, before this is called.
            colour = decoder.colour or video.Colour(video.SPC_SMPTE170M, 6, 6, video.RANGE_MPEG)
            return video.Encoder(
                video_temp,
                width=stored[0],
                height=stored[1],
                time_base=decoder.time_base,
                fps=decoder.fps,
                colour=colour,
                encoder=options.encoder,
                crf=options.crf,
                preset=preset,
            )

        threads = [
            threading.Thread(
                target=_decode_stage, args=(state, decoder, upscaler, pool, batches, segment), name="decode"
            ),
            threading.Thread(
                target=_resize_stage, args=(state, batches, encoded, stored, frames_total // 2), name="resize"
            ),
            threading.Thread(target=_encode_stage, args=(state, encoded, open_encoder), name="encode"),
        ]
        for thread in threads:
            thread.start()
        while threads[-1].is_alive():
            threads[-1].join(timeout=_POLL_S)
            if stop_requested():
                state.fail(JobCancelled("cancelled"))
            meter.report(state)
        for thread in threads:
            thread.join()
        if state.error is not None:
            raise state.error
        if state.frames_done == 0:
            raise InvalidInputError("the video has no decodable frames")
        state.frames_total = state.frames_done
        meter.report(state, force=True)
        if segment is not None:
            os.replace(video_temp, output_temp)  # the assembly muxes audio, subtitles and metadata
        else:
            video.mux(
                video_temp,
                Path(input_path),
                output_temp,
                others=decoder.others,
                rotation=info.rotation,
                timeout_s=limits.mux_timeout_s,
                should_stop=stop_requested,
            )
        if previews is not None and state.preview is not None:
            before, after = state.preview
            _write_preview(previews[0], resize(before, *stored), info.rotation)
            _write_preview(previews[1], after, info.rotation)
        os.replace(output_temp, output_path)
    except BaseException:
        state.stop.set()
        for thread in threads:
            thread.join()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        decoder.close()
        for temp in (video_temp, output_temp):
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    return Result(
        frames=state.frames_done,
        width=width,
        height=height,
        seconds=round(time.monotonic() - started, 3),
        inferred=state.inferred,
    )
