"""Short grammatical English and Russian sentences from detections: counts with plural forms and positions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from adapter.description.vocabulary import COCO, Noun

Lang = Literal["ru", "en"]
Position = Literal["left", "centre", "right"]

_RU_WORDS = {
    1: "один",
    2: "два",
    3: "три",
    4: "четыре",
    5: "пять",
    6: "шесть",
    7: "семь",
    8: "восемь",
    9: "девять",
    10: "десять",
}
_RU_FEMININE = {1: "одна", 2: "две"}
_RU_COLLECTIVE = {1: "одни", 2: "двое", 3: "трое", 4: "четверо"}  # for plural-only nouns: двое часов
_EN_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
}
_RU_PLACE = {"left": "слева", "centre": "в центре", "right": "справа"}
_EN_PLACE = {"left": "on the left", "centre": "in the centre", "right": "on the right"}
_AND = {"en": " and ", "ru": " и "}
#: At most this many kinds of object are named per scene: a description must fit a pause.
MAX_ITEMS = 3


@dataclass(frozen=True)
class Detection:
    """One detected object: COCO class index, confidence, box ``(x1, y1, x2, y2)`` in 0..1 of the frame."""

    label: int
    score: float
    box: tuple[float, float, float, float]
    #: A person's face (facing the camera, expression), attached by ``faces.FacingDescriber``.
    face: Face | None = None

    @property
    def centre_x(self) -> float:
        """Horizontal centre of the box, 0 (left edge) .. 1 (right edge)."""
        return (self.box[0] + self.box[2]) / 2


@dataclass(frozen=True)
class Group:
    """All detections of one class in a frame, with where they are (None when spread across the frame)."""

    label: int
    count: int
    position: Position | None
    area: float


def russian_form(count: int) -> Literal["one", "few", "many"]:
    """Russian plural category of ``count``: 1, 21 → one; 2-4, 22 → few; 5-20, 11-14, 25 → many."""
    tens, units = count % 100, count % 10
    if units == 1 and tens != 11:
        return "one"
    if 2 <= units <= 4 and not 12 <= tens <= 14:
        return "few"
    return "many"


def count_phrase(count: int, label: int, lang: Lang) -> str:
    """``count`` objects of class ``label`` with a numeral: "two people", "пять машин", "одна кошка"."""
    if count < 1:
        raise ValueError("count must be positive")
    noun = COCO[label]
    if lang == "en":
        number = _EN_WORDS.get(count, str(count))
        return f"{number} {noun.en_one if count == 1 else noun.en_many}"
    return f"{_ru_numeral(count, noun)} {_ru_noun(count, noun)}"


def _ru_noun(count: int, noun: Noun) -> str:
    form = russian_form(count)
    if noun.gender == "pl":  # двое часов, пять часов; only 1 takes the nominative
        return noun.ru_one if form == "one" else noun.ru_many
    return {"one": noun.ru_one, "few": noun.ru_few, "many": noun.ru_many}[form]


def _ru_numeral(count: int, noun: Noun) -> str:
    if noun.gender == "pl" and count in _RU_COLLECTIVE:
        return _RU_COLLECTIVE[count]
    if noun.gender == "f" and count in _RU_FEMININE:
        return _RU_FEMININE[count]
    if noun.gender == "n" and count == 1:
        return "одно"
    return _RU_WORDS.get(count, str(count))


def _noun_phrase(group: Group, lang: Lang) -> str:
    noun = COCO[group.label]
    if lang == "en":
        if group.count == 1:
            article = "an" if noun.en_one[0].lower() in "aeiou" else "a"
            return f"{article} {noun.en_one}"
        return count_phrase(group.count, group.label, lang)
    # A single object needs no numeral in Russian: "слева человек".
    return noun.ru_one if group.count == 1 else count_phrase(group.count, group.label, lang)


def _clause(position: Position | None, phrases: list[str], lang: Lang) -> str:
    """Objects that share a place: "a table and a cup in the centre" / "в центре стол и чашка"."""
    joined = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + _AND[lang] + phrases[-1]
    if position is None:
        return joined
    return f"{joined} {_EN_PLACE[position]}" if lang == "en" else f"{_RU_PLACE[position]} {joined}"


def _position(centres: Sequence[float]) -> Position | None:
    def place(x: float) -> Position:
        return "left" if x < 0.38 else "right" if x > 0.62 else "centre"

    places = {place(x) for x in centres}
    return places.pop() if len(places) == 1 else None


def group_detections(detections: Sequence[Detection]) -> list[Group]:
    """Group by class, biggest total area first (what a sighted viewer notices first)."""
    by_label: dict[int, list[Detection]] = {}
    for detection in detections:
        by_label.setdefault(detection.label, []).append(detection)
    groups = []
    for label, members in by_label.items():
        area = sum((d.box[2] - d.box[0]) * (d.box[3] - d.box[1]) for d in members)
        groups.append(Group(label, len(members), _position([d.centre_x for d in members]), area))
    return sorted(groups, key=lambda g: -g.area)[:MAX_ITEMS]


def sentence(detections: Sequence[Detection], lang: Lang) -> str | None:
    """One sentence naming what is in the frame, or None when nothing was detected."""
    clauses: dict[Position | None, list[str]] = {}
    for group in group_detections(detections):
        clauses.setdefault(group.position, []).append(_noun_phrase(group, lang))
    if not clauses:
        return None
    text = ", ".join(_clause(position, phrases, lang) for position, phrases in clauses.items())
    return text[0].upper() + text[1:] + "."


def signature(detections: Sequence[Detection]) -> frozenset[tuple[int, int]]:
    """What a scene shows as (class, count) pairs: equal signatures add nothing new for a listener."""
    return frozenset((g.label, g.count) for g in group_detections(detections))


Expression = Literal["angry", "disgust", "fear", "happy", "sad", "surprise"]


@dataclass(frozen=True)
class Face:
    """A face found in a person's head region: its box in the frame, and what can be said of it."""

    box: tuple[float, float, float, float]
    score: float
    frontal: bool
    expression: Expression | None
