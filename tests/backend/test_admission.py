"""Admission at every door, on real ``python -m backend`` replicas (real uvicorn) sharing PostgreSQL.

Resumable uploads count against the storage quota and the hour from their creation; parallel uploads on
two replicas never pass a quota together; one writer per tus upload; a quota refusal at the last byte
keeps the upload; the client address comes from TRUSTED_PROXIES alone, in the quotas and the access log.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.fixtures.api import problem
from tests.fixtures.replicas import Replicas, replicas

TUS = {"Tus-Resumable": "1.0.0"}
OFF = {"QUOTA_ACTIVE_JOBS": "0", "QUOTA_UPLOADS_PER_HOUR": "0", "QUOTA_ADDRESS_UPLOADS_PER_HOUR": "0"}
MB = 1_000_000

pytestmark = pytest.mark.postgres


def metadata(filename: str = "clip.mp4") -> str:
    return f"filename {base64.b64encode(filename.encode()).decode()}"


def create(client: httpx.Client, base: str, length: int) -> httpx.Response:
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata()}
    return client.post(f"{base}/api/uploads", headers=headers)


def patch(client: httpx.Client, url: str, offset: int, body: object) -> httpx.Response:
    headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    return client.patch(url, headers=headers, content=body, timeout=60)  # type: ignore[arg-type]


def owner(base: str) -> httpx.Client:
    """A client with a fresh anonymous owner (its cookie works on every replica: one SECRET_KEY)."""
    client = httpx.Client(timeout=30)
    assert client.get(f"{base}/api/usage").status_code == 200
    return client


def usage(client: httpx.Client, base: str) -> dict:
    reply = client.get(f"{base}/api/usage")
    assert reply.status_code == 200, reply.text
    body: dict = reply.json()
    return body


def job_folders(served: Replicas) -> list[str]:
    folder = served.storage / "jobs"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def upload_folders(served: Replicas) -> list[str]:
    folder = served.storage / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@contextmanager
def two(tmp_path: Path, database_url: str, **env: str) -> Iterator[Replicas]:
    """Two replicas on one PostgreSQL database, every quota off but those in ``env``."""
    with replicas(tmp_path, database_url, 2, **{**OFF, **env}) as served:
        yield served


def test_tus_uploads_reserve_their_length_and_count_in_the_hour_on_every_replica(
    tmp_path: Path, postgres_url: str
) -> None:
    with two(tmp_path, postgres_url, QUOTA_STORAGE_BYTES=str(20 * MB), QUOTA_UPLOADS_PER_HOUR="3") as served:
        _reserve_and_count(served)


def _reserve_and_count(served: Replicas) -> None:
    a, b = served.urls
    client = owner(a)
    first = create(client, a, 15 * MB)
    assert first.status_code == 201, first.text
    url = a + first.headers["Location"]
    assert patch(client, url, 0, b"\0" * MB).status_code == 204
    seen = usage(client, b)  # the other replica sees the promise
    assert seen["stored_bytes"] == 15 * MB and seen["reserved_bytes"] == 15 * MB
    # 15 MB promised + 15 MB more > 20 MB: refused before any byte, on the other replica.
    body = problem(create(client, b, 15 * MB), 507, "quota.storage")
    assert body["params"] == {"used_bytes": 15 * MB, "limit_bytes": 20 * MB}
    problem(create(client, b, 21 * MB), 413, "quota.upload_over_quota")
    assert create(client, b, 5 * MB).status_code == 201  # exactly to the byte
    problem(create(client, a, 1), 507, "quota.storage")
    # Terminating an upload releases its reservation at once (its creation still counts in the hour).
    assert client.delete(url, headers=TUS).status_code == 204
    assert usage(client, a)["reserved_bytes"] == 5 * MB
    assert create(client, a, MB).status_code == 201  # the third creation of the hour
    problem(create(client, b, MB), 429, "quota.uploads_per_hour")
    assert len(upload_folders(served)) == 2


def _multipart(data: bytes, boundary: str = "vsrboundary") -> tuple[bytes, bytes, str]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    half = len(data) // 2
    return head + data[:half], data[half:] + tail, f"multipart/form-data; boundary={boundary}"


def test_parallel_multipart_uploads_on_two_replicas_cannot_pass_the_storage_quota(
    tmp_path: Path, postgres_url: str, clip: Path
) -> None:
    data = clip.read_bytes()
    quota = int(len(data) * 2.5)
    env = {"QUOTA_STORAGE_BYTES": str(quota)}
    with two(tmp_path, postgres_url, **env) as served:
        client = owner(served.urls[0])
        cookies = dict(client.cookies)
        first, rest, kind = _multipart(data)
        together = threading.Barrier(4, timeout=30)

        def body() -> Iterator[bytes]:
            yield first
            together.wait()  # every upload has begun before any ends: the old check saw 0 bytes for all
            yield rest

        def send(index: int) -> httpx.Response:
            headers = {"Content-Type": kind, "Content-Length": str(len(first) + len(rest))}
            base = served.urls[index % 2]
            with httpx.Client(cookies=cookies, timeout=60) as one:
                return one.post(f"{base}/api/jobs", headers=headers, content=body())

        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(send, range(4)))
        codes = sorted(reply.status_code for reply in replies)
        assert codes.count(201) >= 1 and 507 in codes, [reply.text for reply in replies]
        for reply in replies:
            if reply.status_code != 201:
                problem(reply, 507, "quota.storage")
        seen = usage(client, served.urls[1])
        assert seen["stored_bytes"] <= quota and seen["reserved_bytes"] == 0
        assert len(job_folders(served)) == codes.count(201)  # the refused left nothing


def test_two_patches_at_once_one_writer_and_one_whole_job(
    tmp_path: Path, postgres_url: str, clip: Path
) -> None:
    with two(tmp_path, postgres_url) as served:
        _race(served, clip)


def _race(served: Replicas, clip: Path) -> None:
    a, b = served.urls
    data = clip.read_bytes()
    client = owner(a)
    made = create(client, a, len(data))
    assert made.status_code == 201
    url_a, url_b = a + made.headers["Location"], b + made.headers["Location"]
    half = len(data) // 2
    go_on = threading.Event()

    def slow() -> Iterator[bytes]:
        yield data[:half]
        go_on.wait(30)
        yield data[half:]

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(patch, client, url_a, 0, slow())
        deadline = time.monotonic() + 30
        while int(client.head(url_b, headers=TUS).headers["Upload-Offset"]) < half:
            assert time.monotonic() < deadline, "the first PATCH wrote nothing"
            time.sleep(0.05)
        began = time.monotonic()
        # The second PATCH starts exactly where the bytes end: only the lock tells it apart.
        second = patch(client, url_b, half, data[half:])
        assert time.monotonic() - began < 5
        problem(second, 423, "http.upload_busy")
        go_on.set()
        done = first.result(60)
    assert done.status_code == 204, done.text
    job_id = done.headers["Upload-Job"]
    job = client.get(f"{b}/api/jobs/{job_id}")
    assert job.status_code == 200 and job.json()["status"] == "queued"
    assert client.head(url_b, headers=TUS).status_code == 404
    assert job_folders(served) == [job_id] and upload_folders(served) == []
    assert usage(client, b)["reserved_bytes"] == 0


def test_a_quota_refusal_at_the_last_byte_keeps_the_upload_until_a_slot_is_free(
    tmp_path: Path, postgres_url: str, clip: Path
) -> None:
    with two(tmp_path, postgres_url, QUOTA_ACTIVE_JOBS="1") as served:
        _kept(served, clip)


def _kept(served: Replicas, clip: Path) -> None:
    a, b = served.urls
    data = clip.read_bytes()
    client = owner(a)
    made = create(client, a, len(data))
    assert made.status_code == 201
    url = b + made.headers["Location"]
    with clip.open("rb") as handle:
        other = client.post(f"{a}/api/jobs", files={"file": ("other.mp4", handle, "video/mp4")})
    assert other.status_code == 201, other.text
    refused = patch(client, url, 0, data)
    problem(refused, 429, "quota.upload_kept")
    # Every byte is kept: nothing to send again.
    assert client.head(url, headers=TUS).headers.get("Upload-Offset") == str(len(data))
    assert refused.headers["Upload-Offset"] == str(len(data))
    assert client.delete(f"{a}/api/jobs/{other.json()['id']}").status_code == 200  # cancelled: a slot
    done = patch(client, url, len(data), b"")
    assert done.status_code == 204, done.text
    assert client.get(f"{a}/api/jobs/{done.headers['Upload-Job']}").json()["status"] == "queued"
    assert upload_folders(served) == []


@pytest.mark.parametrize("trusted", ["", "127.0.0.1/32"])
def test_the_client_address_comes_from_trusted_proxies_only(
    tmp_path: Path, postgres_url: str, trusted: str
) -> None:
    env = {**OFF, "QUOTA_ADDRESS_UPLOADS_PER_HOUR": "2", "TRUSTED_PROXIES": trusted}
    with replicas(tmp_path, postgres_url, 1, **env) as served:
        base = served.urls[0]

        def creation(forwarded: str) -> httpx.Response:
            # A fresh cookie each time: a new anonymous owner, as an attacker would make.
            with httpx.Client(timeout=30) as one:
                return create_with(one, base, {"X-Forwarded-For": forwarded})

        replies = [creation(f"198.51.100.{n}") for n in (1, 2, 3)]
        if trusted:
            assert [r.status_code for r in replies] == [201, 201, 201]
            spoofed = creation("203.0.113.9, 198.51.100.1")  # the client's own entry is not believed
            assert spoofed.status_code == 201
            problem(creation("203.0.113.9, 198.51.100.1"), 429, "quota.address_uploads_per_hour")
        else:
            assert [r.status_code for r in replies[:2]] == [201, 201]
            problem(replies[2], 429, "quota.address_uploads_per_hour")
        served.processes[0].terminate()
        served.processes[0].wait(15)
        lines = [line for line in served.log_text().splitlines() if "/api/uploads" in line]
        assert len(lines) >= 3, served.log_text()[-2000:]
        if trusted:
            assert all("198.51.100." in line for line in lines), lines
        else:
            assert all("127.0.0.1" in line and "198.51.100" not in line for line in lines), lines


def create_with(client: httpx.Client, base: str, headers: dict[str, str]) -> httpx.Response:
    extra = {**TUS, "Upload-Length": "1000", "Upload-Metadata": metadata(), **headers}
    return client.post(f"{base}/api/uploads", headers=extra)
