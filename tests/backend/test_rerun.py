"""POST /api/jobs/{id}/rerun: the kept original again with other options, without a second upload."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from backend.settings import Settings
from contract import storage
from tests.fixtures.api import finish, job_dirs, problem
from tests.fixtures.backend import upload


def test_a_finished_job_runs_again_with_another_model_from_its_kept_original(
    client: TestClient, settings: Settings, clip: Path, jpeg: Path
) -> None:
    first = upload(client, clip, "walk.mp4", scale="2")
    finish(client, settings, first["id"], clip, jpeg)
    again = client.post(f"/api/jobs/{first['id']}/rerun", json={"model": "realesrgan-x4plus", "height": 720})
    assert again.status_code == 201, again.text
    made = again.json()
    assert made["id"] != first["id"] and made["status"] == "queued"
    assert (made["filename"], made["model"], made["height"], made["scale"]) == (
        "walk.mp4",
        "realesrgan-x4plus",
        720,
        None,
    )
    assert made["input"] == first["input"]
    # The new job owns its own input: the same bytes, in its own folder (a hard link where the volume allows).
    source = storage.resolve(settings.STORAGE_ROOT, storage.input_key(first["id"], ".mp4"))
    copy = storage.resolve(settings.STORAGE_ROOT, storage.input_key(made["id"], ".mp4"))
    assert copy.read_bytes() == source.read_bytes()
    assert os.path.samefile(copy, source)
    # Deleting the first job leaves the second one's original in place.
    assert client.delete(f"/api/jobs/{first['id']}").status_code == 204
    assert copy.is_file()
    assert client.get(f"/api/jobs/{made['id']}/source").content == clip.read_bytes()
    listed = [job["id"] for job in client.get("/api/jobs").json()]
    assert listed == [made["id"]]


def test_description_only_rerun_and_refusals(client: TestClient, settings: Settings, clip: Path) -> None:
    active = upload(client, clip, "a.mp4")
    problem(client.post(f"/api/jobs/{active['id']}/rerun", json={}), 409, "http.rerun_active")
    assert client.delete(f"/api/jobs/{active['id']}").json()["status"] == "cancelled"
    before = job_dirs(settings)
    problem(client.post(f"/api/jobs/{active['id']}/rerun", json={"upscale": False}), 422, "options.")
    problem(client.post(f"/api/jobs/{active['id']}/rerun", json={"scale": 7}), 422, "options.")
    assert job_dirs(settings) == before  # a refused re-run leaves nothing behind
    spoken = client.post(f"/api/jobs/{active['id']}/rerun", json={"upscale": False, "describe": "en"})
    assert spoken.status_code == 201, spoken.text
    assert (spoken.json()["upscale"], spoken.json()["describe"]) == (False, "en")
    # Another creator's job is not found, and a job whose original is gone says so.
    other = TestClient(client.app)
    problem(other.post(f"/api/jobs/{active['id']}/rerun", json={}), 404, "http.job_not_found")
    storage.resolve(settings.STORAGE_ROOT, storage.input_key(active["id"], ".mp4")).unlink()
    problem(client.post(f"/api/jobs/{active['id']}/rerun", json={}), 404, "http.source_gone")
