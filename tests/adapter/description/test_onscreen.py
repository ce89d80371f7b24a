"""On-screen text end to end: photographs with drawtext titles, read into the VTT once, in their shot."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from adapter.description import DescriptionResult, describe
from adapter.description.ocr import TesseractReader, TextLine, parse_tsv
from adapter.description.onscreen import split_subtitles, text_sentence, track
from adapter.description.scenes import frames_at, key_frame
from adapter.description.shots import OCR_SIDE
from tests.fixtures.services import require

#: Whole pipeline runs over real media, seconds each: in `make test`, out of the `make test-fast` loop.
pytestmark = pytest.mark.slow

FONTS = Path("/usr/share/fonts/truetype/dejavu")
SHOT_S = 5.0
#: (shot, text, font, drawtext style, shown from, shown until) over three photographs of 5 s each.
TITLES = [
    (0, "Новости дня", "DejaVuSans-Bold.ttf", "fontsize=44:fontcolor=white:borderw=3:x=30:y=30", 0.0, 5.0),
    (
        1,
        "Open the door",
        "DejaVuSerif.ttf",
        "fontsize=32:fontcolor=black:box=1:boxcolor=white@0.85:boxborderw=8:x=200:y=260",
        6.0,
        8.5,
    ),
    (
        2,
        "Выход на сцену",
        "DejaVuSansMono-Bold.ttf",
        "fontsize=30:fontcolor=yellow:borderw=2:x=40:y=40",
        10.0,
        15.0,
    ),
    (
        2,
        "Сегодня в кино",
        "DejaVuSerifCondensed-Bold.ttf",
        "fontsize=36:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6:x=300:y=200",
        12.5,
        14.8,
    ),
]
PHOTOS = ("astronaut", "coffee", "chelsea")
SUBTITLES = [("Where were you yesterday?", 0.3, 2.8), ("I was at home all day.", 3.2, 5.8)]
_QUOTED = re.compile(r"[«“](.+?)[»”]")
_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> ")


def cer(read: str, truth: str) -> float:
    """Character error rate: Levenshtein distance over the length of the truth."""
    row = list(range(len(truth) + 1))
    for i, a in enumerate(read, 1):
        previous, row[0] = row[0], i
        for j, b in enumerate(truth, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (a != b))
    return row[-1] / max(1, len(truth))


def _font(name: str) -> Path:
    path = FONTS / name
    require(path.is_file(), f"{path} is missing: install fonts-dejavu-core")
    return path


def _drawtext(folder: Path, number: int, text: str, font: str, style: str, start: float, end: float) -> str:
    source = folder / f"text{number}.txt"
    source.write_text(text, encoding="utf-8")  # textfile=: no escaping of commas and colons in the graph
    where = f":enable='between(t,{start},{end})'"
    return f"drawtext=fontfile={_font(font)}:textfile={source}:bordercolor=black:{style}{where}"


def _photo(folder: Path, name: str) -> Path:
    import skimage.data
    import skimage.io

    path = folder / f"{name}.png"
    skimage.io.imsave(path, getattr(skimage.data, name)(), check_contrast=False)
    return path


def _encode(args: list[str], graph: str, clip: Path) -> Path:
    args += ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast"]
    args += ["-pix_fmt", "yuv420p", "-g", "25", str(clip)]
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=120)
    return clip


@pytest.fixture(scope="module")
def titles_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 s, 640x360, no sound: three photographs with Cyrillic and Latin titles in four fonts."""
    folder = tmp_path_factory.mktemp("titles")
    args: list[str] = []
    for name in PHOTOS:
        args += ["-loop", "1", "-framerate", "25", "-t", str(SHOT_S), "-i", str(_photo(folder, name))]
    fit = "scale=640:360:force_original_aspect_ratio=increase,crop=640:360,setsar=1,fps=25"
    graph = ";".join(f"[{i}:v]{fit}[p{i}]" for i in range(len(PHOTOS)))
    graph += ";" + "".join(f"[p{i}]" for i in range(len(PHOTOS))) + f"concat=n={len(PHOTOS)}:v=1:a=0"
    graph += "".join("," + _drawtext(folder, n, *title[1:]) for n, title in enumerate(TITLES)) + "[v]"
    return _encode(args, graph, folder / "titles.mp4")


