"""Pieces of ``bench.gpu``: a clip made with PyAV alone, its MediaInfo without ffprobe, a budget, the record.

Nothing here needs an ffmpeg or ffprobe binary: a lent GPU machine has neither (the mux step gets the
kit's static ffmpeg through ``FFMPEG_BINARY``).
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from contract.mediainfo import MediaInfo

RATE = 25
E2E_MODELS = ("realesr-animevideov3-x4", "realesrgan-x4plus")
SIZES = {"480p": (854, 480), "720p": (1280, 720)}


def testsrc2(width: int, height: int, count: int) -> npt.NDArray[np.uint8]:
    """``count`` RGB frames of ffmpeg's testsrc2 pattern (moving shapes and text), through PyAV's lavfi."""
    with av.open(f"testsrc2=size={width}x{height}:rate={RATE}", format="lavfi") as source:
        frames = []
        for frame in source.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return np.stack(frames)


def make_clip(path: Path, width: int, height: int, count: int) -> Path:
    """An H.264 MP4 of ``count`` testsrc2 frames (no audio), encoded in-process."""
    frames = testsrc2(width, height, count)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream: Any = container.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast", "crf": "18"}
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def media_info(path: Path) -> MediaInfo:
    """The clip's MediaInfo read with PyAV (what ffprobe would report for this simple clip)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        frames = stream.frames or sum(1 for _ in container.demux(stream))
        fps = Fraction(stream.average_rate or RATE)
        return MediaInfo(
            width=ctx.width,
            height=ctx.height,
            frame_width=ctx.width,
            frame_height=ctx.height,
            rotation=0,
            fps=fps,
            time_base=Fraction(stream.time_base or Fraction(1, 12800)),
            duration_s=float(frames / fps),
            frames=frames,
            frames_exact=True,
            audio_streams=0,
            subtitle_streams=0,
            pix_fmt="yuv420p",
            color_range=None,
            color_space=None,
            color_primaries=None,
            color_transfer=None,
            format_name="mov,mp4,m4a,3gp,3g2,mj2",
            video_codec="h264",
        )


class Budget:
    """A wall-clock allowance; later (less valuable) steps are skipped when it runs out."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds still allowed."""
        return self.deadline - time.monotonic()

    def allows(self, estimate_s: float) -> bool:
        """Whether a step expected to take ``estimate_s`` fits in what is left."""
        return self.left() > estimate_s


class Record:
    """Rows saved to ``<out>/gpu.json`` one by one (a cut-short run keeps them) and printed."""

    def __init__(self, out: Path | None, meta: dict[str, Any]) -> None:
        self.path = out / "gpu.json" if out is not None else None
        self.data: dict[str, Any] = {"meta": meta, "rows": [], "skipped": [], "complete": False}
        self._lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.save()

    def save(self) -> None:
        """Write the JSON (through a temporary name, so a reader never sees half a file)."""
        if self.path is None:
            return
        partial = self.path.with_name(f".{self.path.name}.tmp")
        partial.write_text(json.dumps(self.data, indent=2) + "\n")
        os.replace(partial, self.path)

    def row(self, section: str, **values: Any) -> None:
        """Add one measured row, save and print it."""
        with self._lock:
            self.data["rows"].append({"section": section, **values})
            self.save()
        print(f"{section:>8} | " + " | ".join(f"{key}={value}" for key, value in values.items()), flush=True)

    def skip(self, what: str, why: str) -> None:
        """Note a step that did not run."""
        with self._lock:
            self.data["skipped"].append({"what": what, "why": why})
            self.save()
        print(f"    skip | {what}: {why}", flush=True)

    def finish(self) -> None:
        """Mark the run complete."""
        self.data["complete"] = True
        self.data["meta"]["finished"] = now()
        self.save()


def now() -> str:
    """UTC time, to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def union_share(spans: Sequence[tuple[float, float]], wall: float) -> float:
    """Share of ``wall`` covered by at least one of the (start, end) spans."""
    covered, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            covered += end - max(start, reach)
            reach = end
    return round(min(1.0, covered / wall), 3) if wall > 0 else 0.0


def loop_for(seconds: float, threads: int, work: Callable[[], int]) -> float:
    """Items per second of ``work`` (returns items done) run back to back on ``threads`` threads."""
    deadline, counts, errors = time.perf_counter() + seconds, [0] * threads, []

    def worker(slot: int) -> None:
        try:
            while time.perf_counter() < deadline:
                counts[slot] += work()
        except Exception as exc:  # re-raised below: a thread's failure (out of memory) is the caller's
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(slot,)) for slot in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts) / (time.perf_counter() - started)


def cpu_name() -> str:
    """The CPU's model name."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"
