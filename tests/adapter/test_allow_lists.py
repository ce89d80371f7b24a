"""Every place that reads an upload refuses a disguised playlist unread, and the registry covers them all.

The hostile uploads are text playlists saved as ``input.mp4`` (HLS and ffconcat) that point at a FIFO
(opening it for reading would block, and a watcher sees the open) or at a local HTTP server that
records every request. Each call site must raise its refusal (ProbeError / InvalidInputError, not a
timeout) while the FIFO stays unopened and the server sees no request.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adapter.description.audio import silences
from adapter.description.mux import mux as description_mux
from adapter.description.mux import remux as description_remux
from adapter.description.scenes import detect_scenes, frames_at, key_frame
from adapter.errors import InvalidInputError
from adapter.limits import Limits
from adapter.video import decode as video
from adapter.video import muxer
from adapter.video.proxy import write_proxy
from backend.intake import excerpt
from contract import animation, hdr, media
from contract.catalogue import reason
from contract.hdr import HdrMetadata
from contract.interlace import count_fields
from contract.mediainfo import ProbeError
from contract.probe import ALLOWED_FORMATS, _run_ffprobe, keyframes, probe
from contract.stream import count_packets
from tests.fixtures.media import ClipFactory
from tests.fixtures.worker import fake_info

ROOT = Path(__file__).resolve().parents[2]
LIMITS = {"max_width": 3840, "max_height": 2160, "max_duration_s": 7200.0}


@dataclass
class Trap:
    """Where a hostile playlist points, and what was touched."""

    fifo: Path
    url: str
    requests: list[str]
    fifo_opened: threading.Event
    own_video: Path
    out: Path


@pytest.fixture
def trap(tmp_path: Path, clip: ClipFactory) -> Iterator[Trap]:
    """A FIFO whose opening is watched and an HTTP server on 127.0.0.1 that records requests."""
    requests: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_error(404)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fifo = tmp_path / "segment.ts"
    os.mkfifo(fifo)
    opened = threading.Event()

    def watch() -> None:
        # A blocking open for writing returns only once someone opens the FIFO for reading.
        with contextlib.suppress(OSError), open(fifo, "wb"):
            opened.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    port = server.server_address[1]
    own = clip("own.mp4", audio_tracks=0)
    yield Trap(fifo, f"http://127.0.0.1:{port}/segment.ts", requests, opened, own, tmp_path / "out.mp4")
    server.shutdown()
    server.server_close()
    if not opened.is_set():  # release the watcher: our own read-side open completes its open
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        watcher.join(timeout=2)


def _hls(segment: str) -> str:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{segment}\n#EXT-X-ENDLIST\n"


PLAYLISTS: dict[str, Callable[[Trap], str]] = {
    "hls-fifo": lambda t: _hls(str(t.fifo)),
    "hls-file-url": lambda t: _hls(f"file:{t.fifo}"),
    "hls-http": lambda t: _hls(t.url),
    "ffconcat-http": lambda t: f"ffconcat version 1.0\nfile '{t.url}'\n",
}

CallSite = Callable[[Path, Trap], object]


def _nothing_kept(found: list[media.Arg]) -> None:
    """Subtitles are read as advice: a refused read keeps none (the mux itself then refuses the file)."""
    assert found == []
    raise InvalidInputError(reason("media.format_refused"))


def _advice_refused(found: HdrMetadata) -> None:
    """HDR metadata is advice: a refused read gives none (and the test wants the refusal raised)."""
    assert found == HdrMetadata()
    raise InvalidInputError(reason("media.format_refused"))


def _never() -> bool:
    return False


def _refused_animation(path: Path) -> None:
    """Pillow's reader is told the one format the first bytes name: anything else is refused unread."""
    try:
        animation.open_image(path, "gif")
    except animation.AnimationError as exc:
        raise InvalidInputError(exc.reason) from exc


