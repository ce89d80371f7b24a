"""What each shot says: on-screen text (sampled frames, OCR) and the picture (people, objects, setting).

Every description is a ``Pending`` with the window it may start in and where its words came from.
A shot repeats nothing the previous described shot already said: each part (setting, people,
objects) is compared with the last value spoken for it, and a text still on screen across a cut
belongs to the shot where it appeared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from adapter.description.detector import Describer
from adapter.description.ocr import TextLine, TextReader
from adapter.description.onscreen import Appearance, split_subtitles, text_sentence, track
from adapter.description.people import PERSON, face_facts, face_sentence, people, people_sentence, signature
from adapter.description.placement import Pending
from adapter.description.scenes import Scene
from adapter.description.sentences import Detection, group_detections, sentence
from adapter.description.setting import cues, setting_sentence

Lang = Literal["ru", "en"]
Density = Literal["brief", "normal", "detailed"]
#: Frames are compared as grey thumbnails of this size: a 20 px title in 360p is still 5 px high there.
THUMB = (160, 90)
#: A frame is the one before (read once) when under this share of its thumbnail changed by over 24 levels:
#: a new title or subtitle changes far more, compression noise far less.
SAME_FRAME = 0.001
#: The longer side OCR frames are decoded at: 20 px text in 1080p stays ~13 px, still readable.
OCR_SIDE = 1280
#: Decodes the frames shown at the given times of one shot, at most ``side`` px on the longer side.
FramesAt = Callable[[list[float], int], list[np.ndarray]]


@dataclass(frozen=True)
class Plan:
    """How much a density says: OCR sampling step and cap, objects named, shot size, setting, faces."""

    step_s: float
    max_samples: int
    objects: int
    shot_size: bool
    setting: bool
    faces: bool = True


PLANS: dict[Density, Plan] = {
    "brief": Plan(step_s=2.0, max_samples=3, objects=1, shot_size=False, setting=False, faces=False),
    "normal": Plan(step_s=1.0, max_samples=8, objects=2, shot_size=True, setting=True),
    "detailed": Plan(step_s=0.5, max_samples=16, objects=3, shot_size=True, setting=True),
}


def sample_times(scene: Scene, plan: Plan) -> list[float]:
    """Times to read text at: every ``step_s`` from half a step in, evenly thinned to ``max_samples``."""
    span = scene.end - scene.start
    count = max(1, int(span / plan.step_s))
    count = min(count, plan.max_samples)
    return [scene.start + span * (k + 0.5) / count for k in range(count)]


def read_texts(
    scenes: Sequence[Scene], plan: Plan, frames_at: FramesAt, reader: TextReader, report: Callable[[], None]
) -> list[tuple[float, list[TextLine]]]:
    """OCR of every sample of every shot; a frame equal to the one before reuses its reading."""
    samples: list[tuple[float, list[TextLine]]] = []
    previous: tuple[np.ndarray, list[TextLine]] | None = None
    for scene in scenes:
        times = sample_times(scene, plan)
        for time_s, frame in zip(times, frames_at(times, OCR_SIDE), strict=True):
            gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            thumb = cv2.resize(gray, THUMB, interpolation=cv2.INTER_AREA).astype(np.int16)
            if previous is not None and (np.abs(thumb - previous[0]) > 24).mean() < SAME_FRAME:
                lines = previous[1]
            else:
                lines = reader(frame)
            previous = (thumb, lines)
            samples.append((time_s, lines))
        report()
    return samples


def text_pendings(
    scenes: Sequence[Scene],
    samples: Sequence[tuple[float, list[TextLine]]],
    lang: Lang,
    *,
    read_subtitles: bool,
) -> dict[int, list[Pending]]:
    """Per shot index: one description per text appearance, starting no earlier than it appeared."""
    titles, subtitles = split_subtitles(track(samples))
    chosen: list[tuple[Appearance, bool]] = [(a, False) for a in titles]
    if read_subtitles:
        chosen += [(a, True) for a in subtitles]
    first_sample = [next((t for t, _l in samples if s.start <= t < s.end), s.start) for s in scenes]
    found: dict[int, list[Pending]] = {}
    for appearance, subtitle in sorted(chosen, key=lambda item: item[0].first):
        inside = (i for i, s in enumerate(scenes) if s.start <= appearance.first < s.end)
        index = next(inside, len(scenes) - 1)
        scene = scenes[index]
        # Seen in the shot's first sample: on screen from the cut. Else from when it was first seen.
        start = scene.start if appearance.first <= first_sample[index] else appearance.first
        text = text_sentence(appearance.lines, lang, subtitle=subtitle)
        found.setdefault(index, []).append(Pending(Scene(start, scene.end), text, 0.0, frozenset({"text"})))
    return found


class PictureMemory:
    """The last setting, people, faces and objects spoken: a part equal to it is not said again."""

    def __init__(self) -> None:
        self.setting: object = None
        self.people: object = None
        self.faces: object = None
        self.objects: object = None
        self.caption: object = None


def picture_pending(
    scene: Scene, frame: np.ndarray, describer: Describer, lang: Lang, plan: Plan, memory: PictureMemory
) -> Pending | None:
    """One description of the key frame: what changed in setting, people and objects (None: nothing new)."""
    found = describer(frame)
    if isinstance(found, str):  # an operator's captioner speaks for the whole picture
        caption = found.strip()
        if not caption or caption.lower() == memory.caption:
            return None
        memory.caption = caption.lower()
        return Pending(scene, caption, 0.0, frozenset({"objects"}))
    persons = people(found)
    said_people = people_sentence(persons, lang, with_size=plan.shot_size)
    if signature(persons) == memory.people:
        said_people = None
    memory.people = signature(persons) if persons else None
    # Faces follow the people they belong to; facts equal to the last ones spoken are not repeated.
    facts = face_facts(persons) if plan.faces else ()
    face = face_sentence(facts, lang, subject=said_people is None) if facts != memory.faces else None
    memory.faces = facts
    objects = _objects(found, plan.objects)
    said_objects = sentence(objects, lang) if objects else None
    object_signature = frozenset((g.label, g.count) for g in group_detections(objects))
    if object_signature == memory.objects:
        said_objects = None
    memory.objects = object_signature if objects else None
    if said_people is None and face is None and said_objects is None:
        # The setting alone ("Темно." over an animation) is no description: it frames people and things.
        return None
    said_setting = None
    if plan.setting:
        setting = cues(frame)
        said_setting = setting_sentence(setting, lang) if setting != memory.setting else None
        memory.setting = setting
    parts = {"setting": said_setting, "people": said_people, "faces": face, "objects": said_objects}
    whole = _pending(scene, parts)
    # The face is optional detail: without it the rest may still fit a pause the whole does not.
    shorter = _pending(scene, {**parts, "faces": None}) if face is not None else None
    return dataclasses.replace(whole, shorter=shorter if shorter and shorter.text else None)


def _pending(scene: Scene, parts: dict[str, str | None]) -> Pending:
    """The said parts joined in order; faces count as people."""
    sources = frozenset("people" if kind == "faces" else kind for kind, text in parts.items() if text)
    return Pending(scene, " ".join(text for text in parts.values() if text), 0.0, sources)


def _objects(found: Sequence[Detection], limit: int) -> list[Detection]:
    """Detections of the ``limit`` biggest non-person classes (people have their own sentence)."""
    others = [d for d in found if d.label != PERSON]
    labels = {g.label for g in group_detections(others)[:limit]}
    return [d for d in others if d.label in labels]
