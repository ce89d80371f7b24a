"""ncnn .param/.bin parsing and conversion to state dicts with the original key names."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from model_convertation import catalog, ncnn
from model_convertation.weights import convert, convert_layers


def test_param_parses_layers_and_params() -> None:
    folder = catalog.ncnn_models_dir()
    layers = ncnn.parse_param((folder / "realesr-animevideov3-x4.param").read_text())
    kinds = [layer.type for layer in layers]
    assert kinds.count("Convolution") == 18 and kinds.count("PReLU") == 17
    first = next(layer for layer in layers if layer.type == "Convolution")
    assert (first.int_param(0), first.int_param(1), first.int_param(6)) == (64, 3, 1728)


def test_bad_magic_is_a_clear_error() -> None:
    with pytest.raises(ncnn.NcnnFormatError, match="magic"):
        ncnn.parse_param("123\n1 1\nInput a 0 1 data\n")


def test_fp16_tagged_and_fp32_blobs(tmp_path: Path) -> None:
    param = tmp_path / "net.param"
    param.write_text(
        "7767517\n3 3\nInput in 0 1 data\n"
        "Convolution conv 1 1 data c 0=1 1=1 5=1 6=3\nPReLU act 1 1 c out 0=1\n"
    )
    weights = np.array([0.5, -1.25, 2.0], dtype="<f2")
    blob = struct.pack("<I", ncnn.TAG_FP16) + weights.tobytes() + b"\0\0"  # padded to 4 bytes
    blob += np.array([0.75], dtype="<f4").tobytes() + np.array([0.1], dtype="<f4").tobytes()
    (tmp_path / "net.bin").write_bytes(blob)
    conv, act = ncnn.load(param, tmp_path / "net.bin")[1:]
    assert conv.weights["weight"].reshape(-1).tolist() == [0.5, -1.25, 2.0]
    assert conv.weights["bias"].tolist() == [0.75]
    assert act.weights["weight"].tolist() == pytest.approx([0.1])


def test_leftover_bytes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "n.param").write_text("7767517\n2 2\nInput in 0 1 data\nPReLU act 1 1 data out 0=1\n")
    (tmp_path / "n.bin").write_bytes(np.zeros(2, dtype="<f4").tobytes())
    with pytest.raises(ncnn.NcnnFormatError, match="left over"):
        ncnn.load(tmp_path / "n.param", tmp_path / "n.bin")


@pytest.mark.parametrize(
    ("name", "count", "key"),
    [
        ("realesr-animevideov3-x4", 53, "body.34.weight"),
        ("realesrgan-x4plus", 702, "body.22.rdb3.conv5.weight"),
        ("realesrgan-x4plus-anime", 192, "body.5.rdb3.conv5.bias"),
    ],
)
def test_state_dict_uses_original_key_names(name: str, count: int, key: str) -> None:
    state = convert(catalog.MODELS[name]).state_dict
    assert len(state) == count
    assert key in state
    assert all(np.isfinite(tensor.numpy()).all() for tensor in state.values())


@pytest.mark.parametrize(
    ("name", "downscale"), [("realesr-animevideov3-x2", 0.5), ("realesr-animevideov3-x3", 0.75)]
)
def test_x2_x3_are_the_x4_network_plus_a_bicubic_resize(name: str, downscale: float) -> None:
    converted = convert(catalog.MODELS[name])
    x4 = convert(catalog.MODELS["realesr-animevideov3-x4"])
    assert converted.downscale == downscale
    assert all((converted.state_dict[k] == x4.state_dict[k]).all() for k in x4.state_dict)


def test_architecture_mismatch_is_refused() -> None:
    folder = catalog.ncnn_models_dir()
    layers = ncnn.load(folder / "realesr-animevideov3-x4.param", folder / "realesr-animevideov3-x4.bin")
    with pytest.raises(ncnn.NcnnFormatError, match="weighted layers"):
        convert_layers(layers, catalog.MODELS["realesrgan-x4plus-anime"].network())
