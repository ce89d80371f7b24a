"""Quick test runs: the busiest seconds, the excerpt job ahead of its owner's own, then the whole video."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from backend.dispatch import fairness
from backend.intake import excerpt
from backend.settings import Settings
from contract import storage
from tests.fixtures.api import problem
from tests.fixtures.media import make_clip
from tests.fixtures.tus import TUS, patch, start


def test_the_busiest_window_is_found_from_packet_sizes() -> None:
    # 25 packets/s for 20 s; the picture is busy (big packets) between 12 and 14 s only.
    packets = [(n / 25, 9000 if 12 <= n / 25 < 14 else 500) for n in range(500)]
    begin = excerpt.busiest(packets, 5.0)
    assert 9.0 <= begin <= 12.0, begin  # the whole busy part inside [begin, begin + 5)
    assert excerpt.busiest(packets[:100], 5.0) == 0.0  # a 4 s video: from the start
    assert excerpt.busiest([], 5.0) == 0.0


def test_a_quick_run_goes_before_its_owners_whole_videos_but_not_before_others() -> None:
    now = datetime.now(UTC)
    older = fairness.Item(owner="a", job_id="1", index=-1, created_at=now - timedelta(minutes=5))
    quick = fairness.Item(owner="a", job_id="2", index=-1, created_at=now, quick=True)
    other = fairness.Item(owner="b", job_id="3", index=-1, created_at=now - timedelta(minutes=9))
    ordered = fairness.order([older, quick, other], served={"a": [now - timedelta(hours=1)]})
    # b, never served, keeps its turn first; within a's line the quick run jumps its older whole video.
    assert [item.job_id for item in ordered] == ["3", "2", "1"]


def test_an_excerpt_then_the_whole_video_without_a_second_upload(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "long.mp4", seconds=12.0)
    data = clip.read_bytes()
    url = start(client, len(data), filename="long.mp4", excerpt="auto", model="realesrgan-x4plus", scale="2")
    done = patch(client, url, 0, data)
    assert done.status_code == 204, done.text
    test = client.get(f"/api/jobs/{done.headers['Upload-Job']}").json()
    assert test["excerpt_start"] is not None and 0 <= test["excerpt_start"] <= 7.0
    assert 4.5 <= test["input"]["duration_s"] <= 5.5, test["input"]
    kept = storage.resolve(settings.STORAGE_ROOT, f"jobs/{test['id']}/original.mp4")
    assert kept.read_bytes() == data
    # «Обработать всё»: the same settings on the whole original, while the test is still queued.
    whole = client.post(
        f"/api/jobs/{test['id']}/rerun", json={"whole": True, "model": "realesrgan-x4plus", "scale": 2}
    )
    assert whole.status_code == 201, whole.text
    made = whole.json()
    assert made["excerpt_start"] is None and made["input"]["duration_s"] >= 11.5
    assert (made["model"], made["scale"]) == ("realesrgan-x4plus", 2)
    # A whole run asked of a job that is no quick test, or a bad excerpt, is refused.
    problem(client.post(f"/api/jobs/{made['id']}/rerun", json={"whole": True}), 422, "http.invalid_request")
    headers = {**TUS, "Upload-Length": "10", "Upload-Metadata": "filename YS5tcDQ=,excerpt LTE="}
    problem(client.post("/api/uploads", headers=headers), 422, "options.bad_excerpt")
