"""Animated images, the HDR option and the estimate through the upload (multipart) and re-run doors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.dispatch.outbox import task_message
from tests.fixtures.animated import DELAYS_MS, make_animation
from tests.fixtures.backend import upload


@pytest.fixture(scope="module")
def gif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_animation(tmp_path_factory.mktemp("animated") / "sticker.gif", "gif")


def test_a_gif_is_a_job_with_its_options_and_an_estimate(client: TestClient, gif: Path) -> None:
    job = upload(client, gif, "sticker.gif", container="webp", background="#FF8800", hdr="sdr")
    assert (job["container"], job["background"], job["hdr"]) == ("webp", "#ff8800", "sdr")
    assert job["frames_total"] == len(DELAYS_MS) and job["segments"] == 0
    assert job["estimate_s"] is not None and job["estimate_s"] > 0
    store = client.app.state.services.store  # type: ignore[attr-defined]
    message = task_message(store.get(job["id"]))
    assert message.output_key.endswith(".webp")
    assert (message.options.container, message.options.background, message.options.hdr) == (
        "webp",
        "#ff8800",
        "sdr",
    )
    assert message.options.deinterlace == "off"  # pictures, not fields


def test_a_gif_disguised_as_a_video_is_judged_by_its_content(
    client: TestClient, gif: Path, tmp_path: Path
) -> None:
    disguised = tmp_path / "holiday.mp4"
    shutil.copy(gif, disguised)
    job = upload(client, disguised, "holiday.mp4")
    assert job["container"] == "mp4" and job["frames_total"] == len(DELAYS_MS)


def test_a_still_picture_is_refused_with_its_code(client: TestClient, tmp_path: Path) -> None:
    still = tmp_path / "still.png"
    from PIL import Image

    Image.new("RGB", (16, 16)).save(still)
    with still.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": ("still.png", handle, "image/png")})
    assert response.status_code == 415 and response.json()["code"] == "media.still_image"


@pytest.mark.parametrize("data", [{"background": "red"}, {"hdr": "dolby"}, {"container": "bmp"}])
def test_bad_new_options_are_422(client: TestClient, gif: Path, data: dict[str, str]) -> None:
    with gif.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": ("s.gif", handle, "image/gif")}, data=data)
    assert response.status_code == 422 and response.json()["code"].startswith("options.")


def test_a_rerun_takes_the_new_options_too(client: TestClient, gif: Path) -> None:
    first = upload(client, gif, "sticker.gif")
    store = client.app.state.services.store  # type: ignore[attr-defined]
    from backend.jobs import rules as jobs

    store.update(first["id"], lambda job: jobs.cancel(job))
    response = client.post(f"/api/jobs/{first['id']}/rerun", json={"container": "gif", "hdr": "sdr"})
    assert response.status_code == 201, response.text
    again = response.json()
    assert (again["container"], again["hdr"]) == ("gif", "sdr")
