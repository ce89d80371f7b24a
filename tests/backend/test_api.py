"""HTTP API against a temp SQLite database and storage, with real ffprobe on real clips."""

from __future__ import annotations

import errno
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.intake import upload as upload_module
from backend.settings import Settings
from contract import storage
from contract.catalogue import as_json
from contract.messages import MODELS, ProgressEvent
from tests.fixtures.api import finish, job_dirs, problem
from tests.fixtures.backend import OPS_HEADERS, scrape, upload
from tests.fixtures.media import make_clip


def test_upload_creates_a_queued_job_with_probed_input(
    client: TestClient, settings: Settings, clip: Path
) -> None:
    job = upload(client, clip, model="realesrgan-x4plus", scale="2")
    assert job["status"] == "queued" and job["model"] == "realesrgan-x4plus" and job["scale"] == 2
    assert job["input"] == {
        "width": 176,
        "height": 144,
        "duration_s": pytest.approx(1.0, abs=0.1),
        "fps": 25.0,
    }
    assert job["frames_total"] == 25 and job["progress"] == 0 and job["output"] is None
    assert job["result_url"] is None and len(job["id"]) == 32
    stored = settings.STORAGE_ROOT / "jobs" / job["id"] / "input.mp4"
    assert stored.read_bytes() == clip.read_bytes()
    assert client.get(f"/api/jobs/{job['id']}").json() == job
    assert [j["id"] for j in client.get("/api/jobs").json()] == [job["id"]]


def test_defaults_and_height_option(client: TestClient, clip: Path) -> None:
    default = upload(client, clip)
    assert (default["model"], default["scale"], default["height"]) == ("realesr-animevideov3-x4", 4, None)
    tall = upload(client, clip, model="realesr-animevideov3-x2", height="480")
    assert (tall["scale"], tall["height"]) == (None, 480)
    assert [j["id"] for j in client.get("/api/jobs").json()] == [tall["id"], default["id"]]  # newest first


def test_too_large_upload_is_refused_and_leaves_nothing(settings: Settings, clip: Path) -> None:
    settings.MAX_UPLOAD_BYTES = clip.stat().st_size - 1000
    with TestClient(create_app(settings, broker=False)) as client:
        with clip.open("rb") as handle:
            response = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")})
        limit = settings.MAX_UPLOAD_BYTES
        assert problem(response, 413, "http.too_large")["params"] == {"limit_bytes": limit}
        # Chunked upload without Content-Length: refused while streaming.
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()

        def body() -> Iterator[bytes]:
            yield head
            data = clip.read_bytes()
            for i in range(0, len(data), 4096):
                yield data[i : i + 4096]
            yield f"\r\n--{boundary}--\r\n".encode()

        response = client.post(
            "/api/jobs",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert problem(response, 413, "http.too_large")["params"] == {"limit_bytes": limit}
        assert job_dirs(settings) == []
        assert client.get("/api/jobs").json() == []


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("notes.txt", b"just some text\n", "http.extension_refused"),
        ("notes", b"just some text\n", "http.no_extension"),
        ("notes.mp4", b"just some text pretending\n", "media."),
        ("empty.mp4", b"", "media."),
        ("list.m3u8.mp4", b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", "media."),
    ],
)
def test_non_video_is_415_and_leaves_nothing(
    client: TestClient,
    settings: Settings,
    name: str,
    content: bytes,
    code: str,
) -> None:
    response = client.post("/api/jobs", files={"file": (name, content, "text/plain")})
    problem(response, 415, code)
    assert job_dirs(settings) == []


def test_not_multipart_is_415(client: TestClient) -> None:
    problem(
        client.post("/api/jobs", content=b"{}", headers={"Content-Type": "application/json"}),
        415,
        "http.not_multipart",
    )


@pytest.mark.parametrize(
    "data",
    [
        {"model": "nope"},
        {"scale": "5"},
        {"scale": "2", "height": "720"},
        {"height": "abc"},
        {"height": "100"},
        {"height": "9000"},
        {"describe": "fr"},
        {"upscale": "maybe"},
        {"upscale": "false"},
        {"upscale": "false", "describe": ""},
        {"deinterlace": "maybe"},
        {"container": "avi"},
    ],
)
def test_bad_options_are_422_with_an_options_code_and_leave_nothing(
    client: TestClient,
    settings: Settings,
    clip: Path,
    data: dict[str, str],
) -> None:
    with clip.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")}, data=data)
    body = problem(response, 422, "options.")
    if data == {"height": "100"}:
        assert 144 in body["params"].values()  # the input's height, as the page needs it
    if data.get("upscale") == "false":
        assert body["code"] == "options.nothing_to_do"
    assert job_dirs(settings) == []


