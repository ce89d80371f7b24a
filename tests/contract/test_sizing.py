"""One output-size rule: the backend, the adapter and the page compute the same size for every input."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapter.errors import LimitExceededError
from adapter.limits import Limits
from adapter.video import pipeline
from backend.errors import InvalidRequest
from backend.intake.options import output_size as backend_output_size
from contract import limits, sizing
from contract.messages import JobOptions
from contract.probe import probe
from contract.sizing import SizeRefused, display_size, even, output_size
from tests.fixtures.media import ClipFactory, ffprobe
from tests.fixtures.services import require

ROOT = Path(__file__).resolve().parents[2]
SIZING_JS = ROOT / "site" / "sizing.js"
CHROMIUM = Path("/usr/bin/chromium")
#: Refusals: the contract's catalogue code ↔ the page's i18n key.
REFUSALS = {"options.height_not_larger": "size.too_small", "options.output_too_large": "size.too_big"}

# (stored width, stored height, SAR, rotation): odd sizes, non-square pixels, portrait, rotated, edges.
INPUTS: list[tuple[int, int, Fraction, int]] = [
    (110, 480, Fraction(1), 0),
    (177, 99, Fraction(1), 0),
    (176, 144, Fraction(1), 0),
    (2, 3, Fraction(1), 270),
    (720, 480, Fraction(8, 9), 0),
    (720, 480, Fraction(32, 27), 0),
    (720, 576, Fraction(16, 15), 0),
    (720, 576, Fraction(64, 45), 0),
    (352, 240, Fraction(10, 11), 0),
    (1440, 1080, Fraction(4, 3), 0),
    (720, 480, Fraction(8, 9), 90),
    (1080, 1920, Fraction(1), 0),
    (1920, 1080, Fraction(1), 90),
    (1281, 719, Fraction(1), 180),
    (3840, 2160, Fraction(1), 0),
    (2160, 3840, Fraction(1), 0),
    (1921, 1081, Fraction(1), 0),
    (1080, 1920, Fraction(16, 11), 270),
]
# Every offered height and scale, plus the edges a form can send.
CHOICES: list[dict[str, int]] = [
    *(
        {"height": h}
        for h in (*sizing.OFFERED_HEIGHTS, limits.MIN_OUTPUT_HEIGHT, 721, limits.MAX_OUTPUT_HEIGHT)
    ),
    *({"scale": s} for s in (1, *sizing.SCALES)),
]
#: A size [width, height], or the page key of a refusal.
Answer = list[int] | str
CASES = [(*source, choice) for source in INPUTS for choice in CHOICES]


def contract_answer(width: int, height: int, sar: Fraction, rotation: int, choice: dict[str, int]) -> Answer:
    """The rule's size, or the page's key of its refusal."""
    try:
        return list(
            output_size(
                width,
                height,
                scale=choice.get("scale"),
                to_height=choice.get("height"),
                sar=sar,
                rotation=rotation,
            )
        )
    except SizeRefused as exc:
        return REFUSALS[exc.code]


def backend_answer(width: int, height: int, sar: Fraction, rotation: int, choice: dict[str, int]) -> Answer:
    options = JobOptions(**choice)
    try:
        return list(backend_output_size(options, width, height, sar=sar, rotation=rotation))
    except InvalidRequest as exc:
        assert exc.reason is not None, "the backend refuses with a catalogue reason"
        return REFUSALS[exc.reason.code]


def adapter_answer(width: int, height: int, sar: Fraction, rotation: int, choice: dict[str, int]) -> Answer:
    try:
        return list(
            pipeline.job_output_size(
                JobOptions(**choice), width, height, sar=sar, rotation=rotation, box=Limits().max_output
            )
        )
    except SizeRefused as exc:
        return REFUSALS[exc.code]


def page_answers(cases: list[tuple[int, int, Fraction, int, dict[str, int]]], folder: Path) -> list[Answer]:
    """Run site/sizing.js in Node (as an ES module) over ``cases`` with the config's output box."""
    node = shutil.which("node")
    require(node is not None, "node is not installed")
    assert node is not None
    module = folder / "sizing.mjs"
    shutil.copy(SIZING_JS, module)
    script = (
        f"import {{ outputSize }} from {json.dumps(module.as_uri())};\n"
        "let text = ''; process.stdin.on('data', (d) => { text += d; });\n"
        "process.stdin.on('end', () => {\n"
        "  const { box, cases } = JSON.parse(text);\n"
        "  const out = cases.map(([w, h, sar, rot, choice]) => {\n"
        "    const r = outputSize(w, h, choice, { sar, rotation: rot, box });\n"
        "    return r.why ?? r.size;\n"
        "  });\n"
        "  process.stdout.write(JSON.stringify(out));\n"
        "});\n"
    )
    payload = {
        "box": list(sizing.OUTPUT_BOX),
        "cases": [[w, h, [sar.numerator, sar.denominator], rot, choice] for w, h, sar, rot, choice in cases],
    }
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers: list[Answer] = json.loads(done.stdout)
    return answers


