"""On-screen text in a frame: Tesseract (rus+eng, Debian) on a glyph mask, through the media runner.

Titles in user videos sit on busy pictures; Tesseract's own binarisation reads the picture as text.
What makes overlaid text legible to people is what is used here: glyphs are bright strokes ringed by
dark (an outline, a shadow or a box), or dark strokes ringed by light. Only such connected components
are kept, drawn black on white, one image per polarity, and each image is read with ``--psm 3``.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from adapter.errors import InferenceUnavailableError
from adapter.media import job_error
from contract import media
from contract.catalogue import reason
from contract.media import StopFn

#: A stroke is at least this bright (or, inverted, this dark) on 0..255 luma.
STROKE_LEVEL = 185
#: Its ring (2 px out, past the anti-aliased edge) must be darker than this ...
RING_LEVEL = 110
#: ... over at least this share of the ring pixels.
RING_SHARE = 0.8
#: Frames whose longer side is below this are enlarged 2x first: Tesseract wants glyphs ~30 px high,
#: and 20 px text in 1080p is 13 px in the 1280 px frame OCR gets (it lost letters and lines there).
ENLARGE_BELOW = 2000
#: Words below this Tesseract confidence are dropped; lines below ``LINE_CONFIDENCE`` on average too.
WORD_CONFIDENCE = 30.0
LINE_CONFIDENCE = 60.0
#: Texture read as text gives short fragments ("wy", "go", "INN"): a line needs a word of this many
#: letters, and a line of fewer than ``SHORT_LETTERS`` letters needs ``SHORT_CONFIDENCE``.
MIN_WORD = 4
SHORT_LETTERS = 6
SHORT_CONFIDENCE = 85.0
_NOT_LETTER = re.compile(r"[^\w]|[\d_]")
#: Blank border kept around the glyphs' bounding box (Tesseract wants a little white around text).
CROP_MARGIN = 16
_K3 = np.ones((3, 3), np.uint8)
_K5 = np.ones((5, 5), np.uint8)


@dataclass(frozen=True)
class TextLine:
    """One line of text: words, mean confidence 0..100, box ``(x1, y1, x2, y2)`` in 0..1, its block."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]
    block: int


class TextReader(Protocol):
    """Reads the text lines overlaid on one RGB frame (HxWx3 uint8)."""

    def __call__(self, frame: np.ndarray) -> list[TextLine]: ...


def glyph_mask(gray: np.ndarray) -> np.ndarray:
    """Pixels of bright strokes whose surrounding ring is dark (the outline or box of overlaid text)."""
    strokes = (gray > STROKE_LEVEL).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(strokes, connectivity=8)
    # Each ring pixel belongs to the component it grew from (labels dilated: the larger wins a tie).
    grown = cv2.dilate(labels.astype(np.float32), _K5)
    ring = (cv2.dilate(strokes, _K5) > 0) & (cv2.dilate(strokes, _K3) == 0)
    owner = grown[ring].astype(np.int64)
    total = np.bincount(owner, minlength=count)
    dark = np.bincount(owner[gray[ring] < RING_LEVEL], minlength=count)
    rows, cols = gray.shape
    height, width = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    keep = (dark >= RING_SHARE * np.maximum(total, 1)) & (height >= 8) & (height <= 0.25 * rows)
    keep &= width <= 0.5 * cols
    keep[0] = False
    return np.asarray(keep[labels])


@dataclass(frozen=True)
class _Crop:
    """The glyphs of one polarity drawn black on white, cut to their bounding box plus a margin."""

    image: np.ndarray
    top: int
    left: int


def _crop(mask: np.ndarray) -> _Crop | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    top, left = max(0, int(rows[0]) - CROP_MARGIN), max(0, int(cols[0]) - CROP_MARGIN)
    bottom, right = int(rows[-1]) + CROP_MARGIN + 1, int(cols[-1]) + CROP_MARGIN + 1
    return _Crop(np.where(mask[top:bottom, left:right], 0, 255).astype(np.uint8), top, left)