def test_missing_file_and_damaged_video_are_422(client: TestClient, settings: Settings, clip: Path) -> None:
    response = client.post("/api/jobs", data={"model": "realesrgan-x4plus"}, files={"x": ("a", b"b")})
    problem(response, 422, "http.no_file")
    truncated = clip.read_bytes()[: len(clip.read_bytes()) // 3]
    response = client.post("/api/jobs", files={"file": ("cut.mp4", truncated, "video/mp4")})
    problem(response, 422, "media.")
    assert job_dirs(settings) == []


class _FullDisk:
    """An upload file whose every write fails as a full volume does."""

    def __init__(self, real: object) -> None:
        self.real = real

    def write(self, _data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self) -> None:
        self.real.close()  # type: ignore[attr-defined]


def test_full_storage_is_507_and_leaves_nothing(
    client: TestClient, settings: Settings, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = upload_module._Receiver._headers_finished

    def headers_finished(self: upload_module._Receiver) -> None:
        real(self)
        if self._file is not None:
            self._file = _FullDisk(self._file)  # type: ignore[assignment]

    monkeypatch.setattr(upload_module._Receiver, "_headers_finished", headers_finished)
    with clip.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")})
    problem(response, 507, "http.storage_full")
    assert job_dirs(settings) == [] and client.get("/api/jobs").json() == []


def test_video_over_the_size_limit_is_422(settings: Settings, clip: Path) -> None:
    settings.MAX_WIDTH, settings.MAX_HEIGHT = 160, 120
    with TestClient(create_app(settings, broker=False)) as client, clip.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")})
    body = problem(response, 422, "media.too_large")
    assert (body["params"]["width"], body["params"]["height"]) == (176, 144)
    assert "176x144" in body["detail"]
    assert job_dirs(settings) == []


def test_describe_and_upscale_options(client: TestClient, clip: Path) -> None:
    both = upload(client, clip, describe="ru", scale="2")
    assert (both["upscale"], both["describe"], both["scale"], both["vtt_url"]) == (True, "ru", 2, None)
    alone = upload(client, clip, upscale="false", describe="EN", height="100")
    # Without upscaling the size fields are ignored, so a height below the input's is no error.
    assert (alone["upscale"], alone["describe"], alone["scale"], alone["height"]) == (False, "en", None, None)
    plain = upload(client, clip, upscale="true", describe="")
    assert (plain["upscale"], plain["describe"]) == (True, None)
    store = client.app.state.services.store  # type: ignore[attr-defined]
    from backend.dispatch.outbox import task_message

    options = [task_message(store.get(job["id"])).options for job in (both, alone, plain)]
    assert [(o.upscale, o.describe) for o in options] == [(True, "ru"), (False, "en"), (True, None)]


def test_the_description_density_reaches_the_job_and_its_task(client: TestClient, clip: Path) -> None:
    brief = upload(client, clip, describe="ru", density="Brief")
    usual = upload(client, clip, upscale="false", describe="en")
    plain = upload(client, clip)
    assert [job["density"] for job in (brief, usual, plain)] == ["brief", "normal", None]
    store = client.app.state.services.store  # type: ignore[attr-defined]
    from backend.dispatch.outbox import task_message

    options = [task_message(store.get(job["id"])).options for job in (brief, usual)]
    assert [o.density for o in options] == ["brief", "normal"]
    with clip.open("rb") as handle:
        data = {"describe": "ru", "density": "verbose"}
        response = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")}, data=data)
    problem(response, 422, "options.bad_density")


def test_the_deinterlace_option_reaches_the_job_and_its_task(client: TestClient, clip: Path) -> None:
    jobs = [
        upload(client, clip),
        upload(client, clip, deinterlace="FIELD"),
        upload(client, clip, deinterlace="off"),
    ]
    # auto is decided at upload (this clip is progressive), so no segment task runs idet again.
    assert [job["deinterlace"] for job in jobs] == ["off", "field", "off"]
    assert all(job["notes"] == [] for job in jobs)
    store = client.app.state.services.store  # type: ignore[attr-defined]
    from backend.dispatch.outbox import task_message

    assert [task_message(store.get(job["id"])).options.deinterlace for job in jobs] == [
        "off",
        "field",
        "off",
    ]


def test_interlacing_is_decided_once_at_upload(client: TestClient, tmp_path: Path) -> None:
    from backend.dispatch.outbox import task_message
    from tests.fixtures.creators import interlaced

    camcorder = interlaced(tmp_path / "camcorder.ts", parity="bff", container="mpegts")
    job = upload(client, camcorder, "camcorder.ts")
    assert job["deinterlace"] == "field"
    # Progress counts pictures out: 25 frames/s woven from 50 fields/s become 50 pictures/s.
    assert job["frames_total"] == 50
    store = client.app.state.services.store  # type: ignore[attr-defined]
    options = task_message(store.get(job["id"])).options
    assert (options.deinterlace, options.field_parity) == ("field", "bff")


def test_the_container_is_chosen_at_upload_and_names_the_output(client: TestClient, tmp_path: Path) -> None:
    from backend.dispatch.outbox import task_message
    from tests.fixtures.subtitles import mkv_with_picture_subtitles

    bluray = mkv_with_picture_subtitles(tmp_path / "film.mkv", seconds=0.4)
    jobs = [
        upload(client, bluray, "film.mkv"),
        upload(client, bluray, "film.mkv", container="MP4"),
        upload(client, bluray, "film.mkv", container="mkv"),
    ]
    assert [job["container"] for job in jobs] == ["mkv", "mp4", "mkv"]
    store = client.app.state.services.store  # type: ignore[attr-defined]
    tasks = [task_message(store.get(job["id"])) for job in jobs]
    assert [(t.output_key.rsplit(".", 1)[1], t.options.container) for t in tasks] == [
        ("mkv", "mkv"),
        ("mp4", "mp4"),
        ("mkv", "mkv"),
    ]


def test_vtt_of_a_described_job_is_served_as_text_vtt(
    client: TestClient, settings: Settings, clip: Path, jpeg: Path
) -> None:
    job = upload(client, clip, upscale="false", describe="ru")
    assert client.get(f"/api/jobs/{job['id']}/vtt").status_code == 404
    cues = "WEBVTT\n\n1\n00:00:00.200 --> 00:00:01.000\nЧеловек слева.\n"
    storage.resolve(settings.STORAGE_ROOT, storage.vtt_key(job["id"])).write_text(cues, encoding="utf-8")
    finish(client, settings, job["id"], clip, jpeg, vtt=True, seconds=50)
    done = client.get(f"/api/jobs/{job['id']}").json()
    assert done["vtt_url"] == f"/api/jobs/{job['id']}/vtt"
    response = client.get(done["vtt_url"])
    assert response.status_code == 200 and response.headers["content-type"] == "text/vtt; charset=utf-8"
    assert response.content.decode("utf-8") == cues
    assert "clip_described.mp4" in client.get(done["result_url"]).headers["content-disposition"]
    plain = upload(client, clip)
    finish(client, settings, plain["id"], clip, jpeg)
    assert client.get(f"/api/jobs/{plain['id']}").json()["vtt_url"] is None
    assert client.get(f"/api/jobs/{plain['id']}/vtt").status_code == 404
    # Described jobs are slower than upscaling alone, so they stay out of the speed estimate.
    assert client.get("/api/config").json()["recent_fps"] == {"realesr-animevideov3-x4": 10.0}


@pytest.mark.parametrize("name", ["../../x.mp4", "..\\..\\x.mp4", "/etc/x.mp4", "x.mp4\x00.txt/../x.mp4"])
def test_filename_never_becomes_a_path(client: TestClient, settings: Settings, clip: Path, name: str) -> None:
    before = set(settings.STORAGE_ROOT.parent.rglob("*"))
    job = upload(client, clip, name=name)
    assert job["filename"] == "x.mp4"
    created = set(settings.STORAGE_ROOT.parent.rglob("*")) - before
    job_dir = settings.STORAGE_ROOT / "jobs" / job["id"]
    assert {p for p in created if p.suffix == ".mp4"} == {job_dir / "input.mp4"}
    assert all(p.is_relative_to(settings.STORAGE_ROOT) or p.name.startswith("backend.db") for p in created)


def test_source_and_result_support_range(
    client: TestClient,
    settings: Settings,
    clip: Path,
    tmp_path: Path,
    jpeg: Path,
) -> None:
    mkv = make_clip(tmp_path / "clip.mkv")
    job = upload(client, mkv, name="holiday.mkv")
    source = client.get(f"/api/jobs/{job['id']}/source", headers={"Range": "bytes=10-109"})
    assert source.status_code == 206 and source.headers["content-type"] == "video/x-matroska"
    assert source.headers["content-range"] == f"bytes 10-109/{mkv.stat().st_size}"
    assert source.content == mkv.read_bytes()[10:110]
    problem(client.get(f"/api/jobs/{job['id']}/result"), 404, "http.result_not_ready")
    problem(client.get(f"/api/jobs/{job['id']}/preview/before"), 404, "http.no_preview")

    finish(client, settings, job["id"], clip, jpeg)
    done = client.get(f"/api/jobs/{job['id']}").json()
    assert done["status"] == "done" and done["output"] == {"width": 704, "height": 576, "frames": 25}
    assert done["result_url"] == f"/api/jobs/{job['id']}/result"
    full = client.get(done["result_url"])
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.headers["accept-ranges"] == "bytes" and full.content == clip.read_bytes()
    tail = client.get(done["result_url"], headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == clip.read_bytes()[-500:]
    assert client.get(done["result_url"], headers={"Range": "bytes=99999999-"}).status_code == 416
    assert "attachment" in client.get(done["result_url"] + "?download=1").headers["content-disposition"]
    preview = client.get(done["preview_after_url"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert preview.content == jpeg.read_bytes()
    sideways = problem(client.get(f"/api/jobs/{job['id']}/preview/sideways"), 422, "http.invalid_request")
    assert sideways["params"] == {"fields": "path.which"}


def test_delete_cancels_an_active_job_then_deletes_it(
    client: TestClient, settings: Settings, clip: Path
) -> None:
    job = upload(client, clip)
    store = client.app.state.services.store  # type: ignore[attr-defined]
    store.apply_event(ProgressEvent(job_id=job["id"], frames_done=5, frames_total=25, fps=5.0))
    response = client.delete(f"/api/jobs/{job['id']}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    marker = storage.resolve(settings.STORAGE_ROOT, storage.cancel_key(job["id"]))
    assert marker.is_file()
    # Late events do not revive it.
    store.apply_event(ProgressEvent(job_id=job["id"], frames_done=20, frames_total=25, fps=5.0))
    assert client.get(f"/api/jobs/{job['id']}").json()["status"] == "cancelled"
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert job_dirs(settings) == []
    assert marker.is_file(), "the marker outlives the job's folder: a task still queued must not run"
    problem(client.get(f"/api/jobs/{job['id']}"), 404, "http.job_not_found")
    problem(client.delete(f"/api/jobs/{job['id']}"), 404, "http.job_not_found")


def test_delete_finished_job_removes_files(
    client: TestClient,
    settings: Settings,
    clip: Path,
    jpeg: Path,
) -> None:
    job = upload(client, clip)
    finish(client, settings, job["id"], clip, jpeg)
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert job_dirs(settings) == [] and client.get("/api/jobs").json() == []


def test_config_lists_models_and_recent_speed(
    client: TestClient, settings: Settings, clip: Path, jpeg: Path
) -> None:
    config = client.get("/api/config").json()
    assert [m["id"] for m in config["models"]] == list(MODELS)
    titles = {m["id"]: (m["title_ru"], m["title_en"], m["scale"]) for m in config["models"]}
    assert titles["realesrgan-x4plus"] == ("Универсальная — лучшее качество", "Universal — best quality", 4)
    assert titles["realesr-animevideov3-x4"] == ("Быстрая / анимация", "Fast / animation", 4)
    assert config["max_upload_bytes"] == settings.MAX_UPLOAD_BYTES and ".mp4" in config["accepted"]
    assert config["heights"] == [480, 720, 1080] and config["scales"] == [2, 4] and config["recent_fps"] == {}
    assert config["describe_languages"] == ["ru", "en"]
    job = upload(client, clip)
    finish(client, settings, job["id"], clip, jpeg)
    assert client.get("/api/config").json()["recent_fps"] == {"realesr-animevideov3-x4": 10.0}
    # The estimate outlives the job: deleting a finished job keeps its speed sample.
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert client.get("/api/config").json()["recent_fps"] == {"realesr-animevideov3-x4": 10.0}


def test_ops_endpoints_docs_and_site(client: TestClient, clip: Path) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] == "ok"
    upload(client, clip)
    client.post("/api/jobs", files={"file": ("a.txt", b"x", "text/plain")})
    metrics = scrape(client)
    assert 'vsr_jobs{status="queued"} 1.0' in metrics
    assert 'vsr_uploads_total{result="accepted"} 1.0' in metrics
    assert 'vsr_uploads_total{result="415"} 1.0' in metrics
    assert "vsr_tasks_queue_depth" in metrics
    assert client.get("/docs", headers=OPS_HEADERS).status_code == 200
    assert "/api/jobs" in client.get("/openapi.json", headers=OPS_HEADERS).json()["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "<h1>page</h1>" in page.text
    problem(client.get("/api/jobs/" + "0" * 32), 404, "http.job_not_found")
    problem(client.get("/api/jobs/..%2F..%2Fetc"), 404, "http.not_found")
    problem(client.get("/no/such/page.html"), 404, "http.not_found")
    problem(client.put("/api/jobs"), 405, "http.method_not_allowed")


def test_the_catalogue_is_served_for_the_page(client: TestClient) -> None:
    messages = client.get("/api/messages").json()
    assert messages == as_json()
    assert messages["http.job_not_found"] == {"en": "No such job.", "ru": "Такой задачи нет."}
