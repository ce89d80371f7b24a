"""User options of an upload: parse the form fields and check the output size they imply."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Literal

from pydantic import ValidationError

from contract.catalogue import reason
from contract.container import CONTAINER_OPTIONS, ContainerOption, container_option
from contract.interlace import DEINTERLACE_OPTIONS, DeinterlaceOption, deinterlace_option
from contract.limits import MAX_OUTPUT_HEIGHT, MIN_OUTPUT_HEIGHT
from contract.messages import DESCRIBE_DENSITIES, DESCRIBE_LANGUAGES, DescribeDensity, JobOptions
from contract.models import DEFAULT_MODEL, MODELS
from contract.sizing import SCALES, SizeRefused, job_output_size

from .errors import InvalidRequest
from .strength import parse_denoise, parse_strength

#: A background colour field: ``#rrggbb``.
BACKGROUND = re.compile(r"#[0-9a-f]{6}")
_TRUE, _FALSE = frozenset({"true", "1", "on", "yes"}), frozenset({"false", "0", "off", "no"})


def _int(fields: dict[str, str], name: str) -> int | None:
    text = fields.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise InvalidRequest(reason("options.not_a_number", name=name, value=text[:20])) from exc


def _flag(fields: dict[str, str], name: str, default: bool) -> bool:
    text = fields.get(name, "").strip().lower()
    if not text:
        return default
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise InvalidRequest(reason("options.not_a_flag", name=name, value=text[:20]))


def _language(fields: dict[str, str]) -> str | None:
    text = fields.get("describe", "").strip().lower()
    if not text:
        return None
    if text not in DESCRIBE_LANGUAGES:
        raise InvalidRequest(reason("options.unknown_language", choices=", ".join(DESCRIBE_LANGUAGES)))
    return text


def _density(fields: dict[str, str]) -> DescribeDensity:
    text = fields.get("density", "").strip().lower() or "normal"
    densities: dict[str, DescribeDensity] = {"brief": "brief", "normal": "normal", "detailed": "detailed"}
    if text in densities:
        return densities[text]
    raise InvalidRequest(reason("options.bad_density", choices=", ".join(DESCRIBE_DENSITIES)))


def _deinterlace(fields: dict[str, str]) -> DeinterlaceOption:
    option = deinterlace_option(fields.get("deinterlace", "").strip().lower() or "auto")
    if option is None:
        raise InvalidRequest(reason("options.bad_deinterlace", choices=", ".join(DEINTERLACE_OPTIONS)))
    return option


def _regions(fields: dict[str, str]) -> Literal["off", "auto"]:
    option = fields.get("regions", "").strip().lower() or "off"
    if option not in ("off", "auto"):
        raise InvalidRequest(reason("options.bad_regions", choices="off, auto"))
    return "auto" if option == "auto" else "off"


def _container(fields: dict[str, str]) -> ContainerOption:
    option = container_option(fields.get("container", "").strip().lower() or "auto")
    if option is None:
        raise InvalidRequest(reason("options.bad_container", choices=", ".join(CONTAINER_OPTIONS)))
    return option


def _background(fields: dict[str, str]) -> str:
    text = fields.get("background", "").strip().lower() or "#000000"
    if not BACKGROUND.fullmatch(text):
        raise InvalidRequest(reason("options.bad_background"))
    return text


def _hdr(fields: dict[str, str]) -> Literal["keep", "sdr"]:
    option = fields.get("hdr", "").strip().lower() or "keep"
    if option not in ("keep", "sdr"):
        raise InvalidRequest(reason("options.bad_hdr", choices="keep, sdr"))
    return "sdr" if option == "sdr" else "keep"


def parse_options(fields: dict[str, str]) -> JobOptions:
    """Build JobOptions from form fields; the model's own scale when neither scale nor height is given.

    ``upscale`` (default true) and ``describe`` (``ru``, ``en`` or empty) choose the stages; without
    upscaling, the model and size fields are ignored. ``deinterlace`` is ``auto`` (default), ``off``,
    ``frame`` or ``field``; ``container`` is ``auto`` (default: MKV only where MP4 would lose
    subtitles), ``mp4``, ``mkv``, ``gif`` or ``webp`` (animated, picture only); ``regions`` is ``off``
    (default) or ``auto`` (infer only what changed); ``background`` (``#rrggbb``, default black) is what
    an animation's transparent pixels lie on; ``hdr`` is ``keep`` (default) or ``sdr`` (tone-mapped).
    """
    upscale, describe, density = _flag(fields, "upscale", True), _language(fields), _density(fields)
    if not upscale and describe is None:
        raise InvalidRequest(reason("options.nothing_to_do"))
    if not upscale:
        return JobOptions(upscale=False, describe=describe, density=density, container=_container(fields))
    model = fields.get("model", "").strip() or DEFAULT_MODEL
    if model not in MODELS:
        raise InvalidRequest(reason("options.unknown_model", model=model[:64], choices=", ".join(MODELS)))
    scale, height = _int(fields, "scale"), _int(fields, "height")
    if scale is not None and height is not None:
        raise InvalidRequest(reason("options.scale_and_height"))
    if scale is not None and scale not in SCALES:
        raise InvalidRequest(reason("options.bad_scale", choices=", ".join(map(str, SCALES))))
    if height is not None and not MIN_OUTPUT_HEIGHT <= height <= MAX_OUTPUT_HEIGHT:
        raise InvalidRequest(reason("options.bad_height", min=MIN_OUTPUT_HEIGHT, max=MAX_OUTPUT_HEIGHT))
    if scale is None and height is None:
        scale = MODELS[model]
    try:
        return JobOptions(
            model=model,
            scale=scale,
            height=height,
            describe=describe,
            density=density,
            deinterlace=_deinterlace(fields),
            regions=_regions(fields),
            container=_container(fields),
            background=_background(fields),
            hdr=_hdr(fields),
            strength=parse_strength(fields),
            denoise=parse_denoise(fields, model),
        )
    except ValidationError as exc:
        raise InvalidRequest(reason("options.invalid")) from exc


def output_size(
    options: JobOptions, width: int, height: int, *, sar: Fraction = Fraction(1), rotation: int = 0
) -> tuple[int, int]:
    """Output display size (contract.sizing) of stored ``width``×``height`` frames, or InvalidRequest."""
    try:
        return job_output_size(options, width, height, sar=sar, rotation=rotation)
    except SizeRefused as exc:
        raise InvalidRequest(exc.reason) from exc
