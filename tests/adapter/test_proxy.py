"""The «before» proxy: written by the task that finishes a job, only for originals Chromium cannot play."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from fractions import Fraction
from pathlib import Path

import pika
import pytest

from adapter.job import Stages, Toolbox, Work, execute
from adapter.video import pipeline
from adapter.video.stages import Progress, Result
from adapter.worker.flight import Flight, StopCheck
from adapter.worker.workspace import JobFiles
from contract import storage
from contract.messages import JobMessage, Segment
from contract.playable import browser_plays, needs_proxy, proxy_size
from tests.fixtures.creators import PROXY_OPTIONS as OPTIONS
from tests.fixtures.creators import mpeg2_ps, original
from tests.fixtures.media import ffprobe
from tests.fixtures.worker import fake_info, fake_upscaler

STAGES = Stages(run_pipeline=pipeline.run, make_upscaler=fake_upscaler)


def _ignore(_item: Progress, /) -> None:
    return None


def _video_seconds(path: Path) -> float:
    video = next(s for s in ffprobe(path)["streams"] if s["codec_type"] == "video")
    return float(video["duration"])


@pytest.mark.parametrize(
    ("suffix", "video", "audio", "muxer"),
    [
        (".mpg", ["-c:v", "mpeg2video"], ["-c:a", "mp2"], "vob"),  # MPEG-2 program stream (a DVD's)
        (".mov", ["-c:v", "prores_ks"], ["-c:a", "pcm_s16le"], "mov"),  # ProRes 4:2:2 10-bit from an editor
    ],
)
def test_a_whole_job_of_an_unplayable_original_stores_a_playable_proxy(
    tmp_path: Path, suffix: str, video: list[str], audio: list[str], muxer: str
) -> None:
    job_id = uuid.uuid4().hex
    job = JobMessage(
        job_id=job_id,
        input_key=storage.input_key(job_id, suffix),
        output_key=storage.output_key(job_id),
        options=OPTIONS,
    )
    files = JobFiles.for_job(tmp_path, job)
    files.folder.mkdir(parents=True)
    source = original(files.input, video, audio, muxer)
    stop = StopCheck(files.cancel_marker, 0.01, threading.Event())
    flight = Flight(1, b"", pika.BasicProperties(), job, 0, files, stop, threading.Event())
    flight.run(STAGES, Toolbox(STAGES), None, _ignore, guarded=False)
    assert flight.error is None, flight.error
    event = flight.done_event()
    assert event is not None and event.source_proxy_key == storage.source_proxy_key(job_id)
    proxy = storage.resolve(tmp_path, event.source_proxy_key)
    assert sorted(p.name for p in files.folder.iterdir() if p.name.startswith(".")) == []  # no temporaries
    probed = ffprobe(proxy)
    streams = {s["codec_type"]: s for s in probed["streams"]}
    assert (streams["video"]["codec_name"], streams["video"]["pix_fmt"]) == ("h264", "yuv420p")
    assert (streams["video"]["width"], streams["video"]["height"]) == (176, 144)
    assert streams["audio"]["codec_name"] == "aac"
    assert browser_plays(probed["format"]["format_name"], "h264", "yuv420p")
    assert abs(_video_seconds(proxy) - _video_seconds(source)) <= 1 / 25 + 1e-3  # within one frame
    # faststart: the index (moov) comes before the media data, so it plays while it downloads.
    head = proxy.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")


def test_an_original_the_browser_plays_gets_no_proxy(tmp_path: Path) -> None:
    job_id = uuid.uuid4().hex
    job = JobMessage(
        job_id=job_id,
        input_key=storage.input_key(job_id, ".mp4"),
        output_key=storage.output_key(job_id),
        options=OPTIONS,
    )
    files = JobFiles.for_job(tmp_path, job)
    files.folder.mkdir(parents=True)
    original(
        files.input,
        ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
        ["-c:a", "aac"],
        "mp4",
    )
    stop = StopCheck(files.cancel_marker, 0.01, threading.Event())
    flight = Flight(1, b"", pika.BasicProperties(), job, 0, files, stop, threading.Event())
    flight.run(STAGES, Toolbox(STAGES), None, _ignore, guarded=False)
    event = flight.done_event()
    assert event is not None and event.source_proxy_key is None
    assert files.proxy is not None and not files.proxy.exists()


def test_only_the_assembly_of_a_segmented_job_writes_the_proxy(tmp_path: Path) -> None:
    job_id = uuid.uuid4().hex
    source = mpeg2_ps(tmp_path / "input.mpg")
    segment = JobMessage(
        job_id=job_id,
        input_key=storage.input_key(job_id, ".mpg"),
        output_key=storage.segment_key(job_id, 0),
        segment=Segment(index=0, count=2, frames=13),
    )
    assert JobFiles.for_job(tmp_path, segment).proxy is None
    joined = Result(25, 352, 288, 0.1)
    stages = dataclasses.replace(STAGES, assemble=lambda *args, **kwargs: joined)
    proxy = tmp_path / "proxy.mp4"
    work = Work(source, tmp_path / "out.mp4", None, tmp_path / "up.mp4", OPTIONS, segments=(), proxy=proxy)
    done = execute(work, stages, Toolbox(stages), _ignore, lambda: False)
    assert done == dataclasses.replace(joined, proxy=True)
    assert next(s for s in ffprobe(proxy)["streams"] if s["codec_type"] == "video")["codec_name"] == "h264"


@pytest.mark.parametrize(
    ("format_name", "codec", "pix_fmt", "plays"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", "h264", "yuv420p", True),
        ("matroska,webm", "vp9", "yuv420p10le", True),
        ("mov,mp4,m4a,3gp,3g2,mj2", "h264", "yuv422p10le", False),  # camera H.264 4:2:2 10-bit
        ("mov,mp4,m4a,3gp,3g2,mj2", "prores", "yuv422p10le", False),
        ("mov,mp4,m4a,3gp,3g2,mj2", "h263", "yuv420p", False),  # 3GP from an old phone
        ("mpeg", "mpeg2video", "yuv420p", False),
        ("mpegts", "h264", "yuv420p", False),  # broadcast TS: Chromium has no TS demuxer
        ("avi", "mjpeg", "yuvj422p", False),
        ("avi", "dvvideo", "yuv411p", False),
        ("asf", "wmv2", "yuv420p", False),
    ],
)
def test_the_playable_rule_goes_by_container_codec_and_pixels(
    format_name: str, codec: str, pix_fmt: str, plays: bool
) -> None:
    assert browser_plays(format_name, codec, pix_fmt) is plays
    info = dataclasses.replace(fake_info(), format_name=format_name, video_codec=codec, pix_fmt=pix_fmt)
    assert needs_proxy(info) is not plays


def test_the_proxy_is_square_pixelled_at_display_size_capped_to_480_lines() -> None:
    dv = dataclasses.replace(fake_info(width=720, height=576), sar=Fraction(16, 15))
    assert proxy_size(dv) == (640, 480)  # PAL DV is 4:3 on screen
    turned = dataclasses.replace(fake_info(width=1080, height=1920), rotation=90)
    assert proxy_size(turned) == (270, 480)
    assert proxy_size(fake_info(width=176, height=144)) == (176, 144)
