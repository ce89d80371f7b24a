"""One options model: the page sends only its fields; the OpenAPI body and the re-run body come from it."""

from __future__ import annotations

import re
from pathlib import Path

from backend.api.routes.rerun import RerunIn
from contract.options import EXCERPT_FIELD, OPTION_FIELDS, form_schema

SITE = Path(__file__).resolve().parents[2] / "site"


def _keys(code: str) -> set[str]:
    """Keys of the object literals in ``code``."""
    return {
        key for body in re.findall(r"\{([^{}]*)\}", code) for key in re.findall(r"(?:^|,)\s*(\w+):", body)
    }


def _function(code: str, head: str) -> str:
    """The source of the function (or method) starting at ``head``, up to the next blank line."""
    start = code.index(head)
    return code[start : code.index("\n\n", start)]


def _page_fields() -> set[str]:
    """Every field name the page's upload code puts into an upload or a re-run."""
    upload = (SITE / "upload.js").read_text()
    send = _function(upload, "  send(")
    names = _keys(send.split("this.results")[0]) | set(re.findall(r"fields\.(\w+) =", send))
    for listed in re.findall(r"for \(const name of \[([^\]]+)\]\)", _function(upload, "  async runAgain(")):
        names |= set(re.findall(r'"(\w+)"', listed))
    names |= _keys(_function((SITE / "strength.js").read_text(), "export function strengthFields"))
    names |= _keys(_function((SITE / "checks.js").read_text(), "export function sizeChoice"))
    return names


def test_the_page_sends_only_fields_of_the_options_model() -> None:
    sent = _page_fields()
    assert {
        "model",
        "scale",
        "height",
        "strength",
        "denoise",
        "density",
        "describe",
        "upscale",
        "excerpt",
    } <= sent, sent
    assert sent <= {*OPTION_FIELDS, EXCERPT_FIELD}, sent - {*OPTION_FIELDS, EXCERPT_FIELD}


def test_the_upload_body_and_the_rerun_body_are_made_from_the_model() -> None:
    assert set(form_schema()["properties"]) == {"file", *OPTION_FIELDS}
    assert set(RerunIn.model_fields) == {*OPTION_FIELDS, "whole"}
    assert {"strength", "denoise", "density", "regions", "container", "deinterlace"} <= set(OPTION_FIELDS)
