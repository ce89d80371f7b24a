"""Queue places: each waiting job's position in the fair order and an estimate of when it starts.

Pure rules over the active jobs (no I/O). The line is what RabbitMQ already holds (published, not yet
started, in publish order) followed by the database's waiting tasks in ``backend.dispatch.fairness`` order.
The
estimate replays that line on the adapters: each one frees up when its running task ends (the
adapter's own ETA, else the frames left at its speed), and every task ahead takes its frames at the
model's measured speed (``store.recent_fps``) plus a fixed start-up cost.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from backend.dispatch import fairness
from backend.dispatch.fairness import WHOLE, Item
from backend.jobs import rules as jobs
from backend.jobs.db import Job
from contract.messages import SEGMENT

#: Seconds a task costs besides its frames (delivery, probing, muxing).
TASK_OVERHEAD_S = 2.0


@dataclass(frozen=True)
class Place:
    """A waiting job's place: 1 = next to start; ``starts_in_s`` None while no speed was measured."""

    position: int
    starts_in_s: int | None


def _ready(active: Sequence[Job]) -> list[Item]:
    """Published tasks no adapter has started yet, in the order RabbitMQ hands them out."""
    found: list[tuple[datetime, Item]] = []
    for job in active:
        if not job.tasks and job.published and job.status == jobs.QUEUED:
            found.append((job.published_at or job.created_at, _item(job, WHOLE, job.frames_total)))
        for task in job.tasks:
            if task.published and task.status == jobs.QUEUED:
                item = _item(job, task.index, task.frames_total if task.kind == SEGMENT else 0)
                found.append((task.published_at or job.created_at, item))
    found.sort(key=lambda pair: (fairness.utc(pair[0]), pair[1].fifo()))
    return [item for _, item in found]


def _item(job: Job, index: int, frames: int) -> Item:
    return Item(job.owner, job.id, index, fairness.utc(job.created_at), job.model, frames or job.input_frames)


def _running_s(active: Sequence[Job], speed: Callable[[str], float | None]) -> list[float | None]:
    """Seconds left of every task an adapter runs now (None: unknown)."""
    left: list[float | None] = []
    for job in active:
        if not job.tasks and job.status == jobs.RUNNING:
            rest = max(job.frames_total - job.frames_done, 0)
            eta = job.eta_s if job.eta_s is not None else _seconds(rest, job.fps or speed(job.model))
            left.append(eta)
        for task in job.tasks:
            if task.status == jobs.RUNNING:
                rest = max(task.frames_total - task.frames_done, 0)
                left.append(_seconds(rest, task.fps or speed(job.model)))
    return left


def _seconds(frames: int, fps: float | None) -> float | None:
    return frames / fps if fps else None


def line(
    active: Sequence[Job],
    served: Mapping[str, Sequence[datetime]],
    weights: Mapping[str, int],
    ready: int | None = None,
) -> tuple[list[Item], list[Item]]:
    """(tasks adapters already took, tasks not started yet in the order adapters will take them).

    ``ready``: the messages RabbitMQ still holds, as last seen; the published tasks before those were
    delivered to an adapter that has not reported yet. None: take every published task as ready.
    """
    published = _ready(active)
    taken = len(published) - ready if ready is not None and ready < len(published) else 0
    return published[:taken], published[taken:] + fairness.order(fairness.waiting(active), served, weights)


def places(
    active: Sequence[Job],
    served: Mapping[str, Sequence[datetime]],
    weights: Mapping[str, int],
    *,
    adapters: int,
    fps: Mapping[str, float],
    ready: int | None = None,
) -> dict[str, Place]:
    """The place of every queued job, by id (``ready``: the messages RabbitMQ holds, as in ``line``)."""
    speed = _speeds(fps)
    taken, ahead = line(active, served, weights, ready)
    running = _running_s(active, speed) + [_task_s(item, speed) for item in taken]
    known = speed("") is not None and None not in running
    free = sorted(s or 0.0 for s in running)
    free += [0.0] * (max(1, adapters) - len(free))
    heapq.heapify(free)
    waiting = {job.id for job in active if job.status == jobs.QUEUED}
    found: dict[str, Place] = {}
    for position, item in enumerate(ahead, start=1):
        start = heapq.heappop(free)
        if item.job_id in waiting and item.job_id not in found:
            found[item.job_id] = Place(position, round(start) if known else None)
        heapq.heappush(free, start + (_task_s(item, speed) or 0.0))
    return found


def _task_s(item: Item, speed: Callable[[str], float | None]) -> float | None:
    """Seconds a task takes from its start: its frames at its model's speed, plus the start-up cost."""
    run = _seconds(item.frames, speed(item.model))
    return None if run is None else run + TASK_OVERHEAD_S


def _speeds(fps: Mapping[str, float]) -> Callable[[str], float | None]:
    """Measured speed of a model; a model never measured gets the mean of the others (None: none known)."""
    known = {model: value for model, value in fps.items() if value > 0}
    mean = sum(known.values()) / len(known) if known else None
    return lambda model: known.get(model, mean) if mean is not None else None