def test_backend_adapter_and_page_agree_on_every_case(tmp_path: Path) -> None:
    expected = [contract_answer(*case) for case in CASES]
    assert [backend_answer(*case) for case in CASES] == expected
    assert [adapter_answer(*case) for case in CASES] == expected
    assert page_answers(CASES, tmp_path) == expected
    # The grid covers what it claims: sizes, both refusals, and non-square pixels that change the size.
    assert {"size.too_small", "size.too_big"} <= {
        str(answer) for answer in expected if isinstance(answer, str)
    }
    assert sum(isinstance(answer, list) for answer in expected) > len(CASES) // 2


@pytest.mark.parametrize(
    ("source", "choice", "size"),
    [
        # The case: 110×480 to 720 p tall is 165 wide, rounded half up to the even 166.
        ((110, 480, Fraction(1), 0), {"height": 720}, (166, 720)),
        ((177, 99, Fraction(1), 0), {"scale": 3}, (532, 298)),
        ((177, 99, Fraction(1), 0), {"height": 720}, (1288, 720)),
        # NTSC 4:3 DVD: tall pixels heighten the picture to 720×540, as browsers show it.
        ((720, 480, Fraction(8, 9), 0), {"scale": 2}, (1440, 1080)),
        ((720, 480, Fraction(8, 9), 0), {"height": 1080}, (1440, 1080)),
        ((720, 480, Fraction(8, 9), 90), {"height": 1080}, (810, 1080)),
        # PAL 16:9: wide pixels widen it to 1024×576.
        ((720, 576, Fraction(64, 45), 0), {"height": 720}, (1280, 720)),
        ((1920, 1080, Fraction(1), 90), {"scale": 2}, (2160, 3840)),
        ((2160, 3840, Fraction(1), 0), {"scale": 2}, (4320, 7680)),
    ],
)
def test_known_sizes(
    source: tuple[int, int, Fraction, int], choice: dict[str, int], size: tuple[int, int]
) -> None:
    assert tuple(contract_answer(*source, choice)) == size


def test_rounding_is_half_up_to_even_and_at_least_two() -> None:
    assert [even(Fraction(n, 2)) for n in (1, 2, 5, 6, 7, 9, 10)] == [2, 2, 2, 4, 4, 4, 6]
    assert even(Fraction(165)) == 166 and even(Fraction(163)) == 164 and even(Fraction(164)) == 164
    assert display_size(720, 576, sar=Fraction(12, 11)) == (785, 576)  # 785.45… → 785


def test_the_cap_is_one_box_in_either_orientation() -> None:
    assert output_size(3840, 2160, scale=2) == (7680, 4320)
    assert output_size(2160, 3840, scale=2) == (4320, 7680)
    with pytest.raises(SizeRefused) as caught:
        output_size(1921, 1081, scale=4)
    assert caught.value.code == "options.output_too_large"
    assert caught.value.reason.params == {
        "width": 7684,
        "height": 4324,
        "max_width": 7680,
        "max_height": 4320,
    }
    assert "7680×4320" in caught.value.reason.text("ru")
    with pytest.raises(SizeRefused, match="already 540 px tall"):
        output_size(720, 480, to_height=480, sar=Fraction(8, 9))
    with pytest.raises(ValueError):
        output_size(2, 2, scale=2, to_height=4)


def _sar_clip(clip: ClipFactory, name: str, sar: str, rotate: int = 0) -> Path:
    return clip(name, source=f"testsrc2=size=64x48:rate=25,setsar={sar}", audio_tracks=0, rotate=rotate)


@pytest.mark.parametrize(("sar", "rotate"), [("8/9", 0), ("16/11", 90)])
def test_probe_reads_the_sample_aspect_ratio(clip: ClipFactory, sar: str, rotate: int) -> None:
    info = probe(
        _sar_clip(clip, f"sar-{sar.replace('/', '_')}-{rotate}.mp4", sar, rotate),
        max_width=3840,
        max_height=2160,
        max_duration_s=60,
    )
    assert info.sar == Fraction(sar) and info.rotation == rotate
    assert (info.frame_width, info.frame_height) == (64, 48)


def test_square_frames_probe_as_sar_one(clip: ClipFactory) -> None:
    info = probe(
        clip("square.mp4", size="64x48", audio_tracks=0), max_width=3840, max_height=2160, max_duration_s=60
    )
    assert info.sar == 1


