"""Resumable uploads under chaos on two replicas sharing PostgreSQL (issue 27).

4 owners × 5 tus uploads at once, each resumed over random replicas with random disconnects, two PATCHes
racing on each: every upload ends as one whole job or as nothing, each owner's stored bytes hold to the
byte within the storage quota, and no file or folder is left without a job or an upload record.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from backend.intake.locks import lease_name
from tests.fixtures.replicas import Replicas, replicas

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TUS = {"Tus-Resumable": "1.0.0"}
OWNERS, UPLOADS = 4, 5
#: Each upload gets this many PATCH attempts at most: the test ends by itself.
MAX_STEPS = 80
SEED = 27


class Dropped(Exception):
    """Raised by a body generator: the client vanishes mid-PATCH."""


@dataclass
class Outcome:
    """How one upload ended: its job, or the refusal (or termination) that left nothing."""

    owner: int
    job_id: str | None = None
    refused: int | None = None
    terminated: bool = False
    #: The statuses of the two racing PATCHes, and how many PATCHes were cut mid-body.
    race: tuple[int, ...] = ()
    drops: int = 0


def _patch(client: httpx.Client, url: str, offset: int, data: bytes, drop_after: int | None) -> int | None:
    """Send ``data`` at ``offset``; cut the connection after ``drop_after`` bytes. The status, or None."""
    headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}

    def body() -> Iterator[bytes]:
        if drop_after is None:
            yield data
            return
        yield data[:drop_after]
        raise Dropped

    if drop_after is None:
        try:
            reply = client.patch(url, headers=headers, content=data, timeout=60)
        except httpx.TransportError:
            return None
        return reply.status_code if "Upload-Job" not in reply.headers else -1
    try:
        client.patch(url, headers={**headers, "Content-Length": str(len(data))}, content=body(), timeout=60)
    except (Dropped, httpx.TransportError):
        return None
    return None


def _offset(client: httpx.Client, url: str) -> int | None:
    reply = client.head(url, headers=TUS, timeout=30)
    return int(reply.headers["Upload-Offset"]) if reply.status_code == 200 else None


def _one_upload(served: Replicas, cookies: dict[str, str], data: bytes, owner: int, index: int) -> Outcome:
    rng = random.Random(SEED * 100 + owner * 10 + index)
    outcome = Outcome(owner)
    with httpx.Client(cookies=cookies, timeout=60) as client:
        base = rng.choice(served.urls)
        name = base64.b64encode(f"o{owner}-{index}.mp4".encode()).decode()
        made = client.post(
            f"{base}/api/uploads",
            headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": f"filename {name}"},
        )
        if made.status_code != 201:
            outcome.refused = made.status_code
            return outcome
        path = made.headers["Location"]
        raced = False
        for _step in range(MAX_STEPS):
            url = rng.choice(served.urls) + path
            at = _offset(client, url)
            if at is None:  # finished by the racing PATCH, whose reply named the job
                break
            chunk = data[at : at + rng.randint(len(data) // 6, len(data) // 2)]
            if not raced:
                raced = True  # two PATCHes at once at the same offset, one on each replica
                found = _race(client, served, path, at, chunk)
                outcome.race = tuple(sorted(status for status, _job in found))
                outcome.job_id = next((job for _status, job in found if job), None)
                if outcome.job_id:
                    break
                continue
            if owner == 0 and index == 0 and at > len(data) // 3:
                assert client.delete(url, headers=TUS).status_code == 204  # given up: nothing stays
                outcome.terminated = True
                break
            drop = rng.randint(1, len(chunk) - 1) if len(chunk) > 1 and rng.random() < 0.3 else None
            if drop is not None:
                _patch(client, url, at, chunk, drop)
                outcome.drops += 1
                continue
            outcome.job_id = _job_of(client, url, at, chunk)
            if outcome.job_id:
                break
            time.sleep(0.05 * rng.random())
        else:
            pytest.fail(f"upload {owner}/{index} did not end in {MAX_STEPS} steps")
    return outcome


def _job_of(client: httpx.Client, url: str, at: int, chunk: bytes) -> str | None:
    """PATCH ``chunk`` at ``at``: the job it made, or None (more to send, another writer, a stale offset)."""
    return _send(client, url, at, chunk)[1]


def _send(client: httpx.Client, url: str, at: int, chunk: bytes) -> tuple[int, str | None]:
    """PATCH ``chunk`` at ``at``: the status (0: the connection failed) and the job it made, if any."""
    headers = {**TUS, "Upload-Offset": str(at), "Content-Type": "application/offset+octet-stream"}
    try:
        reply = client.patch(url, headers=headers, content=chunk, timeout=60)
    except httpx.TransportError:
        return 0, None
    assert reply.status_code in (204, 404, 409, 423), reply.text  # never a 5xx, never media.damaged
    return reply.status_code, reply.headers.get("Upload-Job")


def _race(
    client: httpx.Client, served: Replicas, path: str, at: int, chunk: bytes
) -> list[tuple[int, str | None]]:
    """A sends ``chunk`` to replica 0 and pauses mid-body; once A holds the lease, B sends it to replica 1.

    The overlap is made, not hoped for: B's PATCH goes out only when the lease row is in the shared database,
    and A's last bytes only once B has its answer.
    """
    second: list[tuple[int, str | None]] = []
    lease = lease_name(path.rsplit("/", 1)[1])

    def body() -> Iterator[bytes]:
        yield chunk[:1]
        _wait_for_lease(served.database_url, lease)
        with httpx.Client(cookies=client.cookies, timeout=60) as other:
            second.append(_send(other, served.urls[1] + path, at, chunk))
        yield chunk[1:]

    headers = {
        **TUS, "Upload-Offset": str(at), "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(len(chunk)),
    }
    reply = client.patch(served.urls[0] + path, headers=headers, content=body(), timeout=60)
    assert reply.status_code in (204, 409, 423), reply.text
    return [(reply.status_code, reply.headers.get("Upload-Job")), *second]


def _wait_for_lease(database_url: str, name: str) -> None:
    """Return once the lease ``name`` is held (at most 30 s)."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                held = connection.execute(
                    sqlalchemy.text("SELECT 1 FROM leases WHERE name = :name"), {"name": name}
                ).first()
            if held:
                return
            time.sleep(0.02)
        pytest.fail(f"the writer lease {name} was never taken")
    finally:
        engine.dispose()


