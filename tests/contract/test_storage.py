"""Storage keys map under the root and never escape it."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract import storage


def test_keys_resolve_under_root(tmp_path: Path) -> None:
    key = storage.output_key("ab" * 16)
    assert storage.resolve(tmp_path, key) == tmp_path.resolve() / "jobs" / ("ab" * 16) / "output.mp4"


@pytest.mark.parametrize(
    "key", ["../x", "/etc/passwd", "jobs/../../x", "jobs//x", "jobs/./x", "", "jobs/x\n", "a\\..\\b", "~/x"]
)
def test_escaping_or_malformed_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(storage.UnsafeKeyError):
        storage.resolve(tmp_path, key)


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "jobs").mkdir(parents=True)
    (root / "jobs" / "link").symlink_to(tmp_path)
    with pytest.raises(storage.UnsafeKeyError):
        storage.resolve(root, "jobs/link/secret")


def test_vtt_sits_beside_the_output(tmp_path: Path) -> None:
    job_id = "cd" * 16
    assert storage.vtt_key(job_id) == f"jobs/{job_id}/output.vtt"
    assert storage.resolve(tmp_path, storage.vtt_key(job_id)).parent == storage.resolve(
        tmp_path, storage.output_key(job_id)
    ).parent


def test_preview_key_only_before_or_after() -> None:
    assert storage.preview_key("a" * 32, "after").endswith("preview_after.jpg")
    with pytest.raises(ValueError):
        storage.preview_key("a" * 32, "../x")


def test_the_cancel_marker_lives_outside_the_job_folder(tmp_path: Path) -> None:
    job_id = "cd" * 16
    marker = storage.resolve(tmp_path, storage.cancel_key(job_id))
    assert storage.cancel_key(job_id) == f"cancels/{job_id}"
    assert not marker.is_relative_to(storage.resolve(tmp_path, storage.job_dir(job_id)))
