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
    """A task's files under the storage root; outputs go to this run's temporaries until ``commit``.

    ``output`` is the finished video, or the segment file of a segment task. ``segments`` are the
    files an assembly joins. ``cancel_marker`` lives outside the job folder (``storage.cancel_key``):
    deleting the job's files cannot erase it. Building a JobFiles only resolves paths: nothing is
    created, so a task acked for its marker leaves no trace in storage. ``owns_previews`` is false for
    segment tasks other than the middle one, so they neither write nor clean up the previews another
    adapter may be writing right now.
    """

    input: Path
    output: Path
    vtt: Path
    previews: tuple[Path, Path]
    cancel_marker: Path
    segments: tuple[Path, ...] = ()
    owns_previews: bool = True
    is_part: bool = False
    #: The original's playable «before» proxy; only the task that finishes the job writes it.
    proxy: Path | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(6))

    @classmethod
    def for_job(cls, root: Path, job: JobMessage) -> JobFiles:
        """Resolve a task's keys under ``root``; raises UnsafeKeyError for escaping keys."""
        segment = job.segment
        return cls(
            input=storage.resolve(root, job.input_key),
            output=storage.resolve(root, job.output_key),
            vtt=storage.resolve(root, storage.vtt_key(job.job_id)),
            previews=(
                storage.resolve(root, storage.preview_key(job.job_id, "before")),
                storage.resolve(root, storage.preview_key(job.job_id, "after")),
            ),
            cancel_marker=storage.resolve(root, storage.cancel_key(job.job_id)),
            segments=tuple(
                storage.resolve(root, storage.segment_key(job.job_id, index))
                for index in range(job.segments or 0)
            ),
            owns_previews=job.kind == "job" or (segment is not None and segment.index == segment.count // 2),
            is_part=job.kind != "job",
            proxy=None if segment else storage.resolve(root, storage.source_proxy_key(job.job_id)),
        )

    @property
    def folder(self) -> Path:
        """The job's folder (the input's); it exists while the job does and no run ever creates it."""
        return self.input.parent

    def prepare(self) -> None:
        """Create the output's folder (a segment's ``segments/``) inside the job folder, never the job folder.

        A job deleted meanwhile has no folder: the run then fails rather than re-creating an empty one.
        """
        if self.output.parent != self.folder:
            self.output.parent.mkdir(exist_ok=True)

    def partial(self, path: Path) -> Path:
        """This run's temporary for ``path`` (keeps the suffix so the muxer picks the format)."""
        return storage.temporary(path, self.token)

    @property
    def intermediate(self) -> Path:
        """This run's upscaled video when a description stage follows (never committed)."""
        return self.partial(self.output.with_name("upscaled.mp4"))

    @property
    def finals(self) -> tuple[Path, ...]:
        """The files this task may write (each through its temporary)."""
        previews = (*(self.previews if self.owns_previews else ()), *((self.proxy,) if self.proxy else ()))
        if self.is_part:
            return (self.output, *previews)
        return (self.output, self.vtt, *previews, self.output.with_name("upscaled.mp4"))

    def commit(self, vtt: Path | None = None) -> None:
        """Rename this run's outputs into place (``vtt``: the temporary WebVTT the run wrote).

        A redelivered task simply overwrites the same files; the video goes last, so a reader that
        sees it also sees its previews and WebVTT.
        """
        if vtt is not None and vtt.exists():
            os.replace(vtt, self.vtt)
        proxy = (self.proxy,) if self.proxy else ()
        for final in (*(self.previews if self.owns_previews else ()), *proxy, self.output):
            tmp = self.partial(final)
            if tmp.exists():
                os.replace(tmp, final)
        self.discard_stale()

    def discard_stale(self) -> None:
        """Remove this task's partial files, including those left by a killed earlier run.

        Only the temporaries of this task's own files: other segments of the job may be running on
        other adapters right now, in the same folders.
        """
        for final in self.finals:
            if final.parent.is_dir():
                for tmp in storage.temporaries_of(final):
                    tmp.unlink(missing_ok=True)
