"""The carry kits: each under 60 MiB (no network: wheel sizes from the lock), and unpacking on the device."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from bench import kit


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Bytes of every model's kit weights, converted here from the ncnn package as the build does."""
    folder = tmp_path_factory.mktemp("weights")
    return {model: kit.weights_bytes(model, folder) for one in kit.KITS for model in one.models}


@pytest.mark.parametrize("one", kit.KITS, ids=lambda one: one.name)
def test_each_kit_fits_one_call(one: kit.Kit, weights: dict[str, int]) -> None:
    locked = kit.lock()
    planned = sum(int(locked[requirement]["size"]) for requirement in one.wheels)
    planned += sum(weights[model] for model in one.models)
    assert planned < kit.LIMIT_BYTES, f"kit {one.name}: {planned / 2**20:.1f} MiB"
    built = kit.KIT_ROOT / one.name
    if built.is_dir():  # a kit built on this machine is checked as it is
        assert kit.folder_bytes(built) < kit.LIMIT_BYTES


def test_every_model_and_locked_wheel_is_in_exactly_one_kit() -> None:
    from contract.messages import MODELS

    models = [model for one in kit.KITS for model in one.models]
    wheels = [wheel for one in kit.KITS for wheel in one.wheels]
    # Real-CUGAN is rebuilt from its ncnn .param graph (model_convertation/cugan.py): no state-dict kit yet.
    assert sorted(models) == sorted(m for m in MODELS if not m.startswith("realcugan-"))
    assert sorted(wheels) == sorted(kit.lock())
    for requirement, entry in kit.lock().items():
        name, version = requirement.split("==")
        assert str(entry["file"]).lower().startswith(f"{name.replace('-', '_')}-{version}-".lower())
        assert (
            "cp312" in str(entry["file"]) or "abi3" in str(entry["file"]) or "py3-none" in str(entry["file"])
        )


def _wheel(path: Path, members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def test_unpack_extracts_wheels_and_the_ffmpeg_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "wheels").mkdir(parents=True)
    (tmp_path / "b" / "wheels").mkdir(parents=True)
    (tmp_path / "a" / "weights").mkdir()
    _wheel(
        tmp_path / "a" / "wheels" / "kitprobe-1.0-py3-none-any.whl", {"kitprobe/__init__.py": b"VALUE = 7\n"}
    )
    _wheel(
        tmp_path / "b" / "wheels" / "imageio_ffmpeg-0.4.9-py3-none-x.whl", {kit.FFMPEG_MEMBER: b"#!/bin/sh\n"}
    )
    assert kit.unpack(tmp_path) == ["kitprobe-1.0-py3-none-any.whl", "imageio_ffmpeg-0.4.9-py3-none-x.whl"]
    assert kit.unpack(tmp_path) == []  # a second call (the next warm run) finds them done
    binary = tmp_path / "bin" / "ffmpeg"
    assert os.access(binary, os.X_OK)
    # setenv, not delenv: the undo then removes what activate() sets (a leaked fake ffmpeg broke later tests).
    monkeypatch.setenv("FFMPEG_BINARY", "")
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # a host without ffmpeg, like the lent one
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    assert kit.activate(tmp_path, python=kit.KIT_PYTHON) == [tmp_path / "a" / "weights"]
    assert __import__("sys").path[0] == str(tmp_path / "site")  # before the host's packages
    assert os.environ["FFMPEG_BINARY"] == str(binary)
    import importlib

    assert importlib.import_module("kitprobe").VALUE == 7
