"""The upscaled canvas: the last output, with each frame's crops sent to the model and pasted in.

Crops of one frame are grouped by window size, so every model call (a Triton request included) carries
one bucket size, at most ``max_batch`` crops. Pasting copies the canvas first: the previous output may
still be on its way to the encoder, and it must not change under it. So the canvas holds one frame and
its memory does not grow with the video's length.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from adapter.regions.changes import Image
from adapter.regions.plan import Crop
from adapter.regions.planner import Planner

#: Queues one model call and returns its answer's future (``ModelPool.submit``).
Submit = Callable[[Image], "Future[Image]"]
#: Waits for a model answer; None when the run stops meanwhile (``Flow._answer``).
Answer = Callable[["Future[Image]"], Image | None]


@dataclass(frozen=True)
class Pending:
    """One frame's crops on their way through the model: (crop indices, the call's future) per call."""

    crops: tuple[Crop, ...]
    calls: tuple[tuple[tuple[int, ...], Future[Image]], ...]


def submit(frame: Image, crops: tuple[Crop, ...], call: Submit, max_batch: int) -> Pending:
    """Send ``frame``'s crops to the model, one bucket size per call."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, crop in enumerate(crops):
        groups.setdefault((crop.window.h, crop.window.w), []).append(i)
    calls = []
    for members in groups.values():
        for start in range(0, len(members), max_batch):
            chunk = tuple(members[start : start + max_batch])
            windows = [crops[i].window for i in chunk]
            batch = np.stack([frame[w.y : w.y + w.h, w.x : w.x + w.w] for w in windows])
            calls.append((chunk, call(batch)))
    return Pending(crops, tuple(calls))


class Canvas:
    """The last upscaled frame at the model's scale."""

    def __init__(self, scale: int) -> None:
        self.scale = scale
        self.image: Image | None = None

    def replace(self, output: Image) -> None:
        """A full frame was inferred: it is the canvas now (it is never written to)."""
        self.image = output

    def output(self, regions: Pending | None, future: Future[Image], answer: Answer) -> Image | None:
        """A batch's frames: the answer (its last becomes the canvas), or the canvas with the crops pasted."""
        if regions is not None:
            canvas = self.paste(regions, answer)
            return None if canvas is None else canvas[None]
        out = answer(future)
        if out is not None and len(out):
            self.replace(out[-1])  # the batch's last unique frame: the next crops' base
        return out

    def paste(self, pending: Pending, answer: Answer) -> Image | None:
        """A new canvas: the last one with the crops' pasted parts; None when the run stops meanwhile."""
        if self.image is None:
            raise RuntimeError("regions before any full frame")
        if not pending.calls:  # nothing changed beyond the thresholds: the canvas as it is
            return self.image
        canvas = self.image.copy()
        s = self.scale
        for members, future in pending.calls:
            out = answer(future)
            if out is None:
                return None
            for k, i in enumerate(members):
                w, p = pending.crops[i].window, pending.crops[i].paste
                dy, dx = (p.y - w.y) * s, (p.x - w.x) * s
                canvas[p.y * s : (p.y + p.h) * s, p.x * s : (p.x + p.w) * s] = out[
                    k, dy : dy + p.h * s, dx : dx + p.w * s
                ]
        self.image = canvas
        return canvas


class Model(Protocol):
    """What a frame needs from an upscaler (``adapter.inference.upscalers.Upscaler``)."""

    max_batch: int

    def infer(self, batch: Image) -> Image: ...


def upscale(planner: Planner, canvas: Canvas, model: Model, frame: Image, *, key: bool = False) -> Image:
    """One frame through planner, model and canvas in this thread (tools, benchmarks and tests)."""
    work = planner.plan(frame, key=key)
    if work.full:
        canvas.replace(model.infer(frame[None])[0])
        assert canvas.image is not None
        return canvas.image

    def call(batch: Image) -> Future[Image]:
        done: Future[Image] = Future()
        done.set_result(model.infer(batch))
        return done

    pasted = canvas.paste(submit(frame, work.crops, call, model.max_batch), lambda future: future.result())
    assert pasted is not None
    return pasted
