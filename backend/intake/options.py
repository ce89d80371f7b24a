"""User options of an upload: parse the form fields and check the output size they imply."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from backend.errors import InvalidRequest
from contract.catalogue import Reason, reason
from contract.container import CONTAINER_OPTIONS
from contract.interlace import DEINTERLACE_OPTIONS
from contract.limits import MAX_OUTPUT_HEIGHT, MIN_OUTPUT_HEIGHT
from contract.messages import DESCRIBE_DENSITIES, DESCRIBE_LANGUAGES, JobOptions
from contract.models import BY_ID, DEFAULT_MODEL, MODELS
from contract.options import OPTION_FIELDS
from contract.sizing import SCALES, SizeRefused, job_output_size

#: Fields whose value is a word: compared in lower case, as the page and the docs write them.
_WORDS = (
    "upscale", "describe", "density", "deinterlace", "regions", "container", "strength", "background", "hdr",
)  # fmt: skip
#: What a describe-only job keeps of the form (model, size and restoration mean nothing without upscaling).
_DESCRIBE_ONLY = ("upscale", "describe", "density", "container")
#: Pydantic's refusal of a field → the catalogue code that says it (the form's own words; JobOptions'
#: model rules raise their catalogue codes as their error types).
_FIELD_CODES = {
    "describe": "options.unknown_language",
    "density": "options.bad_density",
    "deinterlace": "options.bad_deinterlace",
    "regions": "options.bad_regions",
    "container": "options.bad_container",
    "strength": "options.bad_strength",
    "denoise": "options.bad_denoise",
    "scale": "options.bad_scale",
    "height": "options.bad_height",
    "background": "options.bad_background",
    "hdr": "options.bad_hdr",
}
_CHOICES = {
    "describe": ", ".join(DESCRIBE_LANGUAGES),
    "density": ", ".join(DESCRIBE_DENSITIES),
    "deinterlace": ", ".join(DEINTERLACE_OPTIONS),
    "regions": "off, auto",
    "container": ", ".join(CONTAINER_OPTIONS),
    "scale": ", ".join(map(str, SCALES)),
    "hdr": "keep, sdr",
}


def parse_options(fields: Mapping[str, str]) -> JobOptions:
    """Judge the form fields (``contract.options``) into JobOptions; every refusal is a catalogue code.

    Empty fields take the service's defaults; without ``scale`` and ``height`` the model's own scale;
    without upscaling only the description's fields count. Pydantic does the checking (JobOptions'
    types and rules); its first error becomes the refusal.
    """
    given = {name: fields[name].strip() for name in OPTION_FIELDS if fields.get(name, "").strip()}
    given.update({name: given[name].lower() for name in _WORDS if name in given})
    if given.get("upscale") in ("on", "yes", "off", "no"):  # pydantic knows true/false/1/0 only
        given["upscale"] = "true" if given["upscale"] in ("on", "yes") else "false"
    if given.get("upscale") in ("false", "0"):
        given = {name: value for name, value in given.items() if name in _DESCRIBE_ONLY}
    try:
        options = JobOptions.model_validate(given)
    except ValidationError as exc:
        raise InvalidRequest(_refusal(exc.errors()[0], given)) from exc
    if options.scale is not None and options.scale not in SCALES:  # the wire takes 1..4, a client 2..4
        raise InvalidRequest(reason("options.bad_scale", choices=_CHOICES["scale"]))
    if options.upscale and options.scale is None and options.height is None:
        return options.model_copy(update={"scale": MODELS[options.model]})
    return options


def _refusal(error: ErrorDetails, given: Mapping[str, str]) -> Reason:
    """The catalogue reason of pydantic's first error about the form."""
    kind, where = error["type"], error["loc"]
    if kind.startswith("options."):  # JobOptions' own rules carry their code and its parameters
        return reason(kind, **error.get("ctx", {}))
    name = str(where[0]) if where else ""
    value = str(given.get(name, ""))[:20]
    if kind == "bool_parsing":
        return reason("options.not_a_flag", name=name, value=value)
    if name in ("scale", "height") and kind in ("int_parsing", "int_from_float"):
        return reason("options.not_a_number", name=name, value=value)
    if name == "height":
        return reason("options.bad_height", min=MIN_OUTPUT_HEIGHT, max=MAX_OUTPUT_HEIGHT)
    if name == "denoise":
        model = given.get("model", DEFAULT_MODEL)
        levels = BY_ID[model].denoise_levels if model in BY_ID else ()
        return reason("options.bad_denoise", model=model, choices=", ".join(map(str, levels)) or "—")
    if name in _FIELD_CODES:
        return reason(_FIELD_CODES[name], **({"choices": _CHOICES[name]} if name in _CHOICES else {}))
    return reason("options.invalid")


def output_size(
    options: JobOptions, width: int, height: int, *, sar: Fraction = Fraction(1), rotation: int = 0
) -> tuple[int, int]:
    """Output display size (contract.sizing) of stored ``width``×``height`` frames, or InvalidRequest."""
    try:
        return job_output_size(options, width, height, sar=sar, rotation=rotation)
    except SizeRefused as exc:
        raise InvalidRequest(exc.reason) from exc
