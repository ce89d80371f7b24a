"""Issue 7 acceptance through the queue: audio description with the upscaling job, and on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from contract import storage
from devops.local import Stack
from tests.fixtures.e2e import clip, upload, wait_job
from tests.fixtures.media import ffprobe

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


def _download(api: httpx.Client, url: str, path: Path) -> dict[str, list[dict[str, Any]]]:
    response = api.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    path.write_bytes(response.content)
    streams: dict[str, list[dict[str, Any]]] = {}
    for stream in ffprobe(path)["streams"]:
        streams.setdefault(stream["codec_type"], []).append(stream)
    return streams


def _titled(folder: Path) -> Path:
    """A clip with a caption the description reads (testsrc2 alone honestly has nothing to describe)."""
    return clip(folder, "titled.mp4", size="176x144", title="Новости")


def _vtt(api: httpx.Client, job: dict[str, Any]) -> str:
    assert job["vtt_url"] == f"/api/jobs/{job['id']}/vtt"
    response = api.get(job["vtt_url"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/vtt")
    return response.content.decode("utf-8")


def test_upload_with_describe_ru_upscales_and_adds_a_flagged_track(
    stack: Stack, api: httpx.Client, e2e_clips: Path, tmp_path: Path
) -> None:
    job = upload(api, _titled(e2e_clips), scale="2", describe="ru")
    assert (job["describe"], job["upscale"], job["vtt_url"]) == ("ru", True, None)
    done = wait_job(api, job["id"], timeout=180)
    assert done["status"] == "done", done["error"]
    assert done["output"] == {"width": 352, "height": 288, "frames": 50} and done["progress"] == 1
    streams = _download(api, done["result_url"], tmp_path / "result.mp4")
    video, audio = streams["video"][0], streams["audio"]
    assert (video["width"], video["height"]) == (352, 288), "the described video is the upscaled one"
    assert len(audio) == 2, "original soundtrack plus the description track"
    assert audio[0]["disposition"]["visual_impaired"] == 0
    assert audio[1]["disposition"]["visual_impaired"] == 1 and audio[1]["disposition"]["descriptions"] == 1
    assert audio[1]["tags"]["language"] == "rus"
    vtt = _vtt(api, done)
    assert vtt.startswith("WEBVTT") and "Новости" in vtt, vtt
    folder = storage.resolve(stack.storage_root, storage.job_dir(job["id"]))
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "no temporaries left"


def test_describe_only_keeps_the_video_and_adds_the_track(
    stack: Stack, api: httpx.Client, e2e_clips: Path, tmp_path: Path
) -> None:
    job = upload(api, _titled(e2e_clips), upscale="false", describe="en")
    done = wait_job(api, job["id"], timeout=120)
    assert done["status"] == "done", done["error"]
    assert done["output"] == {"width": 176, "height": 144, "frames": 50}
    streams = _download(api, done["result_url"], tmp_path / "described.mp4")
    assert (streams["video"][0]["width"], streams["video"][0]["height"]) == (176, 144)
    assert [a["tags"]["language"] for a in streams["audio"]] == ["eng", "eng"]
    assert streams["audio"][1]["disposition"]["descriptions"] == 1
    vtt = _vtt(api, done)
    assert vtt.startswith("WEBVTT") and "Новости" in vtt, vtt
