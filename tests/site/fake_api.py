"""A scripted stand-in for the backend, served through Playwright routing, to test the page's own logic.

Only the page-logic tests use it (states that are hard to reach on purpose: a failed job, a 413); the real
stack is exercised by test_flow.py. Every job it sends is first validated against the backend's own
``JobOut`` and serialised by it, so the page is never tested against a shape the backend cannot send.
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from backend.api.schemas import JobOut, UsageOut
from contract.catalogue import as_json

ORIGIN = "http://studio.test"

CONFIG: dict[str, Any] = {
    "models": [
        {
            "id": "realesr-animevideov3-x4",
            "scale": 4,
            "title_ru": "Быстрая / анимация",
            "title_en": "Fast / animation",
        },
        {"id": "realesr-animevideov3-x2", "scale": 2, "title_ru": "Быстрая, ×2", "title_en": "Fast, ×2"},
        {
            "id": "realesrgan-x4plus",
            "scale": 4,
            "title_ru": "Универсальная — лучшее качество",
            "title_en": "Universal — best quality",
        },
    ],
    "max_upload_bytes": 500_000,
    "accepted": [".mp4", ".mov", ".mkv", ".webm"],
    "heights": [480, 720, 1080],
    "scales": [2, 4],
    "max_output": [7680, 4320],
    "default_model": "realesr-animevideov3-x4",
    "describe_languages": ["ru", "en"],
    "recent_fps": {"realesr-animevideov3-x4": 10.0},
    "auth": {"mode": "standalone", "embed_origins": []},
}


def as_sent(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as the backend sends it: validated by ``JobOut`` (defaults filled in), then dumped."""
    unknown = set(body) - set(JobOut.model_fields)
    assert not unknown, f"the fake job has fields JobOut does not: {sorted(unknown)}"
    return JobOut.model_validate(body).model_dump(mode="json")


def job(job_id: str, status: str, **extra: Any) -> dict[str, Any]:
    """A job JSON as the backend sends it (checked against ``JobOut``)."""
    body: dict[str, Any] = {
        "id": job_id,
        "filename": f"{job_id[:6]}.mp4",
        "status": status,
        "progress": 0.0,
        "frames_done": 0,
        "frames_total": 50,
        "fps": None,
        "eta_s": None,
        "error": None,
        "error_code": None,
        "error_params": {},
        "model": "realesr-animevideov3-x4",
        "scale": 2,
        "height": None,
        "upscale": True,
        "describe": None,
        "created_at": "2026-01-01T10:00:00Z",
        "updated_at": "2026-01-01T10:00:00Z",
        "input": {"width": 176, "height": 144, "duration_s": 2.0, "fps": 25.0},
        "output": None,
        "result_url": None,
        "vtt_url": None,
        "preview_before_url": None,
        "preview_after_url": None,
    }
    body.update(extra)
    return as_sent(body)


