"""Catalogue entries of the `options` area (owned by one module; see `contract.catalogue`)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "options.nothing_to_do": Entry(
        en="Nothing to do: ask for upscaling, an audio description, or both.",
        ru="Нечего делать: выберите улучшение, тифлокомментарий или и то, и другое.",
    ),
}
