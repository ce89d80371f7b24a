"""Catalogue entries of the `job` area (owned by one module; see `contract.catalogue`)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "job.gave_up": Entry(
        en="Gave up after {attempts} attempts: every one ended without a result.",
        ru="Не получилось за {attempts} попыток: ни одна не дала результата.",
        params={"attempts": int},
    ),
}
