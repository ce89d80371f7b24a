"""Catalogue entries of the `description` area (owned by one module; see `contract.catalogue`)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "description.failed": Entry(
        en="The audio description could not be made.", ru="Не удалось сделать тифлокомментарий."
    ),
}
