"""The message catalogue: every code in both languages, parameters declared and typed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contract.catalogue import CATALOGUE, LANGUAGES, Reason, ReasonError, as_json, placeholders, reason


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_has_both_languages_with_the_declared_parameters(code: str) -> None:
    entry = CATALOGUE[code]
    area, _, what = code.partition(".")
    assert area and what, f"{code} is not area.what"
    for lang in LANGUAGES:
        template = entry.sentence(lang)  # type: ignore[arg-type]
        assert template.strip(), f"{code} has no {lang} sentence"
        assert placeholders(template) == set(entry.params), f"{code} ({lang}) uses other parameters"
    assert entry.ru != entry.en, f"{code}: the Russian sentence is the English one"
    assert any("а" <= ch.lower() <= "я" for ch in entry.ru), f"{code}: the Russian sentence has no Cyrillic"


def test_a_reason_renders_in_both_languages() -> None:
    why = reason("job.gave_up", attempts=3)
    assert why.text("en") == "Gave up after 3 attempts: every one ended without a result."
    assert "3" in why.text("ru") and why.text("ru") != why.text("en")
    assert Reason.model_validate_json(why.model_dump_json()) == why


@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("no.such_code", {}),
        ("job.gave_up", {}),
        ("job.gave_up", {"attempts": "3"}),
        ("job.gave_up", {"attempts": True}),
    ],
)
def test_unknown_codes_and_wrong_parameters_are_refused(code: str, params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Reason.model_validate({"code": code, "params": params})


def test_errors_carry_the_reason_and_log_in_english() -> None:
    error = ReasonError(reason("http.job_not_found"))
    assert error.code == "http.job_not_found" and str(error) == "No such job."


def test_the_page_gets_every_code() -> None:
    assert set(as_json()) == set(CATALOGUE)
