"""The form's options judged by pydantic (JobOptions), each refusal shown as its catalogue code."""

from __future__ import annotations

import pytest

from backend.errors import InvalidRequest
from backend.intake.options import parse_options


@pytest.mark.parametrize(
    ("fields", "code", "params"),
    [
        ({"upscale": "maybe"}, "options.not_a_flag", {"name": "upscale", "value": "maybe"}),
        ({"upscale": "false"}, "options.nothing_to_do", {}),
        ({"scale": "two"}, "options.not_a_number", {"name": "scale", "value": "two"}),
        ({"height": "1e3"}, "options.not_a_number", {"name": "height", "value": "1e3"}),
        ({"scale": "7"}, "options.bad_scale", {"choices": "2, 3, 4"}),
        ({"scale": "1"}, "options.bad_scale", {"choices": "2, 3, 4"}),
        ({"height": "99999"}, "options.bad_height", {}),
        ({"scale": "2", "height": "720"}, "options.scale_and_height", {}),
        ({"model": "nope"}, "options.unknown_model", {"model": "nope"}),
        ({"describe": "fr"}, "options.unknown_language", {}),
        ({"describe": "en", "density": "wordy"}, "options.bad_density", {}),
        ({"deinterlace": "always"}, "options.bad_deinterlace", {}),
        ({"regions": "sometimes"}, "options.bad_regions", {}),
        ({"container": "avi"}, "options.bad_container", {}),
        ({"strength": "strong"}, "options.bad_strength", {}),
        ({"strength": "1.5"}, "options.bad_strength", {}),
        ({"strength": "nan"}, "options.bad_strength", {}),
        ({"model": "realcugan-pro-x3", "denoise": "1"}, "options.bad_denoise", {"model": "realcugan-pro-x3"}),
        ({"model": "realcugan-se-x2", "denoise": "x"}, "options.bad_denoise", {"model": "realcugan-se-x2"}),
    ],
)
def test_each_refusal_has_its_code(fields: dict[str, str], code: str, params: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_options(fields)
    assert refused.value.reason.code == code
    assert params.items() <= dict(refused.value.reason.params).items()


def test_words_are_read_in_any_case_and_a_describe_only_job_ignores_the_rest() -> None:
    options = parse_options(
        {"describe": " EN ", "density": "Brief", "upscale": "off", "model": "nope", "scale": "9"}
    )
    assert (options.upscale, options.describe, options.density, options.scale) == (False, "en", "brief", None)
    assert parse_options({"model": "realesr-animevideov3-x2"}).scale == 2  # the model's own scale
    assert parse_options({"upscale": "ON", "regions": "AUTO", "strength": "Auto"}).regions == "auto"