def parse_tsv(tsv: str, width: int, height: int, block_offset: int = 0) -> list[TextLine]:
    """Lines of Tesseract's TSV output, weak words and weak or letterless lines dropped."""
    words: dict[tuple[int, int, int], list[tuple[str, float, tuple[int, int, int, int]]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != 12 or cells[0] != "5" or not cells[11].strip():
            continue
        confidence = float(cells[10])
        if confidence < WORD_CONFIDENCE or not any(ch.isalnum() for ch in cells[11]):
            continue
        left, top, w, h = (int(v) for v in cells[6:10])
        key = (int(cells[2]), int(cells[3]), int(cells[4]))
        words.setdefault(key, []).append((cells[11].strip(), confidence, (left, top, left + w, top + h)))
    lines: list[TextLine] = []
    for (block, _par, _line), members in sorted(words.items()):
        text = " ".join(word for word, _c, _b in members)
        mean = sum(c for _w, c, _b in members) / len(members)
        letters = sum(ch.isalpha() for ch in text)
        longest = max(len(run) for run in _NOT_LETTER.split(text))
        if mean < LINE_CONFIDENCE or longest < MIN_WORD:
            continue
        if letters < SHORT_LETTERS and mean < SHORT_CONFIDENCE:
            continue
        x1, y1 = min(b[0] for *_, b in members), min(b[1] for *_, b in members)
        x2, y2 = max(b[2] for *_, b in members), max(b[3] for *_, b in members)
        box = (x1 / width, y1 / height, x2 / width, y2 / height)
        lines.append(TextLine(text, mean, box, block + block_offset))
    return lines


def _covered(inner: tuple[float, ...], outer: tuple[float, ...]) -> float:
    """Share of box ``inner`` that lies inside box ``outer``."""
    width = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    height = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return width * height / area if area > 0 else 1.0


def distinct(lines: list[TextLine]) -> list[TextLine]:
    """One reading per place: the fullest, most confident line wins over the lines lying within it.

    Both polarities can read the same text (a box edge makes a ring either way), and a stroke of
    an outlined word can be read again as a short word of its own.
    """
    kept: list[TextLine] = []
    for line in sorted(lines, key=lambda li: -len(li.text) * li.confidence):
        if all(_covered(line.box, other.box) < 0.5 for other in kept):
            kept.append(line)
    return sorted(kept, key=lambda li: (li.block, li.box[1]))


class TesseractReader:
    """Tesseract 5 from Debian (``tesseract-ocr``, ``-rus``, ``-eng``), one run per polarity of a frame."""

    def __init__(
        self,
        *,
        languages: str = "rus+eng",
        binary: str = "tesseract",
        timeout_s: float = 60,
        should_stop: StopFn | None = None,
    ) -> None:
        found = shutil.which(binary)
        if found is None:
            raise InferenceUnavailableError(reason("description.ocr_missing"))
        self.binary, self.languages, self.timeout_s = found, languages, timeout_s
        self.should_stop = should_stop

    def __call__(self, frame: np.ndarray) -> list[TextLine]:
        """Lines of light-on-dark text, then of dark-on-light text, in the frame."""
        gray = cv2.cvtColor(np.ascontiguousarray(frame, np.uint8), cv2.COLOR_RGB2GRAY)
        if max(gray.shape) < ENLARGE_BELOW:
            gray = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        # Each polarity's glyphs, cropped to their bounding box, stacked into one page: one Tesseract
        # run per frame (starting it and loading rus+eng costs about as much as reading the page).
        crops = [c for c in (_crop(glyph_mask(gray)), _crop(glyph_mask(255 - gray))) if c is not None]
        if not crops:
            return []
        width = max(c.image.shape[1] for c in crops)
        page = np.full((sum(c.image.shape[0] for c in crops), width), 255, np.uint8)
        offsets, row = [], 0
        for crop in crops:
            page[row : row + crop.image.shape[0], : crop.image.shape[1]] = crop.image
            offsets.append(row)
            row += crop.image.shape[0]
        lines: list[TextLine] = []
        for line in self._read(page, 0):
            x1, y1, x2, y2 = (line.box[0] * width, line.box[1] * row, line.box[2] * width, line.box[3] * row)
            index = max(i for i, start in enumerate(offsets) if start <= (y1 + y2) / 2)
            crop, shift = crops[index], offsets[index]
            frame_h, frame_w = gray.shape
            box = (
                (crop.left + x1) / frame_w,
                (crop.top + y1 - shift) / frame_h,
                (crop.left + x2) / frame_w,
                (crop.top + y2 - shift) / frame_h,
            )
            lines.append(TextLine(line.text, line.confidence, box, line.block + 1000 * index))
        return distinct(lines)

    def _read(self, image: np.ndarray, block_offset: int) -> list[TextLine]:
        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise ValueError("could not encode the frame")
        # The image comes on stdin, the TSV on stdout: no file names, no options from the input.
        args = [self.binary, "stdin", "stdout", "-l", self.languages, "--psm", "3", "tsv"]
        try:
            done = media.run(
                args, timeout_s=self.timeout_s, should_stop=self.should_stop, stdin=png.tobytes()
            )
        except media.MediaFailed as exc:
            # Tesseract failing on an image we drew is this worker's fault (a missing language pack).
            raise InferenceUnavailableError(reason("description.ocr_failed")) from exc
        except media.MediaError as exc:
            raise job_error(exc, reason("description.ocr_failed")) from exc
        height, width = image.shape
        return parse_tsv(done.stdout.decode("utf-8", "replace"), width, height, block_offset)
