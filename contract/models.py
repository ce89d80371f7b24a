"""The model catalogue: every served model (its Triton name), its scale and its title in each language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from contract.catalogue.entry import Lang


@dataclass(frozen=True)
class Model:
    """One served model: id (the Triton model name), overall scale and its title on the page."""

    id: str
    scale: int
    title_en: str
    title_ru: str

    def title(self, lang: Lang) -> str:
        """The title in ``lang``."""
        return self.title_ru if lang == "ru" else self.title_en


#: Every served model, in the order the page lists them.
CATALOGUE: Final[tuple[Model, ...]] = (
    Model("realesr-animevideov3-x4", 4, "Fast / animation", "Быстрая / анимация"),
    Model("realesr-animevideov3-x3", 3, "Fast / animation, ×3", "Быстрая / анимация, ×3"),
    Model("realesr-animevideov3-x2", 2, "Fast / animation, ×2", "Быстрая / анимация, ×2"),
    Model("realesrgan-x4plus", 4, "Universal — best quality", "Универсальная — лучшее качество"),
    Model("realesrgan-x4plus-anime", 4, "Anime — best quality", "Аниме — лучшее качество"),
)
BY_ID: Final[dict[str, Model]] = {model.id: model for model in CATALOGUE}
#: Model id → scale: what the services need most often.
MODELS: Final[dict[str, int]] = {model.id: model.scale for model in CATALOGUE}
DEFAULT_MODEL: Final = "realesr-animevideov3-x4"


def config_models() -> list[dict[str, str | int]]:
    """The models as ``/api/config`` lists them: ``{id, scale, title_ru, title_en}``."""
    return [{"id": m.id, "scale": m.scale, "title_ru": m.title_ru, "title_en": m.title_en} for m in CATALOGUE]


def page_models() -> dict[str, list[dict[str, str | int]] | str]:
    """The catalogue as ``/api/config`` gives it to the page: ``models`` and ``default_model``."""
    return {"models": config_models(), "default_model": DEFAULT_MODEL}
