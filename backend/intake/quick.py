"""Quick test runs: a finished upload becomes a job on its busiest few seconds, the whole original kept.

The original moves to ``jobs/<id>/original<ext>`` and the excerpt takes the input's place, so the job runs
like any other (same adapter, same checks); «Обработать всё» later re-runs the kept original
(``rerun.source_of(..., whole=True)``) without a second upload.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from backend.errors import InvalidRequest
from backend.intake import excerpt
from backend.intake.upload import Upload
from contract import storage
from contract.catalogue import reason
from contract.media import MediaError

#: What the creator may ask for: ``auto`` (the busiest seconds) or the start second.
AUTO = "auto"


def original_key(job_id: str, input_key: str) -> str:
    """Where a quick test run keeps its whole original (next to the excerpt, same extension)."""
    return f"{storage.job_dir(job_id)}/original{PurePosixPath(input_key).suffix}"


def parse_start(value: str) -> float | None:
    """``auto`` → None (to be judged), a number of seconds → that, anything else → 422."""
    if value.strip() == AUTO:
        return None
    try:
        start = float(value)
    except ValueError as exc:
        raise InvalidRequest(reason("http.invalid_request", fields="excerpt")) from exc
    if not start >= 0:
        raise InvalidRequest(reason("http.invalid_request", fields="excerpt"))
    return start


def make(root: Path, upload: Upload, asked: str) -> tuple[Upload, float]:
    """Turn a stored upload into its excerpt (the original kept aside): the excerpt's upload and start."""
    start = parse_start(asked)
    kept = storage.resolve(root, original_key(upload.job_id, upload.key))
    os.replace(upload.path, kept)
    try:
        if start is None:
            start = excerpt.busiest(excerpt.packets(kept))
        excerpt.cut(kept, start, upload.path)
    except MediaError as exc:
        raise InvalidRequest(reason("media.damaged")) from exc
    size = upload.path.stat().st_size
    return Upload(upload.job_id, upload.filename, upload.key, upload.path, size, dict(upload.fields)), start
