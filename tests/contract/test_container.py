"""The container rule: MP4 unless MP4 would lose subtitles MKV keeps."""

from __future__ import annotations

import pytest

from contract.container import container_for, container_of_suffix, container_option, keeps, needs_mkv


@pytest.mark.parametrize(
    ("codecs", "attachments", "chosen"),
    [
        ((), 0, "mp4"),
        (("subrip",), 0, "mp4"),  # SRT becomes mov_text without loss
        (("mov_text",), 0, "mp4"),
        (("ass",), 0, "mp4"),  # styles without fonts: their text is what matters
        (("ass",), 2, "mkv"),  # a fansub: styles and the fonts they name
        (("hdmv_pgs_subtitle",), 0, "mkv"),  # Blu-ray
        (("subrip", "dvd_subtitle"), 0, "mkv"),  # DVD
        (("dvb_subtitle",), 0, "mkv"),  # broadcast
        (("dvb_teletext",), 0, "mp4"),  # neither keeps it: nothing to gain
    ],
)
def test_auto_chooses_mkv_only_where_mp4_would_lose(
    codecs: tuple[str, ...], attachments: int, chosen: str
) -> None:
    assert container_for("auto", codecs, attachments) == chosen
    assert needs_mkv(codecs, attachments) is (chosen == "mkv")


def test_an_explicit_choice_wins() -> None:
    assert container_for("mp4", ("hdmv_pgs_subtitle",), 0) == "mp4"
    assert container_for("mkv", (), 0) == "mkv"


def test_what_each_container_keeps() -> None:
    assert keeps("mp4", "ass") and not keeps("mp4", "hdmv_pgs_subtitle")
    assert keeps("mkv", "hdmv_pgs_subtitle") and keeps("mkv", "mov_text") and not keeps("mkv", "dvb_teletext")


def test_names() -> None:
    assert [container_option(t) for t in ("auto", "mp4", "mkv", "avi")] == ["auto", "mp4", "mkv", None]
    assert [container_of_suffix(s) for s in (".MKV", ".mp4", ".mov")] == ["mkv", "mp4", None]
