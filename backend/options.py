"""User options of an upload: parse the form fields and check the output size they imply."""

from __future__ import annotations

from pydantic import ValidationError

from contract.messages import DEFAULT_MODEL, DESCRIBE_LANGUAGES, MODELS, JobOptions

from .errors import InvalidRequest

SCALES = (2, 3, 4)
#: Largest output frame accepted (8K UHD); the encoders' limits are just above.
MAX_OUTPUT_WIDTH, MAX_OUTPUT_HEIGHT = 7680, 4320
MIN_HEIGHT = 16
_TRUE, _FALSE = frozenset({"true", "1", "on", "yes"}), frozenset({"false", "0", "off", "no"})


def _int(fields: dict[str, str], name: str) -> int | None:
    text = fields.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise InvalidRequest(f"{name} must be a whole number, not {text[:20]!r}") from exc


def _flag(fields: dict[str, str], name: str, default: bool) -> bool:
    text = fields.get(name, "").strip().lower()
    if not text:
        return default
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise InvalidRequest(f"{name} must be true or false, not {text[:20]!r}")


def _language(fields: dict[str, str]) -> str | None:
    text = fields.get("describe", "").strip().lower()
    if not text:
        return None
    if text not in DESCRIBE_LANGUAGES:
        raise InvalidRequest(f"describe must be one of {', '.join(DESCRIBE_LANGUAGES)} or empty")
    return text


def parse_options(fields: dict[str, str]) -> JobOptions:
    """Build JobOptions from form fields; the model's own scale when neither scale nor height is given.

    ``upscale`` (default true) and ``describe`` (``ru``, ``en`` or empty) choose the stages; without
    upscaling, the model and size fields are ignored.
    """
    upscale, describe = _flag(fields, "upscale", True), _language(fields)
    if not upscale and describe is None:
        raise InvalidRequest("nothing to do: ask for upscaling, an audio description, or both")
    if not upscale:
        return JobOptions(upscale=False, describe=describe)
    model = fields.get("model", "").strip() or DEFAULT_MODEL
    if model not in MODELS:
        raise InvalidRequest(f"unknown model {model[:64]!r}; choose one of {', '.join(MODELS)}")
    scale, height = _int(fields, "scale"), _int(fields, "height")
    if scale is not None and height is not None:
        raise InvalidRequest("give either scale or height, not both")
    if scale is not None and scale not in SCALES:
        raise InvalidRequest(f"scale must be one of {', '.join(map(str, SCALES))}")
    if height is not None and not MIN_HEIGHT <= height <= MAX_OUTPUT_HEIGHT:
        raise InvalidRequest(f"height must be between {MIN_HEIGHT} and {MAX_OUTPUT_HEIGHT}")
    if scale is None and height is None:
        scale = MODELS[model]
    try:
        return JobOptions(model=model, scale=scale, height=height, describe=describe)
    except ValidationError as exc:
        raise InvalidRequest(str(exc.errors()[0]["msg"])) from exc


def output_size(options: JobOptions, width: int, height: int) -> tuple[int, int]:
    """Output frame size for an input size, or InvalidRequest when it is no upscale or too large."""
    if options.height is not None:
        if options.height <= height:
            raise InvalidRequest(f"the video is already {height} px tall; choose a larger height")
        out_h = options.height
        out_w = max(2, round(width * out_h / height / 2) * 2)
    else:
        scale = options.scale or MODELS[options.model]
        out_w, out_h = width * scale, height * scale
    if max(out_w, out_h) > MAX_OUTPUT_WIDTH or min(out_w, out_h) > MAX_OUTPUT_HEIGHT:
        raise InvalidRequest(
            f"the result would be {out_w}x{out_h}; "
            f"the largest output is {MAX_OUTPUT_WIDTH}x{MAX_OUTPUT_HEIGHT}"
        )
    return out_w, out_h
