"""The stage threads of one upscaling run: decode → batch → infer (several in flight) → resize → encode.

Stages are threads joined by bounded queues, so memory does not grow with video length and no
frame touches the disk. ``None`` on a queue means "no more"; the first failure stops every stage.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from adapter.errors import InferenceStuckError, InvalidInputError, JobCancelled
from adapter.inference.base import Upscaler
from adapter.inference.watchdog import ModelPool
from adapter.regions.canvas import Canvas, Pending
from adapter.regions.canvas import submit as submit_crops
from adapter.regions.plan import Crop
from adapter.regions.planner import Planner
from adapter.restoration.degradation import LOW_STRENGTH, Degradation, estimate
from adapter.restoration.strength import blend
from adapter.video import decode as video
from adapter.video.depth import Deep, narrow, widen
from adapter.video.encoder import Encoder
from adapter.video.stages import OnProgress, Progress, Segment, ShouldStop
from contract.catalogue import reason

#: Largest mean difference (0..255) of any 8×8 block for two frames to count as the same picture.
STATIC_THRESHOLD = 1.5
_POLL_S = 0.2
_PROGRESS_EVERY_S = 0.5

T = TypeVar("T")
#: An RGB frame (H×W×3) or a batch of them (N×H×W×3), uint8.
Image = npt.NDArray[np.uint8]
Frame = tuple[Image | Deep, int]  # (RGB frame, 8 or 16 bits, pts)
#: (frame index, pts, position in the batch's inputs or -1 for a repeat, the 16-bit picture if deep).
Slot = tuple[int, int, int, Deep | None]


def resize(frame: Image, width: int, height: int) -> Image:
    """Resize to exactly width×height: area averaging when shrinking, Lanczos when growing."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    method = cv2.INTER_AREA if width <= w and height <= h else cv2.INTER_LANCZOS4
    return np.asarray(cv2.resize(frame, (width, height), interpolation=method), dtype=np.uint8)


