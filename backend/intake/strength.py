"""The strength column of a job row: the option as stored (``auto`` or a number) and back."""

from __future__ import annotations


def stored_strength(text: str) -> float | str:
    """A job row's strength column back as the option."""
    return "auto" if text == "auto" else float(text)


def strength_text(value: float | str) -> str:
    """The option as the strength column stores it: ``auto`` or the number without trailing zeros."""
    return value if isinstance(value, str) else f"{value:g}"
