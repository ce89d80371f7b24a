"""The one runner of every ffmpeg, ffprobe and espeak-ng subprocess, and its one failure classification.

Inputs are never plain strings: an input is a :class:`UserInput` (an upload: always opened with
``-protocol_whitelist file -format_whitelist ALLOWED_FORMATS`` and as ``file:<absolute path>``) or an
:class:`OwnInput` (a file this service wrote, opened with the file protocol and its known format). The
runner refuses a bare ``-i`` in the argument list, so no call site can open a file without the
allow-lists. Every run has a time limit, can be stopped by ``should_stop`` (polled every
``POLL_S``; the process group is killed and :class:`MediaCancelled` raised at once) and keeps the
tail of stderr for logs.

Failures, decided here once for the whole service:

MediaError
├── MediaFailed     non-zero exit: the tool could not read or convert the input       PERMANENT
├── MediaTimeout    the time limit passed (a busy host, a slow disk)                  TRANSIENT
├── MediaKilled     ended by a signal nobody here sent (out-of-memory killer, kill)   TRANSIENT
├── MediaMissing    the binary is not installed on this host (another may have it)    TRANSIENT
└── MediaCancelled  ``should_stop`` turned true: the job was cancelled                neither (not retried)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

#: Demuxers allowed to open an upload. None of them reads other files or URLs
#: (hls, concat, image2, dash, tee, playlists and friends are absent on purpose).
ALLOWED_DEMUXERS: tuple[str, ...] = (
    "mov",
    "mp4",
    "m4a",
    "3gp",
    "3g2",
    "mj2",
    "matroska",
    "webm",
    "avi",
    "mpegts",
    "flv",
    "mpeg",
    "asf",
    "ogg",
)
ALLOWED_FORMATS = ",".join(ALLOWED_DEMUXERS)
#: The same allow-lists as PyAV ``av.open(..., options=...)`` options, for uploads opened in-process.
AV_INPUT_OPTIONS: dict[str, str] = {"protocol_whitelist": "file", "format_whitelist": ALLOWED_FORMATS}
#: How often a running process is checked for the stop flag and the deadline.
POLL_S = 0.1
#: Characters of stderr kept on errors (for logs).
TAIL_CHARS = 4000

StopFn = Callable[[], bool]


class MediaError(Exception):
    """A media subprocess did not finish with exit code 0; ``transient`` says whether a retry may help."""

    transient: ClassVar[bool] = False

    def __init__(self, message: str, *, program: str, tail: str = "") -> None:
        super().__init__(f"{program}: {message}")
        self.program = program
        self.tail = tail


class MediaFailed(MediaError):
    """Non-zero exit: the input cannot be read or converted (permanent)."""

    def __init__(self, returncode: int, *, program: str, tail: str) -> None:
        last = tail.strip().splitlines()[-1] if tail.strip() else f"exit code {returncode}"
        super().__init__(last, program=program, tail=tail)
        self.returncode = returncode


class MediaTimeout(MediaError):
    """The time limit passed; the process was killed (transient)."""

    transient = True

    def __init__(self, timeout_s: float, *, program: str) -> None:
        super().__init__(f"no result within {timeout_s:g} s", program=program)
        self.timeout_s = timeout_s


class MediaKilled(MediaError):
    """The process ended by a signal this runner did not send (transient)."""

    transient = True


class MediaMissing(MediaError):
    """The program is not installed on this host (transient: another worker may have it)."""

    transient = True


class MediaCancelled(MediaError):
    """``should_stop`` turned true; the process was killed."""


@dataclass(frozen=True)
class UserInput:
    """An uploaded file as an input, with input options (``-ss``...) placed before its ``-i``."""

    path: Path
    options: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        """The input's arguments, allow-lists included."""
        return [
            "-protocol_whitelist",
            "file",
            "-format_whitelist",
            ALLOWED_FORMATS,
            *self.options,
            "-i",
            f"file:{Path(self.path).resolve()}",
        ]


@dataclass(frozen=True)
class OwnInput:
    """A file this service wrote itself, read only with the file protocol and its known ``format``."""

    path: Path
    format: str
    options: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        """The input's arguments: file protocol only, demuxer forced."""
        return [
            "-protocol_whitelist",
            "file",
            *self.options,
            "-f",
            self.format,
            "-i",
            f"file:{Path(self.path).resolve()}",
        ]


Arg = str | UserInput | OwnInput


@dataclass(frozen=True)
class Completed:
    """A run that exited with code 0: its stdout and full stderr."""

    stdout: bytes
    stderr: str


#: Test hook: called with every argv the runner is about to start (None in production).
observer: Callable[[list[str]], None] | None = None


def ffmpeg(*args: Arg, level: str = "error") -> list[Arg]:
    """An ffmpeg command: quiet but for ``level``, never reading stdin, overwriting its output."""
    # FFMPEG_BINARY: a host without ffmpeg on PATH (a lent GPU machine) names a static build here.
    return [os.environ.get("FFMPEG_BINARY") or "ffmpeg", "-v", level, "-nostdin", "-hide_banner", "-y", *args]


def build_argv(args: Sequence[Arg]) -> list[str]:
    """The final argument list; refuses a bare ``-i`` (inputs must be UserInput or OwnInput)."""
    argv: list[str] = []
    for arg in args:
        if isinstance(arg, str):
            if arg == "-i":
                raise ValueError("inputs must be UserInput or OwnInput, never a bare -i")
            argv.append(arg)
        else:
            argv += arg.argv()
    return argv


def _tail(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the whole process group (a tool's children too) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _wait(process: subprocess.Popen[bytes], program: str, timeout_s: float, should_stop: StopFn) -> None:
    deadline = time.monotonic() + timeout_s
    try:
        while process.poll() is None:
            if should_stop():
                raise MediaCancelled("cancelled", program=program)
            if time.monotonic() > deadline:
                raise MediaTimeout(timeout_s, program=program)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=POLL_S)
    finally:
        if process.poll() is None:
            _kill(process)


def run(
    args: Sequence[Arg],
    *,
    timeout_s: float,
    should_stop: StopFn | None = None,
    stdin: bytes | None = None,
) -> Completed:
    """Run ``args`` to completion; raise a :class:`MediaError` subclass unless it exits with code 0."""
    argv = build_argv(args)
    program = Path(argv[0]).name
    if observer is not None:
        observer(argv)
    stop = should_stop or (lambda: False)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as src:
        if stdin is not None:
            src.write(stdin)
            src.seek(0)
        try:
            # A new session makes the tool a process group of its own, so a kill reaches its children.
            process = subprocess.Popen(argv, stdin=src, stdout=out, stderr=err, start_new_session=True)
        except FileNotFoundError as exc:
            raise MediaMissing("not installed", program=program) from exc
        try:
            _wait(process, program, timeout_s, stop)
        except MediaError as exc:
            exc.tail = _tail(err)[-TAIL_CHARS:]
            raise
        stderr = _tail(err)
        if process.returncode < 0:
            why = f"killed by signal {-process.returncode}"
            raise MediaKilled(why, program=program, tail=stderr[-TAIL_CHARS:])
        if process.returncode != 0:
            raise MediaFailed(process.returncode, program=program, tail=stderr[-TAIL_CHARS:])
        out.seek(0)
        return Completed(stdout=out.read(), stderr=stderr)
