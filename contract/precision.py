"""Inference precision on CPUs: ``auto | f32 | bf16 | int8`` and how ``auto`` picks from the CPU's flags.

``auto``: bf16 where the CPU computes it natively (AVX-512 BF16 or AMX), else int8 where the model's int8
passed its quality gate (model_convertation/gate.py), else f32. An explicit ``int8`` for a model without a
passed gate, or ``bf16`` on a CPU without native bf16, falls back the same way (and says why).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PRECISIONS: Final = ("auto", "f32", "bf16", "int8")
#: /proc/cpuinfo flags that mean native bf16 arithmetic (OpenVINO then runs bf16).
BF16_FLAGS: Final = ("avx512_bf16", "amx_bf16")
#: Flags worth showing next to a choice (what decides bf16/int8 speed).
SHOWN_FLAGS: Final = (
    "avx2",
    "avx_vnni",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_bf16",
    "amx_int8",
)
#: The int8 gate's verdict per model as measured (docs/benchmarks.md, "int8"); models absent: not quantized.
#: Each host's build gates its own int8 file again, and only a passed file is ever run.
INT8_GATE_PASSED: Final[Mapping[str, bool]] = {"realesr-animevideov3-x4": True}


@dataclass(frozen=True)
class Choice:
    """The precision a model runs in and the one-line reason (logged, and shown in /api/config)."""

    precision: str
    reason: str


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The first CPU's feature flags (empty when /proc/cpuinfo is unreadable, e.g. not Linux)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def shown(flags: Iterable[str]) -> list[str]:
    """The deciding flags among ``flags``, in a fixed order."""
    present = set(flags)
    return [flag for flag in SHOWN_FLAGS if flag in present]


def _no_int8(int8_passed: bool | None) -> str:
    return "its int8 failed the quality gate" if int8_passed is False else "no int8 model was built"


def choose(requested: str, flags: Iterable[str], int8_passed: bool | None) -> Choice:
    """What runs for ``requested`` on a CPU with ``flags``; ``int8_passed`` None = no gated int8 model."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    present = set(flags)
    bf16 = next((flag for flag in BF16_FLAGS if flag in present), None)
    if requested == "f32":
        return Choice("f32", "asked for f32")
    if requested == "bf16":
        if bf16:
            return Choice("bf16", f"asked for bf16; the CPU has {bf16}")
        return Choice("f32", "asked for bf16, but the CPU has no native bf16 (avx512_bf16/amx_bf16): f32")
    if requested == "int8":
        if int8_passed:
            return Choice("int8", "asked for int8; its quality gate passed")
        fallback = "bf16" if bf16 else "f32"
        return Choice(fallback, f"asked for int8, but {_no_int8(int8_passed)}: {fallback}")
    if bf16:
        return Choice("bf16", f"auto: the CPU has {bf16} (native bf16)")
    if int8_passed:
        return Choice("int8", "auto: no native bf16 (avx512_bf16/amx_bf16); int8 passed its quality gate")
    return Choice("f32", f"auto: no native bf16 (avx512_bf16/amx_bf16) and {_no_int8(int8_passed)}")


@functools.cache
def host_precision(requested: str = "auto") -> str:
    """What ``requested`` runs a model without a gated int8 in on this host (the flags read once)."""
    return choose(requested, cpu_flags(), None).precision


def host_report(requested: str = "auto", flags: Iterable[str] | None = None) -> dict[str, object]:
    """What ``requested`` gives each quantized model on this host (for /api/config)."""
    present = cpu_flags() if flags is None else frozenset(flags)
    models = {
        model: choose(requested, present, passed).__dict__ for model, passed in INT8_GATE_PASSED.items()
    }
    default = choose(requested, present, None)
    return {
        "requested": requested,
        "cpu_flags": shown(present),
        "other_models": default.__dict__,
        "models": models,
    }
