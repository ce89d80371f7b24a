"""Resumable uploads over tus 1.0.0 (/api/uploads): resumed after a restart, checked, expiring."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect

from backend.app import create_app
from backend.intake import resumable
from backend.settings import Settings
from tests.fixtures.api import job_dirs, problem
from tests.fixtures.tus import TUS, metadata, patch, start


def uploads_left(settings: Settings) -> list[str]:
    folder = settings.STORAGE_ROOT / "uploads"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def test_an_upload_resumes_after_a_restart_and_becomes_a_job(settings: Settings, clip: Path) -> None:
    data = clip.read_bytes()
    half = len(data) // 2
    with TestClient(create_app(settings, broker=False)) as client:
        found = client.options("/api/uploads")
        assert found.status_code == 204
        assert (found.headers["Tus-Version"], found.headers["Tus-Extension"]) == (
            "1.0.0",
            "creation,termination",
        )
        assert client.get("/api/config").json()["upload_url"] == "/api/uploads"
        url = start(client, len(data), filename="holiday.mp4", model="realesrgan-x4plus", height="720")
        assert client.head(url, headers=TUS).headers["Upload-Offset"] == "0"
        first = patch(client, url, 0, data[:half])
        assert first.status_code == 204, first.text
        assert first.headers["Upload-Offset"] == str(half)
        # A part that does not start where the stored bytes end is refused, with the server's offset.
        body = problem(patch(client, url, 0, data[:10]), 409, "http.upload_offset")
        assert body["params"] == {"offset": half, "sent": 0}
        cookies = dict(client.cookies)
    # A fresh backend (a restart) over the same storage knows the offset and takes the rest.
    with TestClient(create_app(settings, broker=False), cookies=cookies) as client:
        head = client.head(url, headers=TUS)
        assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == (str(half), str(len(data)))
        assert head.headers["Cache-Control"] == "no-store"
        done = patch(client, url, half, data[half:])
        assert done.status_code == 204, done.text
        assert done.headers["Upload-Offset"] == str(len(data))
        job = client.get(f"/api/jobs/{done.headers['Upload-Job']}").json()
        assert (job["filename"], job["status"], job["model"], job["height"]) == (
            "holiday.mp4",
            "queued",
            "realesrgan-x4plus",
            720,
        )
        assert client.get(f"/api/jobs/{job['id']}/source").content == data
        assert client.head(url, headers=TUS).status_code == 404
    assert uploads_left(settings) == []


def test_refused_before_any_byte_and_terminated(client: TestClient, settings: Settings, clip: Path) -> None:
    headers = {
        **TUS,
        "Upload-Length": str(settings.MAX_UPLOAD_BYTES + 1),
        "Upload-Metadata": metadata(filename="a.mp4"),
    }
    problem(client.post("/api/uploads", headers=headers), 413, "http.too_large")
    headers = {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(filename="notes.txt")}
    problem(client.post("/api/uploads", headers=headers), 415, "http.extension_refused")
    headers = {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(filename="a.mp4", scale="7")}
    problem(client.post("/api/uploads", headers=headers), 422, "options.")
    assert uploads_left(settings) == []
    url = start(client, 100, filename="a.mp4")
    # Another creator cannot see, feed or end it.
    other = TestClient(client.app)
    assert other.head(url, headers=TUS).status_code == 404
    problem(patch(other, url, 0, b"x"), 404, "http.not_found")
    assert client.delete(url, headers=TUS).status_code == 204
    assert client.head(url, headers=TUS).status_code == 404
    assert uploads_left(settings) == []


def test_a_damaged_video_is_refused_at_the_last_byte_and_leaves_nothing(
    client: TestClient, settings: Settings
) -> None:
    data = b"not a video at all\n" * 50
    url = start(client, len(data), filename="broken.mp4")
    problem(patch(client, url, 0, data), 415)
    assert uploads_left(settings) == [] and job_dirs(settings) == []


def test_a_dropped_connection_keeps_the_bytes_and_old_uploads_expire(settings: Settings) -> None:
    root = settings.STORAGE_ROOT
    partial = resumable.create(root, "anon-x", 1000, {"filename": "a.mp4"}, 10_000)

    async def cut() -> AsyncIterator[bytes]:
        yield b"a" * 300
        raise ClientDisconnect()

    assert asyncio.run(resumable.append(root, partial, 0, cut())) == 300
    assert resumable.load(root, partial.id, "anon-x").offset(root) == 300
    fresh = resumable.create(root, "anon-x", 1000, {"filename": "b.mp4"}, 10_000)
    old = time.time() - 7200
    for path in partial.folder(root).iterdir():
        os.utime(path, (old, old))
    removed = resumable.expired(root, 3600)
    assert removed.files == 2 and removed.bytes > 300  # the data and its info.json
    assert uploads_left(settings) == [fresh.id]