def _no_proxy(written: bool) -> None:
    """An original ffmpeg refuses leaves the job without a proxy (the test wants the refusal raised)."""
    assert not written
    raise InvalidInputError(reason("job.proxy_not_written"))


#: An original the browser cannot play (MPEG-2 program stream), so a proxy is attempted.
DVD = dataclasses.replace(fake_info(25, 176, 144), format_name="mpeg", video_codec="mpeg2video")

#: Every function that opens an upload with ffmpeg, ffprobe or PyAV, as "file:qualified name".
CALL_SITES: dict[str, CallSite] = {
    "contract/probe.py:probe": lambda p, t: probe(p, **LIMITS, timeout_s=5),  # type: ignore[arg-type]
    "contract/probe.py:_run_ffprobe": lambda p, t: _run_ffprobe(p, 5),
    "contract/probe.py:keyframes": lambda p, t: keyframes(p, timeout_s=5),
    "contract/stream.py:count_packets": lambda p, t: count_packets(p, timeout_s=5, max_duration_s=60),
    "adapter/video/decode.py:Decoder.__init__": lambda p, t: video.Decoder(p),
    "adapter/video/muxer.py:mux": lambda p, t: muxer.mux(
        t.own_video, p, t.out, others=[], rotation=0, timeout_s=5
    ),
    "adapter/description/mux.py:mux": lambda p, t: description_mux(
        p, t.out, [], [], lang="en", audio_streams=1, timeout_s=5
    ),
    # The description's one writer, through its plain remux (mux() is an entry point to the same writer).
    "adapter/description/mux.py:_write": lambda p, t: description_remux(p, t.out, timeout_s=5),
    "adapter/video/muxer.py:kept_subtitles": lambda p, t: _nothing_kept(muxer.kept_subtitles(p, "mkv")),
    "adapter/description/audio.py:silences": lambda p, t: silences(p, 1.0, timeout_s=5),
    "adapter/description/scenes.py:frames_at": lambda p, t: frames_at(p, [0.5], 176, 144, timeout_s=5),
    "backend/intake/excerpt.py:packets": lambda p, t: excerpt.packets(p),
    "backend/intake/excerpt.py:cut": lambda p, t: excerpt.cut(p, 0.0, t.out),
    "adapter/description/scenes.py:_cuts": lambda p, t: detect_scenes(p, 1.0),
    "adapter/description/scenes.py:key_frame": lambda p, t: key_frame(p, 0.5, 176, 144, timeout_s=5),
    "contract/interlace.py:count_fields": lambda p, t: count_fields(p, 1.0, 25.0, timeout_s=5),
    "contract/hdr.py:read": lambda p, t: _advice_refused(hdr.read(p, timeout_s=5)),
    "adapter/video/proxy.py:write_proxy": lambda p, t: _no_proxy(
        write_proxy(p, t.out, DVD, Limits(), _never)
    ),
    "contract/animation.py:open_image": lambda p, t: _refused_animation(p),
}
#: Public fronts of a call site above, with checks of their own (probe sniffs the first bytes), and call sites
#: whose reading is done by a function they call: probe (ffprobe), keyframes (count_packets' pass),
#: the described mux (the description's one writer, ``_write``).
ENTRY_POINTS = {"contract/probe.py:probe", "contract/probe.py:keyframes", "adapter/description/mux.py:mux"}
#: Runner and PyAV calls that never see an upload.
NOT_USER_INPUT = {
    "adapter/media.py:run",  # the adapter's wrapper of the runner itself
    "adapter/description/speech.py:EspeakSpeaker.__call__",  # our own sentence on stdin
    "adapter/video/assembly.py:_open",  # our own segment files, opened as mov/mp4 only
    "adapter/description/ocr.py:TesseractReader._read",  # our own decoded frame, as PNG on stdin
    "adapter/video/animated.py:write",  # our own encoded video (mp4) or its RGBA twin (mov)
    "adapter/video/animated.py:_copy_video",  # our own encoded video (mp4)
    "adapter/video/animated.py:_join_alpha",  # our own encoded video; the source's alpha through open_image
}
#: The only modules allowed to start subprocesses themselves.
SUBPROCESS_MODULES = {"contract/media.py", "adapter/description/setup/fetch_models.py"}


