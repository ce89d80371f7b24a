"""People: counts and positions on composites of scikit-image's photographs of people; the sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapter.description.detector import CenterNetDetector
from adapter.description.people import people, people_sentence, position, shot_size
from adapter.description.scenes import Scene
from adapter.description.sentences import Detection
from adapter.description.setting import cues, setting_sentence
from adapter.description.shots import PLANS, PictureMemory, picture_pending
from tests.fixtures.description import composite


@pytest.fixture(scope="module")
def detector(model_path: Path) -> CenterNetDetector:
    return CenterNetDetector(model_path)


@pytest.mark.parametrize(
    ("slots", "ru", "en"),
    [
        ([], None, None),
        ([("astronaut", 0.5)], "В центре человек", "A person in the centre"),
        ([("cameraman", 0.17)], "Слева человек", "A person on the left"),
        (
            [("astronaut", 0.17), ("cameraman", 0.83)],
            "Два человека: слева и справа",
            "Two people: on the left and on the right",
        ),
        (
            [("cameraman", 0.17), ("astronaut", 0.5), ("cameraman", 0.83)],
            "Три человека: слева, в центре и справа",
            "Three people: on the left, in the centre and on the right",
        ),
    ],
)
def test_people_are_counted_and_placed_on_composites(
    detector: CenterNetDetector, slots: list[tuple[str, float]], ru: str | None, en: str | None
) -> None:
    found = detector(composite(slots))
    persons = people(found)
    assert len(persons) == len(slots)
    expected = sorted("left" if c < 0.38 else "right" if c > 0.62 else "centre" for _n, c in slots)
    assert sorted(position(p) for p in persons) == expected
    said_ru, said_en = people_sentence(found, "ru"), people_sentence(found, "en")
    if ru is None:
        assert said_ru is None and said_en is None
    else:
        assert said_ru == f"{ru}, крупный план." and said_en == f"{en}, close-up."
        assert shot_size(persons) == "close"  # 360 of 400 px high


def _person(centre: float, top: float = 0.3, score: float = 0.9) -> Detection:
    return Detection(0, score, (centre - 0.05, top, centre + 0.05, 0.9))


def test_people_sentences_agree_in_number_and_say_where() -> None:
    two_left = [_person(0.1), _person(0.25)]
    assert people_sentence(two_left, "ru") == "Слева два человека, средний план."
    assert people_sentence(two_left, "en") == "Two people on the left, medium shot."
    mixed = [_person(0.1), _person(0.2), _person(0.8, top=0.8)]
    assert people_sentence(mixed, "ru", with_size=False) == "Три человека: двое слева и один справа."
    assert (
        people_sentence(mixed, "en", with_size=False) == "Three people: two on the left and one on the right."
    )
    five = [_person(0.1 + 0.18 * i, top=0.75) for i in range(5)]
    assert people_sentence(five, "ru") == "Пять человек: двое слева, один в центре и двое справа, общий план."


def test_a_part_of_a_person_and_a_weak_box_are_not_counted() -> None:
    whole = _person(0.5, top=0.1)
    head = Detection(0, 0.5, (0.47, 0.1, 0.53, 0.3))
    weak = Detection(0, 0.2, (0.1, 0.1, 0.2, 0.9))
    assert people([whole, head, weak]) == [whole]


def test_setting_says_only_what_colour_shows() -> None:
    sky = np.zeros((90, 160, 3), np.uint8)
    sky[:40] = (90, 150, 230)  # clear sky blue
    sky[40:] = (120, 110, 100)
    assert cues(sky) == {"sky"}
    assert setting_sentence(cues(sky), "ru") == "На улице, видно небо."
    night = np.full((90, 160, 3), 20, np.uint8)
    assert setting_sentence(cues(night), "en") == "It is dark."
    grey = np.full((90, 160, 3), 128, np.uint8)
    assert cues(grey) == frozenset() and setting_sentence(cues(grey), "ru") is None


def test_the_setting_is_never_said_alone_and_never_twice() -> None:
    dark = np.full((90, 160, 3), 15, np.uint8)
    memory = PictureMemory()
    shot = Scene(0.0, 5.0)
    assert picture_pending(shot, dark, lambda _frame: [], "ru", PLANS["normal"], memory) is None
    found = picture_pending(shot, dark, lambda _frame: [_person(0.5)], "ru", PLANS["normal"], memory)
    assert found is not None and found.text == "Темно. В центре человек, средний план."
    assert found.sources == {"setting", "people"}
    again = picture_pending(
        Scene(5.0, 9.0), dark, lambda _frame: [_person(0.5)], "ru", PLANS["normal"], memory
    )
    assert again is None  # the same person in the same dark place: nothing new