def same_picture(a: Image, b: Image, threshold: float = STATIC_THRESHOLD) -> bool:
    """Whether two frames differ nowhere by more than ``threshold`` on average over an 8×8 block."""
    h, w = a.shape[:2]
    diff = cv2.absdiff(a, b)
    blocks = cv2.resize(diff, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    return float(blocks.max()) <= threshold


@dataclass
class _Batch:
    """Frames sent to the model in one call, and the decoded frames they stand for, in order."""

    future: Future[Image]
    inputs: Image
    # One slot per decoded frame; position -1 repeats the latest unique frame.
    frames: list[Slot] = field(default_factory=list)
    #: Region inference: this one frame's crops, pasted into the canvas instead of a full answer.
    regions: Pending | None = None


class Meter:
    """Progress reports at most every half second, with frames/s over the last few seconds."""

    def __init__(self, on_progress: OnProgress | None) -> None:
        self._on_progress = on_progress
        self._samples: deque[tuple[float, int]] = deque(maxlen=20)
        self._last = 0.0

    def report(self, done: int, total: int, *, force: bool = False, share: float | None = None) -> None:
        """Report ``done`` of ``total`` frames unless the last report is too recent."""
        now = time.monotonic()
        if self._on_progress is None or (not force and now - self._last < _PROGRESS_EVERY_S):
            return
        self._last = now
        self._samples.append((now, done))
        t0, d0 = self._samples[0]
        fps = (done - d0) / (now - t0) if now > t0 else 0.0
        total = max(total, done)
        eta = (total - done) / fps if fps > 0 else None
        progress = Progress(frames_done=done, frames_total=total, fps=round(fps, 2), eta_s=eta, share=share)
        self._on_progress(progress)


def _fixed(seconds: float) -> Callable[[], float]:
    """A deadline that never changes."""
    return lambda: seconds


class Flow:
    """One run's stage threads, their queues and the model's thread pool; ``run`` drives them to the end."""

    def __init__(
        self,
        decoder: video.Pictures,
        upscaler: Upscaler,
        open_encoder: Callable[[], Encoder],
        *,
        size: tuple[int, int],
        frames_total: int,
        segment: Segment | None,
        answer_timeout_s: float | Callable[[], float] = 600.0,
        regions: Planner | None = None,
        strength: float | str = 1.0,
        bits_per_pixel: float | None = None,
        clean_strength: float = LOW_STRENGTH,
    ) -> None:
        self._decoder, self._upscaler, self._open_encoder = decoder, upscaler, open_encoder
        #: Restoration strength (adapter.restoration.strength); "auto" is resolved on the first batch.
        self.strength, self._bits_per_pixel, self._clean = strength, bits_per_pixel, clean_strength
        self.degradation: Degradation | None = None
        self._size, self._segment = size, segment
        #: Longest wait for one batch's answer once it is next in line (its model calls included).
        self._answer_timeout_s = answer_timeout_s if callable(answer_timeout_s) else _fixed(answer_timeout_s)
        self._middle = frames_total // 2
        self._batches: queue.Queue[_Batch | None] = queue.Queue(maxsize=upscaler.in_flight + 1)
        self._encoded: queue.Queue[Frame | None] = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self.frames_total = frames_total
        self.frames_done = 0
        self.inferred = 0
        #: (model input, resized output) of the middle frame, for the before/after previews.
        self.preview: tuple[Image, Image] | None = None
        # Region inference (adapter/regions): the planner runs in the decode stage, the canvas in resize.
        self._planner = regions
        self._canvas = Canvas(upscaler.scale) if regions is not None else None
        self._decoded = 0
        #: Frames' worth of pixels sent to the model (a region frame counts its share).
        self.equivalents = 0.0

    @property
    def share(self) -> float:
        """Share of the decoded frames' pixels that were sent to the model."""
        return round(self.equivalents / self._decoded, 4) if self._decoded else 1.0

    def run(self, should_stop: ShouldStop, meter: Meter) -> None:
        """Run every stage to the end; raise the first failure, or JobCancelled once ``should_stop``."""
        pool = ModelPool(self._upscaler, self._upscaler.in_flight)
        threads = [
            threading.Thread(target=self._decode, args=(pool,), name="decode"),
            threading.Thread(target=self._resize, name="resize"),
            threading.Thread(target=self._encode, name="encode"),
        ]
        try:
            for thread in threads:
                thread.start()
            while threads[-1].is_alive():
                threads[-1].join(timeout=_POLL_S)
                if should_stop():
                    self._fail(JobCancelled("cancelled"))
                meter.report(self.frames_done, self.frames_total, share=self.share)
        finally:
            self._stop.set()  # no-op after a clean end; otherwise every stage winds down
            for thread in threads:
                thread.join()
            pool.shutdown()
        if self.error is not None:
            raise self.error
        if self.frames_done == 0:
            raise InvalidInputError(reason("job.no_frames"))
        self.frames_total = self.frames_done
        meter.report(self.frames_done, self.frames_total, force=True, share=self.share)

    # ---- plumbing shared by the stages -------------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self._stop.set()

    def _put(self, q: queue.Queue[T], item: T) -> bool:
        while not self._stop.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue[T | None]) -> T | None:
        while not self._stop.is_set():
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return None

    def _answer(self, future: Future[Image]) -> Image | None:
        """The model's answer, or None when the run stops while waiting; stuck past the deadline, an error.

        Batches are answered in order and the pool takes them first in, first out, so the batch waited
        for is already running or next to run: its own calls are all the deadline has to cover.
        """
        deadline = time.monotonic() + self._answer_timeout_s()
        while not self._stop.is_set():
            try:
                return future.result(timeout=_POLL_S)
            except TimeoutError:
                if time.monotonic() > deadline:
                    future.cancel()
                    raise InferenceStuckError(reason("job.stuck")) from None
        return None

    # ---- the stages --------------------------------------------------------------------------------

    def _submit(self, pool: ModelPool, pending: list[Image], frames: list[Slot]) -> bool:
        """Send the pending unique frames to the model (several batches run at once) and queue the batch."""
        future: Future[Image]
        if pending:
            inputs = np.stack(pending)
            future = pool.submit(inputs)
            self.inferred += len(pending)
            self.equivalents += len(pending)
        else:  # only repeats of an earlier frame: nothing to infer
            inputs = np.empty((0, 1, 1, 3), np.uint8)
            future = Future()
            future.set_result(inputs)
        batch = _Batch(future, inputs, list(frames))
        pending.clear()
        frames.clear()
        return self._put(self._batches, batch)

    def _bounds(self) -> tuple[int | None, int | None]:
        """The pts range to decode: the segment's, or the whole stream."""
        if self._segment is None:
            return None, None
        return self._segment.start_pts, self._segment.end_pts

    def _decode(self, pool: ModelPool) -> None:
        """Decode, skip repeated pictures, group unique frames into batches and submit them to the model."""
        try:
            pending: list[Image] = []
            frames: list[Slot] = []
            last_unique: Image | None = None
            for index, (picture, pts) in enumerate(self._decoder.frames(*self._bounds())):
                if self._stop.is_set():
                    return
                self._decoded += 1
                # A deep (16-bit) picture: the model gets its 8-bit rounding, the resize stage the rest.
                base: Deep | None = picture if picture.dtype == np.uint16 else None
                rgb: Image = narrow(picture) if base is not None else picture
                if last_unique is not None and same_picture(rgb, last_unique):
                    frames.append((index, pts, -1, base))
                    continue
                last_unique = rgb
                if self._planner is not None:
                    work = self._planner.plan(rgb, key=self._decoder.key)
                    if not work.full:
                        slot: Slot = (index, pts, 0, base)
                        if not self._submit_regions(pool, pending, frames, rgb, work.crops, slot):
                            return
                        self.equivalents += work.share
                        continue
                pending.append(rgb)
                frames.append((index, pts, len(pending) - 1, base))
                if len(pending) == self._upscaler.max_batch and not self._submit(pool, pending, frames):
                    return
            if frames and not self._submit(pool, pending, frames):
                return
            self._put(self._batches, None)
        except BaseException as exc:
            self._fail(exc)
        finally:
            self._decoder.close()

    def _submit_regions(
        self,
        pool: ModelPool,
        pending: list[Image],
        frames: list[Slot],
        rgb: Image,
        crops: tuple[Crop, ...],
        slot: Slot,
    ) -> bool:
        """Queue one frame's crops after the frames before it (region inference)."""
        if (pending or frames) and not self._submit(pool, pending, frames):
            return False
        regions = submit_crops(rgb, crops, pool.submit, self._upscaler.max_batch)
        self.inferred += 1 if crops else 0
        done: Future[Image] = Future()
        done.set_result(np.empty((0, 1, 1, 3), np.uint8))
        return self._put(self._batches, _Batch(done, rgb[None], [slot], regions))

    def _resize(self) -> None:
        """Take model results in order, resize them to the exact output size and expand repeats."""
        try:
            last_in: Image | None = None
            last_out: Image | None = None
            while (batch := self._get(self._batches)) is not None:
                if self._canvas is None:
                    out = self._answer(batch.future)
                else:  # region inference: the canvas follows every answer, or the crops are pasted in
                    out = self._canvas.output(batch.regions, batch.future, self._answer)
                if out is None:
                    return
                for index, pts, pos, base in batch.frames:
                    if pos >= 0:
                        last_in, last_out = batch.inputs[pos], self._restored(batch.inputs, pos, out[pos])
                    if last_in is None or last_out is None:
                        raise RuntimeError("a repeated frame came before any unique frame")
                    if index == self._middle or self.preview is None:
                        self.preview = (last_in, last_out)
                    picture = last_out if base is None else widen(base, last_in, last_out, self._size)
                    if not self._put(self._encoded, (picture, pts)):
                        return
            if not self._stop.is_set():
                self._put(self._encoded, None)
        except BaseException as exc:
            self._fail(exc)

    def _restored(self, inputs: Image, pos: int, out: Image) -> Image:
        """The model's frame at the output size, blended with a plain resize by the job's strength."""
        if self.strength == "auto":
            # Once per job, on the first batch: cheap, and one strength keeps the look steady.
            self.degradation = estimate(list(inputs), self._bits_per_pixel, self._clean)
            self.strength = self.degradation.strength
        return blend(resize(out, *self._size), inputs[pos], float(self.strength))

    def _encode(self) -> None:
        """Encode frames in order (the encoder opens on the first frame, once the colour is known)."""
        complete = False
        encoder: Encoder | None = None
        try:
            while (item := self._get(self._encoded)) is not None:
                encoder = encoder or self._open_encoder()
                encoder.write(*item)
                self.frames_done += 1
            complete = not self._stop.is_set()
        except BaseException as exc:
            self._fail(exc)
        finally:
            try:
                if encoder is not None:
                    encoder.close(flush=complete)
            except BaseException as exc:
                self._fail(exc)
            if not complete:
                self._stop.set()