@pytest.mark.parametrize("flavour", sorted(PLAYLISTS))
@pytest.mark.parametrize("site", sorted(CALL_SITES))
def test_every_call_site_refuses_a_disguised_playlist_unread(
    site: str, flavour: str, trap: Trap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = tmp_path / "input.mp4"
    upload.write_text(PLAYLISTS[flavour](trap))
    argvs: list[list[str]] = []
    monkeypatch.setattr(media, "observer", argvs.append)
    with pytest.raises((ProbeError, InvalidInputError, media.MediaFailed)):
        CALL_SITES[site](upload, trap)
    assert trap.requests == [] and not trap.fifo_opened.is_set()
    for argv in argvs:  # every input naming the upload came with both allow-lists
        at = argv.index(f"file:{upload.resolve()}")
        assert argv[at - 1] == "-i"
        head = argv[:at]
        assert head[head.index("-protocol_whitelist") + 1] == "file"
        assert head[head.index("-format_whitelist") + 1] == ALLOWED_FORMATS


def test_the_trap_catches_a_reader_without_the_allow_lists(trap: Trap, tmp_path: Path) -> None:
    # The control: the same playlist given to ffprobe without the format allow-list is followed.
    upload = tmp_path / "input.mp4"
    upload.write_text(PLAYLISTS["hls-http"](trap))
    args = ["ffprobe", "-v", "error", "-protocol_whitelist", "file,http,tcp", f"file:{upload}"]
    subprocess.run(args, capture_output=True, timeout=30, check=False)
    assert trap.requests == ["/segment.ts"]


def test_the_trap_sees_a_fifo_segment_opened(trap: Trap, tmp_path: Path) -> None:
    upload = tmp_path / "input.mp4"
    upload.write_text(PLAYLISTS["hls-fifo"](trap))
    args = ["ffprobe", "-v", "error", "-protocol_whitelist", "file", f"file:{upload}"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert trap.fifo_opened.wait(timeout=30)
    finally:
        process.kill()
        process.wait()


def _qualname(stack: list[ast.AST]) -> str:
    return ".".join(n.name for n in stack if isinstance(n, ast.FunctionDef | ast.ClassDef))


def _reads(path: Path) -> tuple[set[str], bool]:
    """Functions calling ``media.run``, ``av.open`` (not to write) or ``Image.open``; subprocess use."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    uses_subprocess = False

    def visit(node: ast.AST, stack: list[ast.AST]) -> None:
        nonlocal uses_subprocess
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            uses_subprocess |= any(n.split(".")[0] == "subprocess" for n in names)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
            writes = any(k.arg == "mode" for k in node.keywords)
            call = (owner, node.func.attr)
            if call in (("media", "run"), ("Image", "open")) or (call == ("av", "open") and not writes):
                found.add(_qualname(stack))
        for child in ast.iter_child_nodes(node):
            visit(child, [*stack, child] if isinstance(child, ast.FunctionDef | ast.ClassDef) else stack)

    visit(tree, [])
    return found, uses_subprocess


def test_the_registry_covers_every_reader_and_nothing_else_starts_subprocesses() -> None:
    readers: set[str] = set()
    spawners: set[str] = set()
    for folder in ("adapter", "contract", "backend"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            found, uses_subprocess = _reads(path)
            readers |= {f"{name}:{q}" for q in found}
            if uses_subprocess:
                spawners.add(name)
    assert readers == (set(CALL_SITES) - ENTRY_POINTS) | NOT_USER_INPUT
    assert spawners == SUBPROCESS_MODULES
