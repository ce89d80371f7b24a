"""Routes the page builds itself from: models, limits and speeds, and the message catalogue."""

from __future__ import annotations

from fastapi import APIRouter

from contract import catalogue
from contract.messages import DESCRIBE_LANGUAGES, MODELS
from contract.probe import ACCEPTED_EXTENSIONS

from ..deps import SettingsDep, StoreDep
from ..schemas import ConfigOut, ModelOut

router = APIRouter(tags=["config"])

TITLES: dict[str, tuple[str, str]] = {
    "realesr-animevideov3-x4": ("Быстрая / анимация", "Fast / animation"),
    "realesr-animevideov3-x3": ("Быстрая / анимация, ×3", "Fast / animation, ×3"),
    "realesr-animevideov3-x2": ("Быстрая / анимация, ×2", "Fast / animation, ×2"),
    "realesrgan-x4plus": ("Универсальная — лучшее качество", "Universal — best quality"),
    "realesrgan-x4plus-anime": ("Аниме — лучшее качество", "Anime — best quality"),
}
HEIGHTS = [480, 720, 1080]
OFFERED_SCALES = [2, 4]


@router.get("/config", response_model=ConfigOut)
def get_config(settings: SettingsDep, store: StoreDep) -> ConfigOut:
    """Models, limits and recent speeds for the page."""
    models = [
        ModelOut(id=m, scale=s, title_ru=TITLES.get(m, (m, m))[0], title_en=TITLES.get(m, (m, m))[1])
        for m, s in MODELS.items()
    ]
    return ConfigOut(
        models=models,
        max_upload_bytes=settings.MAX_UPLOAD_BYTES,
        accepted=list(ACCEPTED_EXTENSIONS),
        heights=HEIGHTS,
        scales=OFFERED_SCALES,
        describe_languages=list(DESCRIBE_LANGUAGES),
        recent_fps=store.recent_fps(),
    )


@router.get("/messages")
def get_messages() -> dict[str, dict[str, str]]:
    """Every user-facing sentence by code (``{code: {"en": ..., "ru": ...}}``) for the page to translate."""
    return catalogue.as_json()
