"""Routes the page builds itself from: models, limits and speeds, and the message catalogue."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import SettingsDep, StoreDep
from backend.api.schemas import AuthOut, ConfigOut, ModelOut
from contract import catalogue
from contract.messages import DESCRIBE_LANGUAGES
from contract.models import DEFAULT_MODEL, config_models
from contract.precision import host_report
from contract.probe import ACCEPTED_EXTENSIONS
from contract.sizing import page_sizes

router = APIRouter(tags=["config"])


@router.get("/config", response_model=ConfigOut)
def get_config(settings: SettingsDep, store: StoreDep) -> ConfigOut:
    """Models, limits and recent speeds for the page."""
    return ConfigOut(
        models=[ModelOut.model_validate(m) for m in config_models()],
        default_model=DEFAULT_MODEL,
        max_upload_bytes=settings.MAX_UPLOAD_BYTES,
        max_duration_s=settings.MAX_DURATION_S,
        max_width=settings.MAX_WIDTH,
        max_height=settings.MAX_HEIGHT,
        upload_url="/api/uploads",
        accepted=list(ACCEPTED_EXTENSIONS),
        **page_sizes(),
        describe_languages=list(DESCRIBE_LANGUAGES),
        recent_fps=store.recent_fps(),
        auth=AuthOut(mode=settings.AUTH_MODE, embed_origins=settings.EMBED_ORIGINS.split()),
        precision=host_report(),
    )


@router.get("/messages")
def get_messages() -> dict[str, dict[str, str]]:
    """Every user-facing sentence by code (``{code: {"en": ..., "ru": ...}}``) for the page to translate."""
    return catalogue.as_json()
