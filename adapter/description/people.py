"""People in a frame (from the detector's ``person`` boxes): how many, where, how close; in both languages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from adapter.description.sentences import Detection, count_phrase

Lang = Literal["ru", "en"]
Position = Literal["left", "centre", "right"]
Size = Literal["close", "medium", "wide"]
PERSON = 0
#: A person box needs at least this score to be counted (pasted and partly hidden people score ~0.4).
PERSON_SCORE = 0.35
#: A box lying this much inside a more confident person box is a part of that person (a torso, a head).
INSIDE = 0.6
#: Shot size from the tallest person's share of the frame height.
CLOSE_UP = 0.75
MEDIUM = 0.4
_ORDER: tuple[Position, ...] = ("left", "centre", "right")
_RU_PLACE = {"left": "слева", "centre": "в центре", "right": "справа"}
_EN_PLACE = {"left": "on the left", "centre": "in the centre", "right": "on the right"}
_RU_SIZE = {"close": "крупный план", "medium": "средний план", "wide": "общий план"}
_EN_SIZE = {"close": "close-up", "medium": "medium shot", "wide": "wide shot"}
#: "двое слева": the collective numerals Russian uses when counting people without a noun.
_RU_PEOPLE = {1: "один", 2: "двое", 3: "трое", 4: "четверо", 5: "пятеро", 6: "шестеро"}
_EN_NUMBER = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _inside(small: Detection, big: Detection) -> float:
    """Share of ``small``'s box that lies inside ``big``'s."""
    a, b = small.box, big.box
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1])
    return inter / area if area > 0 else 1.0


def people(detections: Sequence[Detection]) -> list[Detection]:
    """The person boxes confident enough to count, parts of an already counted person dropped."""
    kept: list[Detection] = []
    candidates = [d for d in detections if d.label == PERSON and d.score >= PERSON_SCORE]
    for detection in sorted(candidates, key=lambda d: -d.score):
        if all(_inside(detection, k) < INSIDE and _inside(k, detection) < INSIDE for k in kept):
            kept.append(detection)
    return kept


def position(detection: Detection) -> Position:
    """Left, centre or right third-ish of the frame, by the box centre."""
    x = detection.centre_x
    return "left" if x < 0.38 else "right" if x > 0.62 else "centre"


def shot_size(found: Sequence[Detection]) -> Size | None:
    """Close-up, medium or wide by the tallest person; None without people."""
    if not found:
        return None
    tallest = max(d.box[3] - d.box[1] for d in found)
    return "close" if tallest >= CLOSE_UP else "medium" if tallest >= MEDIUM else "wide"


def signature(found: Sequence[Detection]) -> tuple[int, tuple[Position, ...]]:
    """How many people and where: a shot with the same signature adds nothing new."""
    return len(found), tuple(sorted((position(d) for d in found), key=_ORDER.index))


def _places(found: Sequence[Detection], lang: Lang) -> list[str]:
    counts = {place: 0 for place in _ORDER}
    for detection in found:
        counts[position(detection)] += 1
    names = _RU_PLACE if lang == "ru" else _EN_PLACE
    shown = [(names[p], n) for p, n in counts.items() if n]
    if all(n == 1 for _name, n in shown):
        return [name for name, _n in shown]
    numbers = _RU_PEOPLE if lang == "ru" else _EN_NUMBER
    return [f"{numbers.get(n, str(n))} {name}" for name, n in shown]


def _join(parts: list[str], lang: Lang) -> str:
    conjunction = " и " if lang == "ru" else " and "
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + conjunction + parts[-1]


def people_sentence(detections: Sequence[Detection], lang: Lang, *, with_size: bool = True) -> str | None:
    """ "Слева человек, крупный план." / "Three people: on the left, in the centre and on the right."."""
    found = people(detections)
    if not found:
        return None
    size = shot_size(found) if with_size else None
    places = _places(found, lang)
    if len(found) == 1:
        text = f"{places[0]} человек" if lang == "ru" else f"a person {places[0]}"
    elif len(places) == 1:  # everyone in one place: "Слева два человека."
        text = f"{places[0].split(' ', 1)[-1]} {count_phrase(len(found), PERSON, lang)}"
        if lang == "en":
            text = f"{count_phrase(len(found), PERSON, lang)} {places[0].split(' ', 1)[-1]}"
    else:
        text = f"{count_phrase(len(found), PERSON, lang)}: {_join(places, lang)}"
    if size is not None:
        text += f", {(_RU_SIZE if lang == 'ru' else _EN_SIZE)[size]}"
    return text[0].upper() + text[1:] + "."


#: Expressions as a verb (Russian present tense: no gender to agree) and as an English participle.
_RU_EXPRESSION = {
    "happy": "улыбается",
    "sad": "грустит",
    "angry": "сердится",
    "surprise": "удивляется",
    "fear": "боится",
    "disgust": "морщится",
}
_EN_EXPRESSION = {
    "happy": "smiling",
    "sad": "looking sad",
    "angry": "looking angry",
    "surprise": "looking surprised",
    "fear": "looking afraid",
    "disgust": "looking disgusted",
}
FaceFacts = tuple[tuple[Position | None, bool, str | None], ...]


def face_facts(found: Sequence[Detection]) -> FaceFacts:
    """(place, facing the camera, expression) of each person whose face says something sure.

    The place is None for a lone person; with several people only those alone in their place are
    described (a face could not be told apart from its neighbour's). Only a frontal face is described:
    the expression model learnt frontal faces (FER-2013) and reads a profile's as anger or fear. An
    expression is said only at close-up or medium size: a far face is too small to read.
    """
    places = [position(d) for d in found]
    facts = []
    for detection, place in zip(found, places, strict=True):
        face = detection.face
        if face is None or not face.frontal or (len(found) > 1 and places.count(place) > 1):
            continue
        near = detection.box[3] - detection.box[1] >= MEDIUM
        facts.append((place if len(found) > 1 else None, True, face.expression if near else None))
    return tuple(sorted(facts, key=lambda f: _ORDER.index(f[0]) if f[0] else 0))


def _predicate(facing: bool, expression: str | None, lang: Lang, *, finite: bool) -> str:
    words = []
    if facing:
        words.append("смотрит в камеру" if lang == "ru" else "facing the camera")
    if expression is not None:
        words.append((_RU_EXPRESSION if lang == "ru" else _EN_EXPRESSION)[expression])
    text = _join(words, lang)
    return f"is {text}" if lang == "en" and finite else text


def face_sentence(facts: FaceFacts, lang: Lang, *, subject: bool = False) -> str | None:
    """ "Смотрит в камеру и улыбается." / "The person on the left is facing the camera."; None: nothing sure.

    A lone person's facts follow the people sentence without a subject unless ``subject`` (the people
    sentence was not said again): «Человек улыбается.» / "The person is smiling.".
    """
    clauses = []
    for place, facing, expression in facts:
        if place is None and not subject:
            clauses.append(_predicate(facing, expression, lang, finite=False))
            continue
        where = "" if place is None else " " + (_RU_PLACE if lang == "ru" else _EN_PLACE)[place]
        who = f"человек{where}" if lang == "ru" else f"the person{where}"
        clauses.append(f"{who} {_predicate(facing, expression, lang, finite=True)}")
    if not clauses:
        return None
    text = (", " if lang == "ru" else "; ").join(clauses)
    return text[0].upper() + text[1:] + "."
