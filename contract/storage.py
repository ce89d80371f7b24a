"""Storage layout: keys relative to the storage root, and the only way to turn a key into a path."""

from __future__ import annotations

import re
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class UnsafeKeyError(ValueError):
    """A storage key that is malformed or would escape the storage root."""


def resolve(root: Path, key: str) -> Path:
    """Return the path for ``key`` under ``root``; refuse keys that are absolute or escape it."""
    if not _KEY.fullmatch(key) or any(part in ("", ".", "..") for part in key.split("/")):
        raise UnsafeKeyError(f"unsafe storage key: {key!r}")
    base = root.resolve()
    path = (base / key).resolve()
    if not path.is_relative_to(base):
        raise UnsafeKeyError(f"storage key escapes the root: {key!r}")
    return path


def job_dir(job_id: str) -> str:
    """Folder key of one job."""
    return f"jobs/{job_id}"


def input_key(job_id: str, suffix: str) -> str:
    """Key of the uploaded original; ``suffix`` is a sanitised extension such as ``.mp4``."""
    return f"{job_dir(job_id)}/input{suffix}"


def output_key(job_id: str, suffix: str = ".mp4") -> str:
    """Key of the finished video; ``suffix`` is its container's (``.mp4``, ``.mkv`` to keep subtitles, or an
    animated ``.gif``/``.webp``)."""
    if suffix not in (".mp4", ".mkv", ".gif", ".webp"):
        raise ValueError(suffix)
    return f"{job_dir(job_id)}/output{suffix}"


def segments_dir(job_id: str) -> str:
    """Folder key of a segmented job's segment files."""
    return f"{job_dir(job_id)}/segments"


def segment_key(job_id: str, index: int) -> str:
    """Key of one upscaled, video-only segment file (index from 0)."""
    if index < 0:
        raise ValueError(index)
    return f"{segments_dir(job_id)}/{index:05d}.mp4"


def vtt_key(job_id: str) -> str:
    """Key of the audio description's WebVTT, beside the finished video."""
    return f"{job_dir(job_id)}/output.vtt"


def preview_key(job_id: str, which: str) -> str:
    """Key of a before/after preview frame (``which`` is ``before`` or ``after``)."""
    if which not in ("before", "after"):
        raise ValueError(which)
    return f"{job_dir(job_id)}/preview_{which}.jpg"


def source_proxy_key(job_id: str) -> str:
    """Key of the small playable «before» video of an original the browser cannot play (contract.playable)."""
    return f"{job_dir(job_id)}/source_proxy.mp4"


#: Folder of the cancel markers: outside the job folders, so deleting a job's files cannot erase its cancel.
CANCELS_DIR = "cancels"


def cancel_key(job_id: str) -> str:
    """Key of the (empty) marker the backend writes once a job is cancelled or deleted; adapters poll it."""
    return f"{CANCELS_DIR}/{job_id}"


#: A run's temporaries, ``.<stem>.<token>.part<suffix>`` beside their final file: written by the adapter,
#: renamed into place only on success, and known to the backend's janitor by this pattern when a run died.
TEMPORARY = re.compile(r"^\..+\.part(\.[A-Za-z0-9]+)?$")


def temporary(final: Path, token: str) -> Path:
    """The temporary a run writes ``final`` as (``token`` tells runs and writers apart)."""
    return final.with_name(f".{final.stem}.{token}.part{final.suffix}")


def temporaries_of(final: Path) -> list[Path]:
    """Every run's temporaries of ``final`` lying beside it (a killed run's included)."""
    return sorted(final.parent.glob(f"*.{final.stem}.*.part*"))  # any suffix; a temporary's own too
