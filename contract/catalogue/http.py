"""Catalogue entries of the `http` area (owned by one module; see `contract.catalogue`)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "http.job_not_found": Entry(en="No such job.", ru="Такой задачи нет."),
}
