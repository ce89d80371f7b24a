"""One catalogue entry: a sentence in each language and the types of its parameters."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["en", "ru"]


@dataclass(frozen=True)
class Entry:
    """One message: its English and Russian sentence and the types of its ``{placeholders}``."""

    en: str
    ru: str
    params: Mapping[str, type] = field(default_factory=dict)

    def sentence(self, lang: Lang) -> str:
        """The template in ``lang``."""
        return self.ru if lang == "ru" else self.en


def placeholders(template: str) -> set[str]:
    """Names of the ``{fields}`` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
