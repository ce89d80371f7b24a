"""Every option reaches the job through every door: multipart, tus (and its quick run), and re-run.

Two sets, since no one model takes every non-default at once (regions need a local model, denoise a
Real-CUGAN one): each set is sent through each door and read back from ``GET /api/jobs/{id}``.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contract.options import OPTION_FIELDS

TUS = {"Tus-Resumable": "1.0.0"}
#: Every option but denoise away from its default (a Real-ESRGAN model: regions allowed).
LOCAL = {
    "model": "realesrgan-x4plus",
    "height": "288",
    "describe": "en",
    "density": "brief",
    "deinterlace": "frame",
    "regions": "auto",
    "container": "mkv",
    "strength": "0.5",
    "hdr": "sdr",
    "background": "#ff0000",
}
#: A Real-CUGAN model with a denoise level and a scale.
CUGAN = {"model": "realcugan-se-x2", "scale": "2", "denoise": "2", "strength": "auto"}
#: How each sent field reads back from the job's JSON.
READ_BACK = {"height": int, "scale": int, "denoise": int, "density": str}


def _expected(sent: dict[str, str]) -> dict[str, object]:
    return {name: READ_BACK.get(name, str)(value) for name, value in sent.items()}


def _seen(job: dict[str, object], sent: dict[str, str]) -> dict[str, object]:
    return {name: job[name] for name in sent}


def _multipart(client: TestClient, clip: Path, fields: dict[str, str]) -> dict:
    with clip.open("rb") as handle:
        made = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")}, data=fields)
    assert made.status_code == 201, made.text
    return made.json()


def _tus(client: TestClient, clip: Path, fields: dict[str, str]) -> dict:
    data = clip.read_bytes()
    pairs = {"filename": "clip.mp4", **fields}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())
    made = client.post(
        "/api/uploads", headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": meta}
    )
    assert made.status_code == 201, made.text
    headers = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    sent = client.patch(made.headers["Location"], headers=headers, content=data)
    assert sent.status_code == 204 and "Upload-Job" in sent.headers, sent.text
    return {"id": sent.headers["Upload-Job"]}


@pytest.mark.parametrize("sent", [LOCAL, CUGAN], ids=["local", "cugan"])
def test_every_option_reaches_the_job_through_every_door(client: TestClient, clip: Path, sent: dict) -> None:
    assert set(sent) <= set(OPTION_FIELDS)
    expected = _expected(sent)
    by_form = _multipart(client, clip, sent)
    assert _seen(client.get(f"/api/jobs/{by_form['id']}").json(), sent) == expected
    by_tus = _tus(client, clip, sent)
    assert _seen(client.get(f"/api/jobs/{by_tus['id']}").json(), sent) == expected
    quick = _tus(client, clip, {**sent, "excerpt": "0"})
    quick_job = client.get(f"/api/jobs/{quick['id']}").json()
    assert quick_job["excerpt_start"] == 0 and _seen(quick_job, sent) == expected
    # A re-run of a plain job with these options (the cancelled first job keeps its original).
    plain = _multipart(client, clip, {})
    assert client.delete(f"/api/jobs/{plain['id']}").json()["status"] == "cancelled"
    body = {name: int(v) if name in ("height", "scale", "denoise") else v for name, v in sent.items()}
    again = client.post(f"/api/jobs/{plain['id']}/rerun", json=body)
    assert again.status_code == 201, again.text
    assert _seen(client.get(f"/api/jobs/{again.json()['id']}").json(), sent) == expected