def test_the_adapter_writes_the_predicted_size_in_square_pixels(clip: ClipFactory, tmp_path: Path) -> None:
    from adapter.inference.upscalers import make_upscaler
    from contract.models import DEFAULT_MODEL

    models_dir = ROOT / ".models" / "onnx"
    require((models_dir / f"{DEFAULT_MODEL}.onnx").is_file(), f"{DEFAULT_MODEL}.onnx missing")
    source = _sar_clip(clip, "sar-run.mp4", "8/9", rotate=90)
    info = probe(source, max_width=3840, max_height=2160, max_duration_s=60)
    predicted = backend_output_size(JobOptions(scale=2), 64, 48, sar=info.sar, rotation=info.rotation)
    assert predicted == (108, 128)  # 64×48 with tall pixels shows as 64×54; turned, 54×64; ×2
    upscaler = make_upscaler(DEFAULT_MODEL, None, models_dir, 60)
    try:
        result = pipeline.run(source, tmp_path / "out.mp4", JobOptions(scale=2), upscaler)
    finally:
        upscaler.close()
    out = probe(tmp_path / "out.mp4", max_width=3840, max_height=2160, max_duration_s=60)
    assert (result.width, result.height) == (out.width, out.height) == predicted
    assert out.sar == 1 and out.rotation == 90
    stream = next(s for s in ffprobe(tmp_path / "out.mp4")["streams"] if s["codec_type"] == "video")
    assert stream.get("sample_aspect_ratio", "1:1") in ("1:1", "0:1")


def test_the_adapter_refuses_what_the_backend_refuses(clip: ClipFactory, tmp_path: Path) -> None:
    source = _sar_clip(clip, "sar-small.mp4", "8/9")

    class NoModel:
        scale, max_batch, in_flight, device = 4, 1, 1, "cpu"

        def infer(self, batch: np.ndarray) -> np.ndarray:
            raise AssertionError("nothing is inferred for a refused size")

        def close(self) -> None:
            return None

    with pytest.raises(LimitExceededError, match="already 54 px tall"):
        pipeline.run(source, tmp_path / "out.mp4", JobOptions(height=48), NoModel())
    with pytest.raises(LimitExceededError, match="largest output is 100×100"):
        pipeline.run(
            source, tmp_path / "o.mp4", JobOptions(scale=4), NoModel(), limits=Limits(max_output=(100, 100))
        )
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a folder holding site/sizing.js (and the clips the test puts there)."""
    shutil.copy(SIZING_JS, tmp_path / "sizing.js")
    (tmp_path / "index.html").write_text("<!doctype html><title>sizing</title>")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


_PAGE_PREDICTION = """async ([src, choice, box]) => {
  const { outputSize } = await import("/sizing.js");
  const video = document.createElement("video");
  video.muted = true;
  await new Promise((ok, fail) => { video.onloadedmetadata = ok; video.onerror = fail; video.src = src; });
  const out = outputSize(video.videoWidth, video.videoHeight, choice, { box });
  return [video.videoWidth, video.videoHeight, out.why ?? out.size];
}"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize(("sar", "rotate"), [("8/9", 0), ("16/11", 0), ("8/9", 90), ("1/1", 270)])
def test_the_page_predicts_from_the_browser_what_the_backend_computes(
    clip: ClipFactory, served: tuple[str, Path], sar: str, rotate: int
) -> None:
    """Chromium's videoWidth/videoHeight is the rule's display size, so the page's prediction is exact."""
    require(CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed in the venv")
        raise
    base, folder = served
    name = f"b-{sar.replace('/', '_')}-{rotate}.mp4"
    shutil.copy(_sar_clip(clip, name, sar, rotate), folder / name)
    info = probe(folder / name, max_width=3840, max_height=2160, max_duration_s=60)
    shown = display_size(info.frame_width, info.frame_height, sar=info.sar, rotation=info.rotation)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(f"{base}/index.html")
            for choice in [{"scale": 2}, {"scale": 4}, *({"height": h} for h in sizing.OFFERED_HEIGHTS)]:
                width, height, predicted = page.evaluate(
                    _PAGE_PREDICTION, [f"/{name}", choice, list(sizing.OUTPUT_BOX)]
                )
                assert (width, height) == shown
                options = JobOptions(**choice)
                try:
                    expected: Answer = list(
                        backend_output_size(
                            options, info.frame_width, info.frame_height, sar=info.sar, rotation=rotate
                        )
                    )
                except InvalidRequest as exc:
                    assert exc.reason is not None
                    expected = REFUSALS[exc.reason.code]
                assert predicted == expected, choice
        finally:
            browser.close()
