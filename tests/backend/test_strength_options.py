"""The strength and denoise form fields: parsed, validated, stored and sent to the adapter as given."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.dispatch.outbox import task_message
from backend.errors import InvalidRequest
from backend.intake.options import parse_options
from backend.intake.strength import stored_strength, strength_text
from contract.messages import JobOptions
from tests.fixtures.backend import upload


@pytest.mark.parametrize(
    ("text", "value"), [("", 1.0), ("0.25", 0.25), ("0", 0.0), ("AUTO", "auto"), ("1", 1.0)]
)
def test_strength_field(text: str, value: float | str) -> None:
    options = parse_options({"model": "realesr-animevideov3-x2", "strength": text})
    assert options.strength == value
    assert stored_strength(strength_text(options.strength)) == value  # the DB round trip keeps it


@pytest.mark.parametrize("text", ["1.5", "-0.1", "nan", "strong"])
def test_bad_strength_is_refused_with_a_code(text: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_options({"strength": text})
    assert caught.value.code == "options.bad_strength"


def test_denoise_is_checked_against_the_model_files() -> None:
    assert parse_options({"model": "realcugan-se-x2", "denoise": "2"}).denoise == 2
    assert parse_options({"model": "realcugan-se-x2"}).denoise is None
    with pytest.raises(InvalidRequest) as caught:
        parse_options({"model": "realcugan-pro-x3", "denoise": "1"})
    assert caught.value.code == "options.bad_denoise"
    assert caught.value.reason.params["choices"] == "-1, 0, 3"
    with pytest.raises(InvalidRequest):
        parse_options({"model": "realesrgan-x4plus", "denoise": "0"})


def test_job_options_validate_strength_and_denoise() -> None:
    assert JobOptions(strength="auto").strength == "auto"
    with pytest.raises(ValueError, match="strength"):
        JobOptions(strength=2.0)
    with pytest.raises(ValueError, match="denoise"):
        JobOptions(model="realcugan-nose-x2", denoise=3)


def test_strength_and_denoise_reach_the_job_and_its_task(client: TestClient, clip: Path) -> None:
    jobs = [
        upload(client, clip),
        upload(client, clip, strength="0.25"),
        upload(client, clip, strength="auto", model="realcugan-se-x2", denoise="3"),
    ]
    assert [(job["strength"], job["denoise"]) for job in jobs] == [("1", None), ("0.25", None), ("auto", 3)]
    listed = {job["id"]: job for job in client.get("/api/jobs").json()}
    assert listed[jobs[2]["id"]]["strength"] == "auto"
    store = client.app.state.services.store  # type: ignore[attr-defined]
    sent = [task_message(store.get(job["id"])).options for job in jobs]
    assert [(o.strength, o.denoise, o.model) for o in sent] == [
        (1.0, None, "realesr-animevideov3-x4"),
        (0.25, None, "realesr-animevideov3-x4"),
        ("auto", 3, "realcugan-se-x2"),
    ]
    refused = client.post(
        "/api/jobs", files={"file": ("c.mp4", clip.read_bytes(), "video/mp4")}, data={"strength": "2"}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "options.bad_strength"


def test_config_lists_each_model_with_its_description(client: TestClient) -> None:
    models = client.get("/api/config").json()["models"]
    assert all(m["about_en"] and m["about_ru"] and m["about_en"] != m["about_ru"] for m in models)
    assert any(m["id"] == "realcugan-se-x2" for m in models)