def _owner_cookies(base: str) -> dict[str, str]:
    with httpx.Client(timeout=30) as client:
        assert client.get(f"{base}/api/usage").status_code == 200
        return dict(client.cookies)


def test_parallel_resumable_uploads_with_disconnects_and_races_end_whole_or_not_at_all(
    tmp_path: Path, postgres_url: str, chaos_clip: Path
) -> None:
    data = chaos_clip.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    quota = 3 * len(data) + len(data) // 2  # room for 3 whole uploads of each owner's 5
    env = {
        "QUOTA_STORAGE_BYTES": str(quota), "QUOTA_UPLOADS_PER_HOUR": "5",
        "QUOTA_ACTIVE_JOBS": "0", "QUOTA_ADDRESS_UPLOADS_PER_HOUR": "0",
    }
    with replicas(tmp_path, postgres_url, 2, **env) as served:
        owners = [_owner_cookies(served.urls[n % 2]) for n in range(OWNERS)]
        start = threading.Barrier(OWNERS * UPLOADS, timeout=60)

        def run(slot: int) -> Outcome:
            owner, index = divmod(slot, UPLOADS)
            start.wait()
            return _one_upload(served, owners[owner], data, owner, index)

        with ThreadPoolExecutor(OWNERS * UPLOADS) as pool:
            outcomes = list(pool.map(run, range(OWNERS * UPLOADS)))

        jobs = [o.job_id for o in outcomes if o.job_id]
        assert len(jobs) == len(set(jobs)), "one upload made two jobs"
        for outcome in outcomes:
            assert outcome.job_id or outcome.refused in (429, 507) or outcome.terminated, outcome
            if outcome.refused is None:
                # Both racers sent the same bytes at the same offset: the one holding the upload wrote, the
                # other was turned away with 423 while the first held it.
                assert outcome.race == (204, 423), outcome
        created = [o for o in outcomes if o.refused is None]
        assert sum(o.drops for o in created) >= 1, "no connection was ever cut"
        jobs_root = served.storage / "jobs"
        folders = {p.name for p in jobs_root.iterdir()} if jobs_root.is_dir() else set()
        assert folders == set(jobs), "a job folder without a job, or a job without its folder"
        for owner, cookies in enumerate(owners):
            mine = [o.job_id for o in outcomes if o.owner == owner and o.job_id]
            with httpx.Client(cookies=cookies, timeout=30) as client:
                for job_id in mine:
                    job = client.get(f"{served.urls[owner % 2]}/api/jobs/{job_id}").json()
                    assert job["status"] == "queued", job
                    stored = list((jobs_root / job_id).iterdir())
                    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in stored] == [digest]
                usage = client.get(f"{served.urls[1 - owner % 2]}/api/usage").json()
            assert usage["reserved_bytes"] == 0, usage  # every reservation released
            assert usage["stored_bytes"] == len(mine) * len(data) <= quota, usage  # to the byte
            assert mine, f"owner {owner} got no job at all"
        uploads_root = served.storage / "uploads"
        assert not uploads_root.is_dir() or not list(uploads_root.iterdir()), "an upload left behind"
