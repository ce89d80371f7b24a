"""The message catalogue: every sentence a user can see, by a stable machine code, in English and Russian.

Codes are ``area.what`` (``upload.too_large``, ``media.no_video``, ``job.inference_unavailable``).
Each area keeps its entries in its own module here (one owner per module); ``CATALOGUE`` joins them.
A :class:`Reason` (code + typed parameters) is what errors carry, jobs store, the API returns beside
``detail`` and the page translates; :func:`text` renders it in either language. No other module builds
a sentence for users: errors take a ``Reason``, never a string.
"""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr, model_validator

from contract.catalogue import auth, description, http, job, media, note, options, quota
from contract.catalogue.entry import Entry, Lang, placeholders

LANGUAGES: tuple[str, ...] = get_args(Lang)
ParamValue = int | float | str
_Param = StrictInt | StrictFloat | StrictStr
_PARAM_TYPES: dict[type, tuple[type, ...]] = {int: (int,), float: (int, float), str: (str,)}


def _collect() -> dict[str, Entry]:
    merged: dict[str, Entry] = {}
    for module in (http, options, media, job, description, auth, quota, note):
        for code, entry in module.ENTRIES.items():
            if code in merged:
                raise RuntimeError(f"message code {code!r} is defined twice")
            merged[code] = entry
    return merged


class Reason(BaseModel):
    """A user-facing reason: a catalogue code and its parameters (stored, sent and translated as is)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    params: dict[str, _Param] = {}

    @model_validator(mode="after")
    def _check(self) -> Reason:
        entry = CATALOGUE.get(self.code)
        if entry is None:
            raise ValueError(f"unknown message code {self.code!r}")
        if set(self.params) != set(entry.params):
            raise ValueError(f"{self.code} takes {sorted(entry.params)}, not {sorted(self.params)}")
        for name, value in self.params.items():
            if isinstance(value, bool) or not isinstance(value, _PARAM_TYPES[entry.params[name]]):
                raise ValueError(f"{self.code}: {name} must be {entry.params[name].__name__}")
        return self

    def text(self, lang: Lang = "en") -> str:
        """The sentence in ``lang`` with the parameters filled in."""
        return CATALOGUE[self.code].sentence(lang).format(**self.params)

    def __str__(self) -> str:
        return self.text("en")


def reason(code: str, **params: ParamValue) -> Reason:
    """Shorthand: ``reason("upload.too_large", limit_mb=2048)``."""
    return Reason(code=code, params=params)


class ReasonError(Exception):
    """Base for errors whose message is shown to users: it carries a :class:`Reason`, never a string."""

    def __init__(self, why: Reason) -> None:
        super().__init__(why.text("en"))
        self.reason = why

    @property
    def code(self) -> str:
        """The catalogue code."""
        return self.reason.code


def as_json() -> dict[str, dict[str, str]]:
    """The catalogue as the page loads it: ``{code: {"en": ..., "ru": ...}}``."""
    return {code: {lang: entry.sentence(lang) for lang in ("en", "ru")} for code, entry in CATALOGUE.items()}


CATALOGUE: dict[str, Entry] = _collect()

__all__ = [
    "CATALOGUE",
    "LANGUAGES",
    "Entry",
    "Lang",
    "Reason",
    "ReasonError",
    "as_json",
    "placeholders",
    "reason",
]
