"""The fair order of waiting tasks: owners take turns, FIFO within an owner, optional weights.

Pure rules, no I/O. A *turn* is one published task (a whole-video job, a segment or an assembly).
Each owner's memory of turns is the publish times the database keeps (``jobs.published_at``,
``tasks.published_at``), so a restarted backend continues the same rotation.

The rule: among owners with waiting tasks, the one served least recently goes next. With weight ``w``
an owner is "served" as of its ``w``-th most recent turn, so it gets ``w`` turns to everyone else's one.
An owner never served goes first; ties go to the owner whose oldest waiting task is oldest. An
assembly task goes before everything: it finishes a job whose segments already ran; then an owner's quick
test runs («Проверить на 5 секундах») go before the same owner's whole videos.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from backend.jobs import rules as jobs
from backend.jobs.db import Job
from contract.messages import ASSEMBLE, SEGMENT

#: The index of a whole-video job's one task (segments count from 0).
WHOLE = -1


@dataclass(frozen=True)
class Item:
    """One task waiting for its turn (not published yet), with what its run time depends on."""

    owner: str
    job_id: str
    index: int
    created_at: datetime
    model: str = ""
    frames: int = 0
    assembly: bool = False
    #: A quick test run's task: it goes before its owner's other waiting tasks (after assemblies).
    quick: bool = False

    def fifo(self) -> tuple[datetime, str, int]:
        """Place within its owner's line: upload time, then segment index."""
        return (utc(self.created_at), self.job_id, self.index)


def waiting(active: Iterable[Job]) -> list[Item]:
    """The unpublished tasks of active jobs (a job's whole-video message, or its unpublished task rows)."""
    found: list[Item] = []
    for job in active:
        if not jobs.needs_publishing(job):
            continue
        if not job.published and not job.tasks:
            found.append(_item(job, WHOLE, job.frames_total or job.input_frames))
        for task in jobs.unpublished_tasks(job):
            frames = task.frames_total if task.kind == SEGMENT else 0
            found.append(_item(job, task.index, frames, assembly=task.kind == ASSEMBLE))
    return found


def _item(job: Job, index: int, frames: int, *, assembly: bool = False) -> Item:
    return Item(
        owner=job.owner, job_id=job.id, index=index, created_at=utc(job.created_at), model=job.model,
        frames=frames, assembly=assembly, quick=job.excerpt_start is not None,
    )


# An owner's "served at" key: (0, 0) never served, (1, stored time rank), (2, simulated turn number).
_Key = tuple[int, float]


def order(
    items: Sequence[Item],
    served: Mapping[str, Sequence[datetime]],
    weights: Mapping[str, int] | None = None,
) -> list[Item]:
    """Every item in the order the owners' turns come; ``served``: each owner's turn times, newest first."""
    weights = weights or {}
    lines: dict[str, list[Item]] = {}
    for item in sorted(items, key=Item.fifo):
        lines.setdefault(item.owner, []).append(item)
    for line in lines.values():
        # Stable: FIFO kept among assemblies, among quick test runs and among the rest.
        line.sort(key=lambda item: (not item.assembly, not item.quick))
    history = {owner: [(1, _stamp(t)) for t in served.get(owner, ())] for owner in lines}
    result: list[Item] = []
    turn = 0
    while lines:
        owner = min(lines, key=lambda o: _priority(o, lines[o][0], history[o], weights.get(o, 1)))
        result.append(lines[owner].pop(0))
        if not lines[owner]:
            del lines[owner]
        turn += 1
        history[owner].insert(0, (2, float(turn)))
    return result


def utc(value: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite hands back naive datetimes; every stored time is UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stamp(value: datetime) -> float:
    return utc(value).timestamp()


def _priority(
    owner: str, head: Item, history: list[_Key], weight: int
) -> tuple[bool, _Key, tuple[datetime, str, int], str]:
    served: _Key = history[weight - 1] if len(history) >= weight else (0, 0.0)
    return (not head.assembly, served, head.fifo(), owner)
