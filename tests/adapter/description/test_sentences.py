"""Sentences from detections: Russian plural forms, counts, positions, articles."""

from __future__ import annotations

import pytest

from adapter.description.sentences import Detection, count_phrase, russian_form, sentence, signature

PERSON, CAR, CAT, DOG, CUP, APPLE, TABLE, CLOCK = 0, 2, 15, 16, 41, 47, 60, 74


@pytest.mark.parametrize(
    ("count", "form"),
    [
        (1, "one"),
        (21, "one"),
        (101, "one"),
        (2, "few"),
        (4, "few"),
        (22, "few"),
        (5, "many"),
        (11, "many"),
        (12, "many"),
        (14, "many"),
        (20, "many"),
        (25, "many"),
        (111, "many"),
        (112, "many"),
    ],
)
def test_russian_plural_category(count: int, form: str) -> None:
    assert russian_form(count) == form


@pytest.mark.parametrize(
    ("count", "label", "text"),
    [
        (2, PERSON, "два человека"),
        (5, PERSON, "пять человек"),
        (1, PERSON, "один человек"),
        (5, CAR, "пять машин"),
        (2, CAR, "две машины"),
        (1, CAT, "одна кошка"),
        (3, CAT, "три кошки"),
        (1, APPLE, "одно яблоко"),
        (2, APPLE, "два яблока"),
        (11, DOG, "11 собак"),
        (21, DOG, "21 собака"),
        (22, CUP, "22 чашки"),
        (2, CLOCK, "двое часов"),
        (7, CLOCK, "семь часов"),
    ],
)
def test_russian_count_phrase(count: int, label: int, text: str) -> None:
    assert count_phrase(count, label, "ru") == text


@pytest.mark.parametrize(
    ("count", "label", "text"),
    [(1, DOG, "one dog"), (3, DOG, "three dogs"), (2, PERSON, "two people"), (12, CUP, "12 cups")],
)
def test_english_count_phrase(count: int, label: int, text: str) -> None:
    assert count_phrase(count, label, "en") == text


def _at(label: int, centre_x: float) -> Detection:
    return Detection(label, 0.9, (centre_x - 0.05, 0.2, centre_x + 0.05, 0.6))


def test_sentence_groups_counts_and_positions() -> None:
    found = [_at(PERSON, 0.1), _at(PERSON, 0.2), _at(DOG, 0.8)]
    assert sentence(found, "en") == "Two people on the left, a dog on the right."
    assert sentence(found, "ru") == "Слева два человека, справа собака."


def test_objects_sharing_a_place_are_joined() -> None:
    found = [_at(TABLE, 0.5), _at(CUP, 0.5)]
    assert sentence(found, "en") == "A table and a cup in the centre."
    assert sentence(found, "ru") == "В центре стол и чашка."


def test_spread_objects_have_no_position_and_articles_follow_sound() -> None:
    found = [_at(APPLE, 0.1), _at(APPLE, 0.9)]
    assert sentence(found, "en") == "Two apples."
    assert sentence([_at(APPLE, 0.5)], "en") == "An apple in the centre."


def test_nothing_detected_gives_no_sentence_and_signature_ignores_position() -> None:
    assert sentence([], "ru") is None
    assert signature([_at(CAT, 0.1)]) == signature([_at(CAT, 0.9)])
    assert signature([_at(CAT, 0.1)]) != signature([_at(CAT, 0.1), _at(CAT, 0.5)])


def test_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        count_phrase(0, CAT, "en")
