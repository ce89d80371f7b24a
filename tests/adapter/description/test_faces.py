"""Faces: facing the camera and expressions on composites of scikit-image's photographs; the sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapter.description.detector import CenterNetDetector
from adapter.description.faces import FaceReader, FacingDescriber
from adapter.description.people import Lang, face_facts, face_sentence, people
from adapter.description.scenes import Scene
from adapter.description.sentences import Detection, Expression, Face
from adapter.description.shots import PLANS, Density, PictureMemory, picture_pending
from tests.fixtures.description import composite

SHOT = Scene(0.0, 5.0)


@pytest.fixture(scope="module")
def reader(model_path: Path) -> FaceReader:
    return FaceReader(model_path.parent)


@pytest.fixture(scope="module")
def describer(model_path: Path, reader: FaceReader) -> FacingDescriber:
    return FacingDescriber(CenterNetDetector(model_path), reader)


def _said(frame: np.ndarray, describer: FacingDescriber, lang: Lang) -> str | None:
    """What the key frame's description says, or None."""
    found = picture_pending(SHOT, frame, describer, lang, PLANS["normal"], PictureMemory())
    return None if found is None else found.text


def test_a_frontal_smiling_face_faces_the_camera_and_smiles(describer: FacingDescriber) -> None:
    frame = composite([("astronaut", 0.5)])  # Eileen Collins, frontal and smiling
    (person,) = people(describer(frame))
    assert person.face is not None and person.face.frontal and person.face.expression == "happy"
    assert _said(frame, describer, "ru") == "В центре человек, крупный план. Смотрит в камеру и улыбается."
    assert _said(frame, describer, "en") == "A person in the centre, close-up. Facing the camera and smiling."


def test_a_face_in_profile_says_nothing_about_facing_or_expression(describer: FacingDescriber) -> None:
    frame = composite([("cameraman", 0.5)])  # looking into his camera, face turned to the side
    (person,) = people(describer(frame))
    assert person.face is not None and not person.face.frontal and person.face.expression is None
    assert _said(frame, describer, "ru") == "В центре человек, крупный план."
    assert _said(frame, describer, "en") == "A person in the centre, close-up."


def test_only_the_person_facing_the_camera_is_described(describer: FacingDescriber) -> None:
    frame = composite([("astronaut", 0.17), ("cameraman", 0.83)])
    assert _said(frame, describer, "ru") == (
        "Два человека: слева и справа, крупный план. Человек слева смотрит в камеру и улыбается."
    )
    assert _said(frame, describer, "en") == (
        "Two people: on the left and on the right, close-up. The person on the left is facing the camera"
        " and smiling."
    )


def test_a_person_box_without_a_face_gets_no_face(reader: FaceReader) -> None:
    grass = composite([])
    boxed = FacingDescriber(lambda _frame: [Detection(0, 0.9, (0.4, 0.1, 0.6, 0.95))], reader)
    (person,) = boxed(grass)
    assert person.face is None and face_facts([person]) == ()
    assert _said(grass, boxed, "ru") == "В центре человек, крупный план."


class _Probabilities:
    """A stand-in emotion session answering fixed class probabilities."""

    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = np.array([probabilities], np.float32)

    def get_inputs(self) -> list[object]:
        return [type("Input", (), {"name": "input_1__nhwc"})()]

    def run(self, _names: object, _feed: object) -> list[np.ndarray]:
        return [self.probabilities]


@pytest.mark.parametrize(
    ("probabilities", "expected"),
    [
        ([0.05, 0, 0, 0.7, 0.05, 0.1, 0.1], "happy"),
        ([0.05, 0, 0, 0.1, 0.65, 0.1, 0.1], "sad"),
        ([0.2, 0, 0.1, 0.55, 0.05, 0.05, 0.05], None),  # top class under 0.6: not sure
        ([0, 0, 0, 0.05, 0, 0.05, 0.9], None),  # neutral is no expression
    ],
)
def test_an_expression_is_said_only_when_the_model_is_sure(
    model_path: Path, probabilities: list[float], expected: Expression | None
) -> None:
    reader = FaceReader(model_path.parent)
    reader.emotion = _Probabilities(probabilities)
    face = reader(composite([("astronaut", 0.5)]), (0.37, 0.09, 0.61, 0.98))
    assert face is not None and face.frontal and face.expression == expected


def _person(centre: float, top: float, expression: Expression | None, frontal: bool = True) -> Detection:
    face = Face((centre - 0.02, top, centre + 0.02, top + 0.05), 0.9, frontal, expression)
    return Detection(0, 0.9, (centre - 0.05, top, centre + 0.05, 0.95), face)


def test_face_sentences_in_both_languages() -> None:
    far = face_facts([_person(0.5, 0.7, "happy")])  # a wide shot: the face is too small for expressions
    assert (
        face_sentence(far, "ru") == "Смотрит в камеру." and face_sentence(far, "en") == "Facing the camera."
    )
    sad = face_facts([_person(0.5, 0.2, "sad")])
    assert face_sentence(sad, "ru", subject=True) == "Человек смотрит в камеру и грустит."
    assert face_sentence(sad, "en", subject=True) == "The person is facing the camera and looking sad."
    trio = [_person(0.1, 0.2, "surprise"), _person(0.5, 0.2, None, frontal=False), _person(0.9, 0.2, None)]
    assert face_sentence(face_facts(trio), "ru") == (
        "Человек слева смотрит в камеру и удивляется, человек справа смотрит в камеру."
    )
    assert face_sentence(face_facts(trio), "en") == (
        "The person on the left is facing the camera and looking surprised; the person on the right is facing"
        " the camera."
    )
    side_by_side = [_person(0.1, 0.2, "happy"), _person(0.25, 0.2, "happy")]  # which of the two? say nothing
    assert face_facts(side_by_side) == () and face_sentence((), "ru") is None


def _one_face(
    expression: Expression, lang: Lang, memory: PictureMemory, density: Density = "normal"
) -> str | None:
    """What a shot of one frontal person with ``expression`` adds, given what ``memory`` holds."""
    frame = np.full((90, 160, 3), 128, np.uint8)  # grey: no setting cue
    found = picture_pending(
        SHOT, frame, lambda _f: [_person(0.5, 0.2, expression)], lang, PLANS[density], memory
    )
    return None if found is None else found.text


def test_faces_are_not_repeated_and_a_change_is_said_alone() -> None:
    memory = PictureMemory()
    assert _one_face("happy", "ru", memory) == "В центре человек, крупный план. Смотрит в камеру и улыбается."
    assert _one_face("happy", "ru", memory) is None  # the next shot: the same smiling person
    assert _one_face("sad", "en", memory) == "The person is facing the camera and looking sad."
    assert _one_face("happy", "en", PictureMemory(), "brief") == "A person in the centre."


def test_the_face_is_the_part_dropped_when_a_pause_is_short() -> None:
    frame = np.full((90, 160, 3), 128, np.uint8)
    found = picture_pending(
        SHOT, frame, lambda _f: [_person(0.5, 0.2, "happy")], "en", PLANS["normal"], PictureMemory()
    )
    assert found is not None and found.shorter is not None
    assert found.shorter.text == "A person in the centre, close-up." and found.shorter.sources == {"people"}
