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
    #: One line on the page: what the model is for.
    about_en: str = ""
    about_ru: str = ""
    #: Squeeze-and-excitation (global average) pooling: output depends on the whole frame, so no regions.
    global_pooling: bool = False
    #: Real-CUGAN denoise levels the weights exist for (-1 conservative, 0 none, 1–3); empty: no choice.
    denoise_levels: tuple[int, ...] = ()

    def title(self, lang: Lang) -> str:
        """The title in ``lang``."""
        return self.title_ru if lang == "ru" else self.title_en


_FAST_EN, _FAST_RU = (
    "Small, fast network for video; good on animation.",
    "Маленькая быстрая сеть для видео; хороша для анимации.",
)
_CUGAN_EN = "Real-CUGAN for drawn animation (flat colours, clean lines); denoise level is a job option."
_CUGAN_RU = "Real-CUGAN для рисованной анимации (заливки, чёткие контуры); шумоподавление — опция задачи."
_SE, _PRO = (-1, 0, 1, 2, 3), (-1, 0, 3)

#: Every served model, in the order the page lists them.
CATALOGUE: Final[tuple[Model, ...]] = (
    Model("realesr-animevideov3-x4", 4, "Fast / animation", "Быстрая / анимация", _FAST_EN, _FAST_RU),
    Model("realesr-animevideov3-x3", 3, "Fast / animation, ×3", "Быстрая / анимация, ×3", _FAST_EN, _FAST_RU),
    Model("realesr-animevideov3-x2", 2, "Fast / animation, ×2", "Быстрая / анимация, ×2", _FAST_EN, _FAST_RU),
    Model(
        "realesrgan-x4plus",
        4,
        "Universal — best quality",
        "Универсальная — лучшее качество",
        "Large network for real footage: removes compression and noise, slow on CPU.",
        "Большая сеть для съёмки: убирает артефакты сжатия и шум, медленная на CPU.",
    ),
    Model(
        "realesrgan-x4plus-anime",
        4,
        "Anime — best quality",
        "Аниме — лучшее качество",
        "Large network tuned for anime stills: sharpest lines, slow on CPU.",
        "Большая сеть для аниме: самые чёткие линии, медленная на CPU.",
    ),
    Model(
        "realcugan-se-x2", 2, "Real-CUGAN anime, ×2", "Real-CUGAN аниме, ×2", _CUGAN_EN, _CUGAN_RU, True, _SE
    ),
    Model(
        "realcugan-se-x3",
        3,
        "Real-CUGAN anime, ×3",
        "Real-CUGAN аниме, ×3",
        _CUGAN_EN,
        _CUGAN_RU,
        True,
        (-1, 0, 3),
    ),
    Model(
        "realcugan-se-x4",
        4,
        "Real-CUGAN anime, ×4",
        "Real-CUGAN аниме, ×4",
        _CUGAN_EN,
        _CUGAN_RU,
        True,
        (-1, 0, 3),
    ),
    Model(
        "realcugan-pro-x2",
        2,
        "Real-CUGAN Pro anime, ×2",
        "Real-CUGAN Pro аниме, ×2",
        "Real-CUGAN Pro: keeps more texture and detail than the standard set.",
        "Real-CUGAN Pro: сохраняет больше текстуры и деталей, чем обычный набор.",
        True,
        _PRO,
    ),
    Model(
        "realcugan-pro-x3",
        3,
        "Real-CUGAN Pro anime, ×3",
        "Real-CUGAN Pro аниме, ×3",
        "Real-CUGAN Pro: keeps more texture and detail than the standard set.",
        "Real-CUGAN Pro: сохраняет больше текстуры и деталей, чем обычный набор.",
        True,
        _PRO,
    ),
    Model(
        "realcugan-nose-x2",
        2,
        "Real-CUGAN, no denoise, ×2",
        "Real-CUGAN без шумоподавления, ×2",
        "Real-CUGAN without denoising: for clean sources whose grain must stay.",
        "Real-CUGAN без шумоподавления: для чистых исходников, где зерно нужно сохранить.",
        False,
        (0,),
    ),
)
BY_ID: Final[dict[str, Model]] = {model.id: model for model in CATALOGUE}
#: Model id → scale: what the services need most often.
MODELS: Final[dict[str, int]] = {model.id: model.scale for model in CATALOGUE}
DEFAULT_MODEL: Final = "realesr-animevideov3-x4"
#: The denoise level used when a job names none: conservative where the set has it, as the official CLI.
DEFAULT_DENOISE: Final = -1


def denoise_level(model: str, denoise: int | None) -> int | None:
    """The denoise level a job runs with (None for models without levels); ValueError for a missing one."""
    levels = BY_ID[model].denoise_levels
    if not levels:
        if denoise is not None:
            raise ValueError(f"model {model} has no denoise levels")
        return None
    chosen = denoise if denoise is not None else (DEFAULT_DENOISE if DEFAULT_DENOISE in levels else levels[0])
    if chosen not in levels:
        raise ValueError(f"model {model} has denoise levels {list(levels)}, not {chosen}")
    return chosen


def served_name(model: str, denoise: int | None = None) -> str:
    """The Triton model that runs ``model`` at ``denoise``: Real-CUGAN ships one file per level."""
    level = denoise_level(model, denoise)
    if level is None:
        return model
    word = {-1: "conservative", 0: "no-denoise"}.get(level, f"denoise{level}x")
    return f"{model}-{word}"


#: Every Triton model name → scale (the catalogue ids plus one entry per Real-CUGAN denoise file).
SERVED: Final[dict[str, int]] = {
    served_name(m.id, level): m.scale for m in CATALOGUE for level in (m.denoise_levels or (None,))
}


def config_models() -> list[dict[str, str | int]]:
    """The models as ``/api/config`` lists them: ``{id, scale, title_ru, title_en, about_ru, about_en}``."""
    return [
        {
            "id": m.id,
            "scale": m.scale,
            "title_ru": m.title_ru,
            "title_en": m.title_en,
            "about_ru": m.about_ru,
            "about_en": m.about_en,
        }
        for m in CATALOGUE
    ]


def page_models() -> dict[str, list[dict[str, str | int]] | str]:
    """The catalogue as ``/api/config`` gives it to the page: ``models`` and ``default_model``."""
    return {"models": config_models(), "default_model": DEFAULT_MODEL}