@dataclass
class FakeApi:
    """Serves site/ and answers /api/* from ``config``, ``jobs`` and a scripted upload answer."""

    site: Path
    config: dict[str, Any] = field(default_factory=lambda: json.loads(json.dumps(CONFIG)))
    jobs: list[dict[str, Any]] = field(default_factory=list)
    upload_answer: tuple[int, dict[str, Any]] | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: JSON bodies of every POST /api/jobs/{id}/rerun, with the id.
    reruns: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Keep every POST /api/jobs unanswered (the page shows its uploads in progress); routes go to ``held``.
    hold_uploads: bool = False
    held: list[Any] = field(default_factory=list)
    #: Answer every POST /api/jobs with a fresh queued job named after the uploaded file (and list it).
    auto_jobs: bool = False
    #: Multipart bodies of every POST /api/jobs.
    uploads: list[bytes] = field(default_factory=list)
    #: Extra files by URL path: (content type, bytes), e.g. previews and results.
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    #: Where the page is served from (``http://localhost...`` is a secure context: notifications work).
    origin: str = ORIGIN
    #: The GET /api/usage answer (UsageOut).
    usage: dict[str, Any] = field(
        default_factory=lambda: {
            "stored_bytes": 0,
            "quota_bytes": 0,
            "active_jobs": 0,
            "active_jobs_limit": 0,
            "jobs": 0,
            "retention_s": 0,
        }
    )

    def install(self, page: Any) -> None:
        """Route every request of ``page`` to this fake."""
        page.route(f"{self.origin}/**", self._handle)

    def _json(self, route: Any, status: int, body: Any) -> None:
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    def _handle(self, route: Any) -> None:
        request = route.request
        path = urlsplit(request.url).path
        self.requests.append((request.method, path))
        if path == "/api/config":
            self._json(route, 200, self.config)
        elif path == "/api/messages":
            self._json(route, 200, as_json())
        elif path == "/api/usage":
            self._json(route, 200, UsageOut.model_validate(self.usage).model_dump(mode="json"))
        elif path == "/api/jobs" and request.method == "GET":
            self._json(route, 200, [as_sent(item) for item in self.jobs])
        elif path in self.files:
            kind, data = self.files[path]
            self._file(route, kind, data)
        elif path == "/api/uploads" and self.hold_uploads:
            self.held.append(route)  # a tus creation left pending: the upload shows as under way
        elif path == "/api/jobs" and request.method == "POST":
            self.uploads.append(request.post_data_buffer or b"")
            if self.hold_uploads:
                self.held.append(route)
                return
            if self.auto_jobs:
                self._json(route, 201, self._auto_job(self.uploads[-1]))
                return
            status, answer = self.upload_answer or (500, {"detail": "no answer scripted"})
            self._json(route, status, as_sent(answer) if status == 201 else answer)
        elif path.startswith("/api/jobs/") and path.endswith("/rerun") and request.method == "POST":
            self._rerun(route, path.split("/")[3], json.loads(request.post_data or "{}"))
        elif path.startswith("/api/jobs/") and path.endswith("/share") and request.method == "POST":
            job_id = path.split("/")[3]
            self._json(
                route,
                200,
                {
                    "result_url": f"/api/jobs/{job_id}/result?exp=4102444800&sig=fake",
                    "vtt_url": None,
                    "preview_before_url": None,
                    "preview_after_url": None,
                    "expires_at": "2100-01-01T00:00:00Z",
                },
            )
        elif path.startswith("/api/jobs/") and request.method == "DELETE":
            self._delete(route, path.rsplit("/", 1)[-1])
        else:
            self._static(route, path)

    def _file(self, route: Any, kind: str, data: bytes) -> None:
        """A stored file, with byte ranges as the backend serves them (Chromium seeks a video only so)."""
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", route.request.headers.get("range", ""))
        if not wanted:
            route.fulfill(status=200, content_type=kind, body=data, headers={"Accept-Ranges": "bytes"})
            return
        start = int(wanted.group(1))
        end = min(int(wanted.group(2) or len(data) - 1), len(data) - 1)
        headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{len(data)}"}
        route.fulfill(status=206, content_type=kind, body=data[start : end + 1], headers=headers)

    def _auto_job(self, body: bytes) -> dict[str, Any]:
        named = re.search(rb'filename="([^"]*)"', body)
        name = named.group(1).decode() if named else "video.mp4"
        created = f"2026-01-02T10:00:{len(self.uploads):02d}Z"
        made = job(
            f"{len(self.uploads):032x}", "queued", filename=name, created_at=created, updated_at=created
        )
        self.jobs.insert(0, made)
        return made

    def _rerun(self, route: Any, job_id: str, body: dict[str, Any]) -> None:
        self.reruns.append((job_id, body))
        source = next(item for item in self.jobs if item["id"] == job_id)
        created = f"2026-01-03T10:00:{len(self.reruns):02d}Z"
        options = {name: body.get(name) for name in ("model", "scale", "height", "describe")}
        made = job(
            f"{len(self.reruns):032x}".replace("0", "9"),
            "queued",
            filename=source["filename"],
            created_at=created,
            updated_at=created,
            upscale=body.get("upscale", True),
            **{k: v for k, v in options.items() if v is not None},
        )
        self.jobs.insert(0, made)
        self._json(route, 201, made)

    def _delete(self, route: Any, job_id: str) -> None:
        for index, item in enumerate(self.jobs):
            if item["id"] != job_id:
                continue
            if item["status"] in ("queued", "running"):
                item.update(status="cancelled")
                self._json(route, 200, as_sent(item))
            else:
                del self.jobs[index]
                route.fulfill(status=204, body="")
            return
        self._json(route, 404, {"detail": "no such job"})

    def _static(self, route: Any, path: str) -> None:
        name = "index.html" if path in ("", "/") else path.lstrip("/")
        file = (self.site / name).resolve()
        if self.site.resolve() not in file.parents or not file.is_file():
            self._json(route, 404, {"detail": "Not Found"})
            return
        kind = "text/javascript" if file.suffix == ".js" else mimetypes.guess_type(file.name)[0]
        route.fulfill(status=200, content_type=kind or "application/octet-stream", body=file.read_bytes())
