"""The shipped detector on photos with known content, in both languages; the captioner plug."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from adapter.description.detector import CenterNetDetector, OnnxCaptioner
from adapter.description.engine import build_describer
from adapter.description.sentences import sentence
from adapter.errors import InferenceUnavailableError


@pytest.fixture(scope="module")
def detector(model_path: Path) -> CenterNetDetector:
    return CenterNetDetector(model_path)


@pytest.mark.parametrize(
    ("image", "label", "english", "russian"),
    [("astronaut", 0, "person", "человек"), ("chelsea", 15, "cat", "кошка"), ("coffee", 41, "cup", "чашка")],
)
def test_known_photos_are_described(
    detector: CenterNetDetector, image: str, label: int, english: str, russian: str
) -> None:
    import skimage.data

    found = detector(getattr(skimage.data, image)())
    assert max(found, key=lambda d: d.score).label == label or label in {d.label for d in found}
    en, ru = sentence(found, "en"), sentence(found, "ru")
    assert en is not None and english in en and en.endswith(".") and en[0].isupper()
    assert ru is not None and russian in ru.lower() and ru.endswith(".")


def test_flat_frame_has_nothing_to_say(detector: CenterNetDetector) -> None:
    assert sentence(detector(np.full((240, 320, 3), 90, np.uint8)), "en") is None


def _caption_model(path: Path, text: str) -> Path:
    """A stand-in captioning model with the documented contract: uint8 image in, one string out."""
    shape = helper.make_node("Shape", ["image"], ["shape"])
    value = numpy_helper.from_array(np.array([text], dtype=object), "c")
    caption = helper.make_node("Constant", [], ["caption"], value=value)
    graph = helper.make_graph(
        [shape, caption],
        "captioner",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, [1, None, None, 3])],
        [
            helper.make_tensor_value_info("caption", TensorProto.STRING, [1]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [4]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_configured_captioner_replaces_the_detector(tmp_path: Path) -> None:
    model = _caption_model(tmp_path / "captioner.onnx", "  Кошка спит на диване.  ")
    describer = build_describer(captioner_onnx=model)
    assert isinstance(describer, OnnxCaptioner)
    assert describer(np.zeros((48, 64, 3), np.uint8)) == "Кошка спит на диване."


def test_missing_model_is_a_clear_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(InferenceUnavailableError) as raised:
        CenterNetDetector(tmp_path / "absent.onnx")
    assert raised.value.code == "description.model_missing" and "absent.onnx" in str(raised.value)
    assert "fetch_models" in caplog.text, "the operator is told how to fix it"
