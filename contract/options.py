"""The job options a client sends, one model for every door: multipart form, tus metadata, re-run, quick run.

Each door reads exactly these fields (``OPTION_FIELDS``) as text, as a form carries them, and hands them
to the backend's one parser (``backend.intake.options.parse_options``), which judges them into
``JobOptions`` with a catalogue code for every refusal. The OpenAPI body of the upload is generated from
this model, and the page's list of fields is checked against it (tests/contract/test_options.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contract.container import CONTAINER_OPTIONS
from contract.interlace import DEINTERLACE_OPTIONS
from contract.messages import DESCRIBE_DENSITIES, DESCRIBE_LANGUAGES
from contract.models import DEFAULT_MODEL, MODELS
from contract.sizing import SCALES


class ClientOptions(BaseModel):
    """What a client may ask of a job; every field is optional and its default is the service's."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = Field(None, description="model id", json_schema_extra={"enum": list(MODELS)})
    scale: int | None = Field(None, description="output scale", json_schema_extra={"enum": list(SCALES)})
    height: int | None = Field(
        None, description="output height in pixels (instead of scale)", examples=[1080]
    )
    upscale: bool | None = Field(None, description="upscale the video (default true)")
    describe: str | None = Field(
        None,
        description="add an audio description in this language",
        json_schema_extra={"enum": list(DESCRIBE_LANGUAGES)},
    )
    density: str | None = Field(
        None,
        description="how much the description says",
        json_schema_extra={"enum": list(DESCRIBE_DENSITIES)},
    )
    deinterlace: str | None = Field(
        None,
        description="interlaced input (default auto)",
        json_schema_extra={"enum": list(DEINTERLACE_OPTIONS)},
    )
    regions: str | None = Field(
        None, description="infer only what changed (default off)", json_schema_extra={"enum": ["off", "auto"]}
    )
    container: str | None = Field(
        None,
        description="output container (default auto)",
        json_schema_extra={"enum": list(CONTAINER_OPTIONS)},
    )
    background: str | None = Field(
        None, description="what an animation's transparent pixels lie on (#rrggbb)"
    )
    hdr: str | None = Field(
        None,
        description="HDR input: keep it, or tone-map to SDR",
        json_schema_extra={"enum": ["keep", "sdr"]},
    )
    strength: str | None = Field(None, description="restoration strength 0..1 or auto (default 1)")
    denoise: int | None = Field(
        None, description="Real-CUGAN denoise level (-1, 0..3) where the model has it"
    )


#: The option fields every door reads (anything else a client sends is ignored).
OPTION_FIELDS: tuple[str, ...] = tuple(ClientOptions.model_fields)
#: The quick test run's own field (tus metadata only): the excerpt's start in seconds, or ``auto``.
EXCERPT_FIELD = "excerpt"


def form_schema() -> dict[str, Any]:
    """The multipart upload's OpenAPI schema: the file and every option field (generated from the model)."""
    properties = dict(ClientOptions.model_json_schema()["properties"])
    properties["model"] = {**properties["model"], "default": DEFAULT_MODEL}
    return {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}, **properties},
    }
