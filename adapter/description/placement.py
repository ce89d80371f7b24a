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
    #: The same description without its optional detail (faces): spoken when the whole does not fit
    #: a pause of the scene, rather than over the dialogue. Its own scene is ignored.
    shorter: Pending | None = None


def _pause_start(
    duration_s: float, earliest: float, end: float, silences: Sequence[tuple[float, float]]
) -> float | None:
    """The earliest start in a pause, not before ``earliest`` nor too near ``end``, that holds it whole."""
    for pause_start, pause_end in silences:
        candidate = max(pause_start, earliest)
        if candidate >= end - GAP_S:
            return None
        if pause_end - candidate >= duration_s + GAP_S:
            return candidate
    return None


def place(pending: Sequence[Pending], silences: Sequence[tuple[float, float]]) -> list[Cue]:
    """Cues in scene order that never overlap and each start inside its scene.

    A cue goes into the earliest pause inside its scene that holds it whole, else its shorter form
    into one; when none does it starts as early as it may (in its shorter form: less is spoken over
    the dialogue) and the original audio is ducked under it. A scene whose whole span is taken by the
    previous description is skipped (its news would arrive too late).
    """
    cues: list[Cue] = []
    free_from = 0.0
    for item in sorted(pending, key=lambda p: p.scene.start):
        earliest = max(item.scene.start, free_from)
        if earliest >= item.scene.end - GAP_S:
            continue
        forms = [item] if item.shorter is None else [item, item.shorter]
        start, ducked, chosen = earliest, True, forms[-1]
        for form in forms:
            found = _pause_start(form.duration_s, earliest, item.scene.end, silences)
            if found is not None:
                start, ducked, chosen = found, False, form
                break
        cues.append(Cue(start, start + chosen.duration_s, chosen.text, ducked, chosen.sources))
        free_from = start + chosen.duration_s + GAP_S
    return cues
