"""Catalogue entries of the `media` area (owned by one module; see `contract.catalogue`)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "media.no_video_stream": Entry(en="The file has no video stream.", ru="В файле нет видеодорожки."),
}
