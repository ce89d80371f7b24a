"""The largest tile a model call can take in the memory there is: larger frames are cut into tiles of it.

A call's working memory grows with its input pixels: ``BYTES_PER_PIXEL`` holds what bench/tile_memory.py
measured per model (in-process OpenVINO, f32, peak resident set per input pixel). Every call must fit in
``MEMORY_SHARE`` of the memory free (the container's where a cgroup limits it): first fewer pictures go in
one call, and only when a single tile of the configured size (512 on the CPU) does not fit does the tile
shrink, since a smaller tile repeats more of its overlap. So no frame size within the limits fails for
memory, and a large host keeps today's calls and speed.
"""

from __future__ import annotations

import math
from pathlib import Path

from adapter.regions.field import field_of

#: Working memory of one call per input pixel (bytes), measured by ``python -m bench.tile_memory`` on
#: 2026-12-07 (docs/benchmarks.md); a Real-CUGAN entry covers every denoise file of its model.
BYTES_PER_PIXEL: dict[str, int] = {
    "realesr-animevideov3-x2": 781,
    "realesr-animevideov3-x3": 876,
    "realesr-animevideov3-x4": 800,
    "realesrgan-x4plus": 11884,
    "realesrgan-x4plus-anime": 11910,
    "realcugan-se-x2": 6628,
    "realcugan-se-x3": 13630,
    "realcugan-se-x4": 7687,
    "realcugan-pro-x2": 6564,
    "realcugan-pro-x3": 13923,
    "realcugan-nose-x2": 6077,
}
#: A model not measured counts as the heaviest one.
UNKNOWN_BYTES_PER_PIXEL = max(BYTES_PER_PIXEL.values())
#: The share of the free memory one model call may take: the decoder, encoder and the next batch need room.
MEMORY_SHARE = 0.5
#: Tiles are multiples of this (the models' strides divide it).
TILE_STEP = 16
#: Where a cgroup (v2, then v1) states the container's limit and use; /proc/meminfo for the host.
MEMINFO = Path("/proc/meminfo")
CGROUP_V2 = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current"))
CGROUP_V1 = (
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    Path("/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)


def bytes_per_pixel(model: str) -> int:
    """The measured working memory per input pixel of ``model`` (a served name: denoise files included)."""
    if model in BYTES_PER_PIXEL:
        return BYTES_PER_PIXEL[model]
    # A denoise file: the longest model name it starts with ("realesrgan-x4plus-anime" is a model of its own).
    owners = [name for name in BYTES_PER_PIXEL if model.startswith(f"{name}-")]
    return BYTES_PER_PIXEL[max(owners, key=len)] if owners else UNKNOWN_BYTES_PER_PIXEL


def least_tile(model: str) -> int:
    """The smallest tile worth cutting: twice the model's measured field, with a kept centre of 4 steps."""
    return 2 * max(TILE_STEP, field_of(model) or TILE_STEP) + 4 * TILE_STEP


def pixel_budget(model: str, available: int, in_flight: int = 1) -> int:
    """Input pixels one call of ``model`` may take when ``in_flight`` calls share the memory share."""
    return int(available * MEMORY_SHARE / (max(1, in_flight) * bytes_per_pixel(model)))


def fit_tile(tile: int, budget: int, least: int) -> int:
    """The largest tile ≤ ``tile`` (a multiple of TILE_STEP) of which one fits ``budget``, ≥ ``least``."""
    side = math.isqrt(max(0, budget)) // TILE_STEP * TILE_STEP
    return max(least, min(tile, side))


def per_call(pixels_each: int, budget: int, most: int) -> int:
    """How many pictures of ``pixels_each`` one call takes: as many as fit ``budget``, 1 to ``most``."""
    return max(1, min(most, budget // max(1, pixels_each)))


def available_memory(
    meminfo: Path = MEMINFO, cgroups: tuple[tuple[Path, Path], ...] = (CGROUP_V2, CGROUP_V1)
) -> int:
    """Bytes this process can still take: the host's MemAvailable, or less where a cgroup limit says so."""
    free = _meminfo_available(meminfo)
    for limit_path, usage_path in cgroups:
        try:
            limit_text, usage_text = limit_path.read_text().strip(), usage_path.read_text().strip()
        except OSError:
            continue
        if limit_text.isdigit() and usage_text.isdigit():  # "max" (v2) means no limit
            free = min(free, max(0, int(limit_text) - int(usage_text)))
    return free


def _meminfo_available(meminfo: Path) -> int:
    """MemAvailable of /proc/meminfo in bytes (a huge figure where it cannot be read: no limit known)."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 1 << 62