@pytest.fixture(scope="module")
def russian(
    titles_clip: Path, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> DescriptionResult:
    return describe(titles_clip, tmp_path_factory.mktemp("ru") / "out.mp4", lang="ru")


def _cues(result: DescriptionResult) -> list[tuple[float, str]]:
    assert result.vtt_path is not None
    vtt = result.vtt_path.read_text(encoding="utf-8")
    blocks = [b.splitlines() for b in vtt.split("\n\n") if _TIME.search(b)]
    found = []
    for block in blocks:
        match = _TIME.search(block[1])
        assert match is not None
        h, m, s, ms = (int(v) for v in match.groups())
        found.append((h * 3600 + m * 60 + s + ms / 1000, " ".join(block[2:])))
    return found


def test_each_title_is_read_once_within_its_shot_and_after_it_appears(russian: DescriptionResult) -> None:
    assert [round(s.start) for s in russian.scenes] == [0, 5, 10]
    cues = _cues(russian)
    for shot, text, _font, _style, shown_from, _until in TITLES:
        reads = [(start, q) for start, said in cues for q in _QUOTED.findall(said) if cer(q, text) <= 0.1]
        assert len(reads) == 1, (text, cues)
        start = reads[0][0]
        assert shot * SHOT_S <= start < (shot + 1) * SHOT_S, (text, start)
        assert start >= shown_from - 0.05, (text, start)
    said = {q: s for _t, s in cues for q in _QUOTED.findall(s)}
    english = next(s for q, s in said.items() if cer(q, "Open the door") <= 0.1)
    assert english.startswith("Надпись на английском: «")
    assert next(s for q, s in said.items() if cer(q, "Новости дня") <= 0.1).startswith("Надпись: «")


def test_the_job_note_counts_descriptions_by_source(russian: DescriptionResult) -> None:
    (note,) = russian.notes
    assert note.code == "description.added"
    assert note.params["count"] == len(russian.cues)
    assert note.params["text"] == len(TITLES)
    assert int(note.params["people"]) >= 1  # the astronaut


@pytest.fixture(scope="module")
def subtitled_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s of one photograph with two burned-in dialogue subtitles, bottom centre."""
    folder = tmp_path_factory.mktemp("subtitles")
    args = ["-loop", "1", "-framerate", "25", "-t", "6", "-i", str(_photo(folder, "rocket"))]
    graph = "[0:v]scale=640:360:force_original_aspect_ratio=increase,crop=640:360,setsar=1,fps=25"
    style = "fontsize=30:fontcolor=white:borderw=3:x=(w-tw)/2:y=h-60"
    for number, (text, start, end) in enumerate(SUBTITLES):
        graph += "," + _drawtext(folder, number, text, "DejaVuSans.ttf", style, start, end)
    return _encode(args, graph + "[v]", folder / "subtitled.mp4")


def test_dialogue_subtitles_are_not_read_unless_asked(
    subtitled_clip: Path, model_path: Path, tmp_path: Path
) -> None:
    plain = describe(subtitled_clip, tmp_path / "plain.mp4", lang="en", density="brief")
    assert not any(q for c in plain.cues for q in _QUOTED.findall(c.text))
    read = describe(subtitled_clip, tmp_path / "read.mp4", lang="en", density="brief", read_subtitles=True)
    quoted = [q for c in read.cues for q in _QUOTED.findall(c.text)]
    assert len(quoted) == len(SUBTITLES)
    for said, (text, _start, _end) in zip(quoted, SUBTITLES, strict=True):
        assert cer(said, text) <= 0.1, (said, text)


def test_an_animation_with_nothing_to_describe_gets_no_track(model_path: Path, tmp_path: Path) -> None:
    clip = tmp_path / "cells.mp4"
    # A fixed seed: cellauto's random first row once (about 1 run in 17) drew glyph-like cells Tesseract read
    # as «ъььь ьь Ly ъььь»; this test is about a clip with nothing to read, not about that false reading.
    source = ["-f", "lavfi", "-i", "cellauto=s=320x240:rate=25:rule=110:scroll=1:seed=1", "-t", "3"]
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-y",
            *source,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(clip),
        ],
        check=True,
        timeout=60,
    )
    result = describe(clip, tmp_path / "out.mp4", lang="ru")
    assert result.cues == [] and result.vtt_path is None
    assert not (tmp_path / "out.vtt").exists()
    assert [n.code for n in result.notes] == ["description.nothing_found"]
    assert result.notes[0].text("ru").startswith("В этом видео не нашлось, что описать")
    probe = [
        "ffprobe",
        "-v",
        "error",
        "-show_entries",
        "stream=codec_type",
        "-of",
        "csv=p=0",
        str(result.output_path),
    ]
    streams = subprocess.run(probe, capture_output=True, text=True, check=True, timeout=30).stdout.split()
    assert streams == ["video"]


def _line(text: str, top: float, block: int = 1, left: float = 0.1, right: float = 0.6) -> TextLine:
    return TextLine(text, 90.0, (left, top, right, top + 0.06), block)


def test_a_title_read_slightly_differently_across_frames_is_one_appearance() -> None:
    samples = [
        (0.5, [_line("Новости дня", 0.1)]),
        (1.5, [_line("Новостн дня", 0.1)]),
        (2.5, []),  # one missed reading
        (3.5, [_line("Новости дня", 0.1)]),
        (4.5, []),
        (5.5, []),
        (6.5, [_line("Новости дня", 0.1)]),  # gone for two samples: it came back
    ]
    found = track(samples)
    assert [(a.first, a.last) for a in found] == [(0.5, 3.5), (6.5, 6.5)]


def test_subtitles_are_told_from_a_lower_third_title() -> None:
    one_caption = track([(0.5, [_line("Иван Петров, мэр", 0.85, left=0.3, right=0.7)])])
    assert split_subtitles(one_caption) == (one_caption, [])
    dialogue = track(
        [
            (0.5, [_line("Где ты был?", 0.85, left=0.35, right=0.65)]),
            (1.5, [_line("Дома.", 0.85, left=0.45, right=0.55)]),
        ]
    )
    assert split_subtitles(dialogue) == ([], dialogue)


def test_text_sentences_name_the_language_and_summarise_long_text() -> None:
    assert text_sentence(["Привет"], "ru") == "Надпись: «Привет»."
    assert text_sentence(["Hello"], "ru") == "Надпись на английском: «Hello»."
    assert text_sentence(["Привет"], "en") == "Text in Russian: “Привет”."
    lines = ["Меню", "Суп", "Каша", "Чай", "Кофе", "Сок"]
    assert text_sentence(lines, "ru") == "Надпись: «Меню» и ещё пять строк."
    assert text_sentence(lines[:4], "ru") == "Надпись: «Меню» и ещё три строки."
    assert text_sentence(["Menu", "Soup", "Tea"], "en") == "On screen: “Menu” and 2 more lines."
    assert text_sentence(["Где ты был?"], "ru", subtitle=True) == "«Где ты был?»."


def test_tesseract_tsv_keeps_confident_lettered_lines() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "5\t1\t1\t1\t1\t1\t10\t10\t50\t20\t95.0\tOpen",
        "5\t1\t1\t1\t1\t2\t70\t10\t40\t20\t91.0\tdoor",
        "5\t1\t2\t1\t1\t1\t10\t80\t20\t20\t96.0\t~",
        "5\t1\t3\t1\t1\t1\t10\t90\t50\t20\t40.0\tzzkq",
    ]
    (line,) = parse_tsv("\n".join([header, *rows]), 200, 100)
    assert line.text == "Open door" and line.box == (0.05, 0.1, 0.55, 0.3)


def test_one_decoder_run_gives_the_same_frames_as_one_seek_per_frame(titles_clip: Path) -> None:
    times = [5.5, 6.5, 7.5, 14.9]
    batch = frames_at(titles_clip, times, 640, 360, side=1280)
    single = [key_frame(titles_clip, t, 640, 360, side=1280) for t in times]
    assert len(batch) == len(times)
    for a, b in zip(batch, single, strict=True):
        assert a.shape == (360, 640, 3) and np.array_equal(a, b)


def test_twenty_pixel_text_in_full_hd_is_read(tmp_path: Path) -> None:
    """Text 20 px high (28 px DejaVu) in 1920x1080 survives the 1280 px OCR frame."""
    folder = tmp_path
    args = ["-loop", "1", "-framerate", "25", "-t", "1", "-i", str(_photo(folder, "astronaut"))]
    texts = [
        ("Привет из Москвы", "DejaVuSans.ttf", "fontsize=28:fontcolor=white:borderw=2:x=100:y=100"),
        (
            "Welcome home",
            "DejaVuSerif.ttf",
            "fontsize=28:fontcolor=black:box=1:boxcolor=white@0.8:boxborderw=4:x=900:y=800",
        ),
    ]
    graph = "[0:v]scale=1920:1080,setsar=1"
    graph += "".join(
        "," + _drawtext(folder, n, text, font, style, 0, 1) for n, (text, font, style) in enumerate(texts)
    )
    clip = _encode(args, graph + "[v]", folder / "hd.mp4")
    (frame,) = frames_at(clip, [0.5], 1920, 1080, side=OCR_SIDE)
    read = [line.text for line in TesseractReader()(frame)]
    assert len(read) == len(texts), read
    for said, (text, _font, _style) in zip(read, texts, strict=True):
        assert cer(said, text) <= 0.1, (said, text)
