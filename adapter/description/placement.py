"""Where each description is spoken: in a dialogue pause of its scene, else over ducked original audio."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapter.description.scenes import Scene

#: Breathing room between two descriptions and after the end of a pause.
GAP_S = 0.15


@dataclass(frozen=True)
class Cue:
    """A description as spoken: ``start``/``end`` seconds, the text, and whether it overlaps dialogue."""

    start: float
    end: float
    text: str
    ducked: bool
    #: Where the words came from: "text" (on screen), "people", "objects", "setting".
    sources: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Pending:
    """A description waiting for a slot: its scene, text and spoken length."""

    scene: Scene
    text: str
    duration_s: float
    sources: frozenset[str] = frozenset()


def place(pending: Sequence[Pending], silences: Sequence[tuple[float, float]]) -> list[Cue]:
    """Cues in scene order that never overlap and each start inside its scene.

    A cue goes into the earliest pause inside its scene that holds it whole; when none does it
    starts as early as it may and the original audio is ducked under it. A scene whose whole
    span is taken by the previous description is skipped (its news would arrive too late).
    """
    cues: list[Cue] = []
    free_from = 0.0
    for item in sorted(pending, key=lambda p: p.scene.start):
        earliest = max(item.scene.start, free_from)
        if earliest >= item.scene.end - GAP_S:
            continue
        start, ducked = earliest, True
        for pause_start, pause_end in silences:
            candidate = max(pause_start, earliest)
            if candidate >= item.scene.end - GAP_S:
                break
            if pause_end - candidate >= item.duration_s + GAP_S:
                start, ducked = candidate, False
                break
        cues.append(Cue(start, start + item.duration_s, item.text, ducked, item.sources))
        free_from = start + item.duration_s + GAP_S
    return cues
