"""Where one run of a job reads and writes: per-run temporaries, renamed into place only on success."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from contract import storage
from contract.messages import JobMessage


@dataclass(frozen=True)
class JobFiles:
    """A job's files under the storage root; outputs go to this run's temporaries until ``commit``."""

    input: Path
    output: Path
    vtt: Path
    previews: tuple[Path, Path]
    cancel_marker: Path
    token: str = field(default_factory=lambda: secrets.token_hex(6))

    @classmethod
    def for_job(cls, root: Path, job: JobMessage) -> JobFiles:
        """Resolve a job's keys under ``root``; raises UnsafeKeyError for escaping keys."""
        return cls(
            input=storage.resolve(root, job.input_key),
            output=storage.resolve(root, job.output_key),
            vtt=storage.resolve(root, storage.vtt_key(job.job_id)),
            previews=(
                storage.resolve(root, storage.preview_key(job.job_id, "before")),
                storage.resolve(root, storage.preview_key(job.job_id, "after")),
            ),
            cancel_marker=storage.resolve(root, storage.cancel_marker_key(job.job_id)),
        )

    def partial(self, path: Path) -> Path:
        """This run's temporary for ``path`` (keeps the suffix so the muxer picks the format)."""
        return path.with_name(f".{path.stem}.{self.token}.part{path.suffix}")

    @property
    def intermediate(self) -> Path:
        """This run's upscaled video when a description stage follows (never committed)."""
        return self.partial(self.output.with_name("upscaled.mp4"))

    def commit(self, vtt: Path | None = None) -> None:
        """Rename this run's outputs into place (``vtt``: the temporary WebVTT the run wrote).

        A redelivered job simply overwrites the same files; the video goes last, so a reader that
        sees it also sees its previews and WebVTT.
        """
        if vtt is not None and vtt.exists():
            os.replace(vtt, self.vtt)
        for final in (*self.previews, self.output):
            tmp = self.partial(final)
            if tmp.exists():
                os.replace(tmp, final)
        self.discard_stale()

    def discard_stale(self) -> None:
        """Remove partial files of this job, including those left by a killed earlier run."""
        for tmp in self.output.parent.glob(".*.part.*"):
            tmp.unlink(missing_ok=True)
