"""The restoration options of an upload: strength (0–1 or auto) and Real-CUGAN's denoise level."""

from __future__ import annotations

import math

from backend.errors import InvalidRequest
from contract.catalogue import reason
from contract.models import BY_ID


def parse_strength(fields: dict[str, str]) -> float | str:
    """``strength`` form field: empty = 1 (the model alone), ``auto``, or a number in [0, 1]."""
    text = fields.get("strength", "").strip().lower()
    if not text:
        return 1.0
    if text == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise InvalidRequest(reason("options.bad_strength"))
    return value


def parse_denoise(fields: dict[str, str], model: str) -> int | None:
    """``denoise`` form field: empty = the model's default; else one of the model's levels."""
    text = fields.get("denoise", "").strip()
    if not text:
        return None
    levels = BY_ID[model].denoise_levels
    try:
        level = int(text)
    except ValueError:
        level = None
    if level is None or level not in levels:
        choices = ", ".join(map(str, levels)) or "—"
        raise InvalidRequest(reason("options.bad_denoise", model=model, choices=choices))
    return level


def stored_strength(text: str) -> float | str:
    """A job row's strength column back as the option."""
    return "auto" if text == "auto" else float(text)


def strength_text(value: float | str) -> str:
    """The option as the strength column stores it: ``auto`` or the number without trailing zeros."""
    return value if isinstance(value, str) else f"{value:g}"
