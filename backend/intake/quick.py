"""Quick test runs: a finished upload becomes a job on its busiest few seconds, the whole original kept.

The original moves to ``jobs/<id>/original<ext>`` and the excerpt takes the input's place, so the job runs
like any other (same adapter, same checks); «Обработать всё» later re-runs the kept original
(``rerun.source_of(..., whole=True)``) without a second upload.
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePosixPath

from backend.errors import InvalidRequest, UnsupportedMedia
from backend.intake import excerpt
from backend.intake.upload import Upload
from contract import limits, probe, storage
from contract.catalogue import reason
from contract.media import MediaError

#: What the creator may ask for: ``auto`` (the busiest seconds) or the start second.
AUTO = "auto"


def original_key(job_id: str, input_key: str) -> str:
    """Where a quick test run keeps its whole original (next to the excerpt, same extension)."""
    return f"{storage.job_dir(job_id)}/original{PurePosixPath(input_key).suffix}"


def parse_start(value: str) -> float | None:
    """``auto`` → None (to be judged), seconds from 0 to the longest video taken → that, else 422."""
    if value.strip() == AUTO:
        return None
    try:
        start = float(value)
    except ValueError as exc:
        raise InvalidRequest(reason("options.bad_excerpt")) from exc
    # inf, nan, 1e308: never a second of any video this service takes (judged before a byte is sent).
    if not math.isfinite(start) or not 0 <= start <= limits.MAX_DURATION_S:
        raise InvalidRequest(reason("options.bad_excerpt"))
    return start


def make(root: Path, upload: Upload, asked: str) -> tuple[Upload, float]:
    """Turn a stored upload into its excerpt (the original kept aside): the excerpt's upload and start.

    The start is judged against the video's counted packets: past the last one is refused
    (``options.excerpt_past_end``); a playlist is refused before ffmpeg reads it, as the probe would.
    """
    start = parse_start(asked)
    try:
        probe.refuse_playlist(upload.path)
    except probe.ProbeError as exc:
        raise UnsupportedMedia(exc.reason) from exc
    kept = storage.resolve(root, original_key(upload.job_id, upload.key))
    os.replace(upload.path, kept)
    try:
        found = excerpt.packets(kept)
        if not found:
            raise InvalidRequest(reason("media.damaged"))
        end = max(pts for pts, _size in found)
        if start is None:
            start = excerpt.busiest(found)
        elif start >= end:
            why = reason("options.excerpt_past_end", start_s=round(start, 3), duration_s=round(end, 3))
            raise InvalidRequest(why)
        excerpt.cut(kept, start, upload.path)
    except MediaError as exc:
        raise InvalidRequest(reason("media.damaged")) from exc
    size = upload.path.stat().st_size
    return Upload(upload.job_id, upload.filename, upload.key, upload.path, size, dict(upload.fields)), start
