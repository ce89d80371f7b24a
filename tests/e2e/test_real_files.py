"""Issue 14 acceptance: creators' real files through the queue (API upload → adapters → done → download).

The backend's probe, limits and predicted sizes must agree with what the adapters make: the job's
``output`` is the size the contract's rule gives for the probed display size, the downloaded file has it,
starts at 0, keeps every audio track, and the job says what was changed (``notes``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.depth import ramp_clip
from contract.sizing import output_size
from devops.local import Stack
from tests.fixtures.creators import broadcast_ts, interlaced, matrix_clip
from tests.fixtures.e2e import upload, wait_job
from tests.fixtures.forged import size_jump
from tests.fixtures.media import ffprobe
from tests.fixtures.subtitles import mkv_with_picture_subtitles, mkv_with_styled_subtitles

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


def _anamorphic(folder: Path) -> Path:
    path = folder / "dv.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=176x144:rate=25",
         "-t", "1", "-vf", "setsar=16/11", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


#: name → (how to make the clip in a folder, the notes the job must carry)
CLIPS: dict[str, tuple[Callable[[Path], Path], set[str]]] = {
    "anamorphic": (_anamorphic, set()),
    "tv-ts-offset": (lambda f: broadcast_ts(f / "tuner.ts"), {"note.timeline_shifted"}),
    "interlaced-ps": (
        lambda f: interlaced(f / "camcorder.vob", parity="tff", container="vob"),
        {"note.deinterlaced_field", "note.timeline_shifted"},
    ),
    "hlg-10bit": (
        lambda f: ramp_clip(f / "iphone.mp4", transfer="arib-std-b67", primaries="bt2020", matrix="bt2020nc"),
        set(),
    ),
    "size-jump": (
        lambda f: size_jump(f / "joined.ts", first="96x72", then="128x96"),
        {"note.frames_resized", "note.timeline_shifted"},
    ),
    "prores-alpha": (lambda f: matrix_clip("prores4444-alpha", f), {"note.alpha_flattened"}),
    "h263-3gp": (lambda f: matrix_clip("h263-3gp", f), set()),
    "recorder-webm": (lambda f: matrix_clip("vp9-webm-live", f), set()),
    "fansub-mkv": (lambda f: mkv_with_styled_subtitles(f / "fansub.mkv"), {"note.kept_in_mkv"}),
    "bluray-mkv": (lambda f: mkv_with_picture_subtitles(f / "bluray.mkv"), {"note.kept_in_mkv"}),
}
#: Clips whose subtitles only MKV keeps: the job writes MKV, served as such under an .mkv name.
MKV = {"fansub-mkv": "ass", "bluray-mkv": "hdmv_pgs_subtitle"}


def _video(info: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in info["streams"] if s["codec_type"] == "video")


def _audio(info: dict[str, Any]) -> int:
    return sum(1 for s in info["streams"] if s["codec_type"] == "audio")


def test_creators_files_through_the_queue(stack: Stack, api: httpx.Client, tmp_path: Path) -> None:
    sources = {name: maker(tmp_path) for name, (maker, _notes) in CLIPS.items()}
    with ThreadPoolExecutor(max_workers=4) as pool:
        created = pool.map(lambda path: upload(api, path, scale="2"), sources.values())
        jobs = dict(zip(sources, created, strict=True))
    for name, source in sources.items():
        done = wait_job(api, jobs[name]["id"], timeout=300)
        assert done["status"] == "done", (name, done["error_code"], done["error"])
        # The backend's prediction (probe + the contract's size rule) is what the adapter made.
        expected = output_size(done["input"]["width"], done["input"]["height"], scale=2)
        assert (done["output"]["width"], done["output"]["height"]) == expected, name
        result = tmp_path / f"{name}-result.mp4"
        response = api.get(done["result_url"], params={"download": "true"})
        result.write_bytes(response.content)
        container = "mkv" if name in MKV else "mp4"
        assert done["container"] == container, name
        assert response.headers["content-type"] == ("video/x-matroska" if name in MKV else "video/mp4")
        assert f'.{container}"' in response.headers["content-disposition"], name
        src, out = ffprobe(source), ffprobe(result)
        video = _video(out)
        assert (int(video["width"]), int(video["height"])) == expected, name
        assert video.get("sample_aspect_ratio", "1:1") in ("1:1", "N/A"), name
        frame = 1 / float(Fraction(video["avg_frame_rate"]))
        assert abs(float(out["format"].get("start_time", 0))) <= frame, f"{name} starts at 0"
        assert _audio(out) == _audio(src), f"{name} keeps every audio track"
        assert {note["code"] for note in done["notes"]} == CLIPS[name][1], (name, done["notes"])
    for name, codec in MKV.items():
        subtitles = [s["codec_name"] for s in ffprobe(tmp_path / f"{name}-result.mp4")["streams"]
                     if s["codec_type"] == "subtitle"]  # fmt: skip
        assert subtitles == [codec], name
    hlg = _video(ffprobe(tmp_path / "hlg-10bit-result.mp4"))
    assert (hlg["pix_fmt"], hlg["color_transfer"]) == ("yuv420p10le", "arib-std-b67")
