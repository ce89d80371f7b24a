"""The small playable «before» video of an original the browser cannot play (``contract.playable``).

Written once per job, by the task that finishes it (the whole-job task, or a segmented job's assembly),
so the page's video comparison can play the original's side. H.264 8-bit 4:2:0 in MP4 with the index
first (``faststart``: plays while it downloads), square pixels at the source's display size capped to
``PROXY_MAX_HEIGHT`` lines, the first audio stream as AAC.
"""

from __future__ import annotations

import logging
from pathlib import Path

from adapter import media
from adapter.errors import InvalidInputError
from adapter.limits import Limits
from contract import media as runner
from contract.catalogue import reason
from contract.mediainfo import MediaInfo
from contract.playable import needs_proxy, proxy_size

log = logging.getLogger(__name__)


def proxy_args(source: Path, target: Path, info: MediaInfo) -> list[runner.Arg]:
    """The ffmpeg call that writes the proxy of ``source`` (an upload: opened with the allow-lists)."""
    width, height = proxy_size(info)
    # Only frames flagged interlaced (DV, broadcast MPEG-2) are deinterlaced; the rest pass as they are.
    video = f"yadif=deint=interlaced,scale={width}:{height},setsar=1,format=yuv420p"
    return runner.ffmpeg(
        runner.UserInput(source),
        "-map", "0:v:0", "-map", "0:a:0?",
        "-vf", video,
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-profile:v", "main",
        "-c:a", "aac", "-b:a", "96k", "-ac", "2",
        "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
        "-movflags", "+faststart",
        "-f", "mp4", f"file:{target.resolve()}",
    )  # fmt: skip


def write_proxy(
    source: Path, target: Path, info: MediaInfo, limits: Limits, should_stop: runner.StopFn
) -> bool:
    """Write ``target`` if the original needs a proxy; whether one was written.

    An original ffmpeg cannot convert leaves the job without a proxy (the page then offers the original
    as it is) rather than failing a job whose result is fine; a cancel, a timeout or a full disk is raised.
    """
    if not needs_proxy(info):
        return False
    try:
        media.run(
            proxy_args(source, target, info),
            timeout_s=limits.mux_timeout_s,
            failed=reason("job.proxy_not_written"),
            should_stop=should_stop,
        )
    except InvalidInputError:
        log.warning("no playable proxy of %s: ffmpeg could not convert it", source.name, exc_info=True)
        target.unlink(missing_ok=True)
        return False
    return True
