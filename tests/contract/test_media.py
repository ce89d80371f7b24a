"""contract.media: the runner's failure classification, time limit, cancel and input allow-lists."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from contract import media
from contract.media import ALLOWED_FORMATS, OwnInput, UserInput


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie waiting for its reaper counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def test_success_returns_stdout_stderr_and_passes_stdin() -> None:
    done = media.run(["sh", "-c", "cat; echo note >&2"], timeout_s=10, stdin=b"hello")
    assert done.stdout == b"hello" and done.stderr == "note\n"


def test_non_zero_exit_is_permanent_with_the_stderr_tail() -> None:
    with pytest.raises(media.MediaFailed) as caught:
        media.run(["sh", "-c", "echo 'Invalid data found' >&2; exit 3"], timeout_s=10)
    assert caught.value.returncode == 3 and not caught.value.transient
    assert "Invalid data found" in caught.value.tail and "Invalid data found" in str(caught.value)


def test_timeout_kills_and_is_transient() -> None:
    started = time.monotonic()
    with pytest.raises(media.MediaTimeout) as caught:
        media.run(["sleep", "30"], timeout_s=0.3)
    assert time.monotonic() - started < 5 and caught.value.transient and caught.value.timeout_s == 0.3


def test_a_kill_by_a_signal_is_transient() -> None:
    with pytest.raises(media.MediaKilled) as caught:
        media.run(["sh", "-c", "kill -9 $$"], timeout_s=10)
    assert caught.value.transient and "signal 9" in str(caught.value)


def test_a_missing_program_is_transient() -> None:
    with pytest.raises(media.MediaMissing) as caught:
        media.run(["no-such-media-tool-here", "-version"], timeout_s=10)
    assert caught.value.transient and caught.value.program == "no-such-media-tool-here"


def test_cancel_kills_the_whole_process_group_within_two_seconds(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            # The shell's background sleep is reached only by a kill of the whole process group.
            script = f"sleep 60 & echo $$ $! > {pids}; wait"
            media.run(["sh", "-c", script], timeout_s=60, should_stop=stop.is_set)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    deadline = time.monotonic() + 10
    while not (pids.exists() and pids.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    shell, child = (int(p) for p in pids.read_text().split())
    stopped = time.monotonic()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - stopped <= 2
    assert len(errors) == 1 and isinstance(errors[0], media.MediaCancelled)
    assert not errors[0].transient
    deadline = time.monotonic() + 2
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.02)  # the orphaned sleep is reaped by init, not by us
    assert _gone(shell) and _gone(child)


def test_a_bare_input_is_refused() -> None:
    with pytest.raises(ValueError, match="UserInput or OwnInput"):
        media.run(["ffmpeg", "-i", "file:/etc/hostname", "-f", "null", "-"], timeout_s=10)


def test_user_inputs_always_carry_both_allow_lists(tmp_path: Path) -> None:
    argv = media.build_argv(["ffmpeg", UserInput(tmp_path / "a b.mp4", options=("-ss", "1"))])
    assert argv == [
        "ffmpeg",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        ALLOWED_FORMATS,
        "-ss",
        "1",
        "-i",
        f"file:{(tmp_path / 'a b.mp4').resolve()}",
    ]
    own = media.build_argv(["ffmpeg", OwnInput(tmp_path / "v.mp4", "mp4")])
    assert own[1:3] == ["-protocol_whitelist", "file"] and own[-4:-2] == ["-f", "mp4"]
    assert "hls" not in ALLOWED_FORMATS.split(",") and "concat" not in ALLOWED_FORMATS.split(",")


def test_the_observer_sees_every_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(media, "observer", seen.append)
    media.run(["true"], timeout_s=10)
    assert seen == [["true"]]
