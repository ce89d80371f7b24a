"""On-screen text over time: appearances de-duplicated across frames, subtitles told apart, sentences."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from adapter.description.ocr import TextLine
from adapter.description.sentences import russian_form

Lang = Literal["ru", "en"]
#: Two readings of one text (OCR varies a little between frames) are at least this similar.
SAME_TEXT = 0.75
#: A text missed in this many samples in a row (an OCR miss) still counts as the same appearance.
MISSES_ALLOWED = 1
#: Dialogue subtitles: in the bottom part of the frame, centred, each shown at most this long.
SUBTITLE_TOP = 0.7
SUBTITLE_MAX_S = 8.0
#: A text read in one sample only must be read this confidently (real titles score 90+; texture
#: misread as text rarely repeats, so a second reading corroborates a weaker one).
SINGLE_CONFIDENCE = 85.0
#: Text of more lines than this is read as its first line and "and N more lines".
MAX_LINES = 2
_NAMES = {"ru": {"ru": "русском", "en": "английском"}, "en": {"ru": "Russian", "en": "English"}}
#: Feminine numerals: «строка» is feminine (одна строка, две строки).
_RU_LINES = {
    1: "одна", 2: "две", 3: "три", 4: "четыре", 5: "пять", 6: "шесть", 7: "семь", 8: "восемь", 9: "девять"
}  # fmt: skip


@dataclass
class Appearance:
    """One text block on screen from ``first`` to ``last`` (sample times), read best as ``lines``."""

    lines: list[str]
    confidence: float
    box: tuple[float, float, float, float]
    first: float
    last: float
    misses: int = 0
    keys: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All lines, joined by spaces."""
        return " ".join(self.lines)

    @property
    def subtitle_like(self) -> bool:
        """Placed like a dialogue subtitle: low in the frame and horizontally centred."""
        centre = (self.box[0] + self.box[2]) / 2
        return self.box[1] >= SUBTITLE_TOP and abs(centre - 0.5) < 0.1


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _similar(a: str, b: str) -> bool:
    """The same text read twice: nearly equal, or one reading is a part of the other (a word missed)."""
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 3 and shorter in longer:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= SAME_TEXT


def blocks(lines: Sequence[TextLine]) -> list[tuple[list[str], float, tuple[float, float, float, float]]]:
    """Lines grouped by Tesseract's blocks: (lines top to bottom, mean confidence, union box)."""
    grouped: dict[int, list[TextLine]] = {}
    for line in lines:
        grouped.setdefault(line.block, []).append(line)
    found = []
    for members in grouped.values():
        members.sort(key=lambda m: m.box[1])
        box = (
            min(m.box[0] for m in members),
            min(m.box[1] for m in members),
            max(m.box[2] for m in members),
            max(m.box[3] for m in members),
        )
        found.append(([m.text for m in members], sum(m.confidence for m in members) / len(members), box))
    return found


def track(samples: Sequence[tuple[float, Sequence[TextLine]]]) -> list[Appearance]:
    """Appearances over time-ordered samples: a text seen again in the next sample continues its own."""
    done: list[Appearance] = []
    open_: list[Appearance] = []
    for time_s, lines in samples:
        seen: list[Appearance] = []
        for text_lines, confidence, box in blocks(lines):
            key = _key(" ".join(text_lines))
            match = next((a for a in open_ if a not in seen and _similar(key, a.keys[-1])), None)
            if match is None:
                match = Appearance(text_lines, confidence, box, time_s, time_s)
                open_.append(match)
            elif len(key) * confidence > len(match.keys[-1]) * match.confidence:  # the fullest, clearest
                match.lines, match.confidence, match.box = text_lines, confidence, box
            match.keys.append(key)
            match.last, match.misses = time_s, 0
            seen.append(match)
        for appearance in [a for a in open_ if a not in seen]:
            appearance.misses += 1
            if appearance.misses > MISSES_ALLOWED:
                open_.remove(appearance)
                done.append(appearance)
    found = [a for a in done + open_ if len(a.keys) > 1 or a.confidence >= SINGLE_CONFIDENCE]
    return sorted(found, key=lambda a: a.first)


def split_subtitles(appearances: Sequence[Appearance]) -> tuple[list[Appearance], list[Appearance]]:
    """(titles, subtitles): subtitle-placed texts are subtitles when several short ones follow each other."""
    candidates = [a for a in appearances if a.subtitle_like and a.last - a.first <= SUBTITLE_MAX_S]
    if len({_key(a.text) for a in candidates}) < 2:
        return list(appearances), []
    return [a for a in appearances if a not in candidates], candidates


def script(text: str) -> Lang | None:
    """The language a text is written in, by its letters: Cyrillic → ru, Latin → en; None without letters."""
    cyrillic = sum("а" <= ch.lower() <= "я" or ch.lower() == "ё" for ch in text)
    latin = sum("a" <= ch.lower() <= "z" for ch in text)
    if cyrillic == latin == 0:
        return None
    return "ru" if cyrillic >= latin else "en"


def _more_lines(count: int, lang: Lang) -> str:
    if lang == "en":
        return f" and {count} more line{'s' if count > 1 else ''}"
    noun = {"one": "строка", "few": "строки", "many": "строк"}[russian_form(count)]
    return f" и ещё {_RU_LINES.get(count, str(count))} {noun}"


def text_sentence(lines: Sequence[str], lang: Lang, *, subtitle: bool = False) -> str:
    """What is read for a text: «Надпись: «…».», «Надпись на английском: «…».», first line of long text."""
    shown = list(lines) if len(lines) <= MAX_LINES else [lines[0]]
    body = " ".join(shown).strip()
    rest = _more_lines(len(lines) - 1, lang) if len(lines) > MAX_LINES else ""
    quoted = f"«{body}»" if lang == "ru" else f"“{body}”"
    if subtitle:
        return f"{quoted}{rest}."
    written = script(" ".join(lines)) or lang
    if written == lang:
        label = "Надпись" if lang == "ru" else "On screen"
    else:
        label = f"Надпись на {_NAMES['ru'][written]}" if lang == "ru" else f"Text in {_NAMES['en'][written]}"
    return f"{label}: {quoted}{rest}."
