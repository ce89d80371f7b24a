"""Catalogue entries of the `options` area (owned by one module; see `contract.catalogue`)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "options.nothing_to_do": Entry(
        en="Nothing to do: ask for upscaling, an audio description, or both.",
        ru="Нечего делать: выберите улучшение, тифлокомментарий или и то, и другое.",
    ),
    "options.not_a_number": Entry(
        en="{name} must be a whole number, not “{value}”.",
        ru="{name}: нужно целое число, а не «{value}».",
        params={"name": str, "value": str},
    ),
    "options.not_a_flag": Entry(
        en="{name} must be true or false, not “{value}”.",
        ru="{name}: нужно true или false, а не «{value}».",
        params={"name": str, "value": str},
    ),
    "options.bad_density": Entry(
        en="The description density must be one of {choices}.",
        ru="Подробность тифлокомментария должна быть одной из: {choices}.",
        params={"choices": str},
    ),
    "options.unknown_language": Entry(
        en="The description language must be one of {choices}, or empty.",
        ru="Язык тифлокомментария должен быть одним из: {choices} — или пустым.",
        params={"choices": str},
    ),
    "options.bad_regions": Entry(
        en="Region inference must be one of {choices}.",
        ru="Обработка только изменившихся областей должна быть одним из: {choices}.",
        params={"choices": str},
    ),
    "options.bad_deinterlace": Entry(
        en="Deinterlacing must be one of {choices}.",
        ru="Устранение чересстрочности должно быть одним из: {choices}.",
        params={"choices": str},
    ),
    "options.bad_background": Entry(
        en="The background must be a colour written #rrggbb.",
        ru="Фон должен быть цветом в виде #rrggbb.",
    ),
    "options.bad_hdr": Entry(
        en="HDR must be one of {choices}.",
        ru="HDR: выберите одно из: {choices}.",
        params={"choices": str},
    ),
    "options.bad_container": Entry(
        en="The container must be one of {choices}.",
        ru="Контейнер должен быть одним из: {choices}.",
        params={"choices": str},
    ),
    "options.bad_excerpt": Entry(
        en="The excerpt must be auto or a number of seconds from 0 to the video's length.",
        ru="Начало отрывка — auto или число секунд от 0 до длины видео.",
    ),
    "options.excerpt_past_end": Entry(
        en="The excerpt cannot start at {start_s} s: the video ends at {duration_s} s.",
        ru="Отрывок не может начинаться с {start_s} с: видео заканчивается на {duration_s} с.",
        params={"start_s": float, "duration_s": float},
    ),
    "options.bad_strength": Entry(
        en="The restoration strength must be a number from 0 to 1, or auto.",
        ru="Сила восстановления должна быть числом от 0 до 1 или auto.",
    ),
    "options.bad_denoise": Entry(
        en="The model {model} has the denoise levels {choices}.",
        ru="У модели {model} есть уровни шумоподавления: {choices}.",
        params={"model": str, "choices": str},
    ),
    "options.unknown_model": Entry(
        en="There is no model “{model}”; choose one of {choices}.",
        ru="Модели «{model}» нет; выберите одну из: {choices}.",
        params={"model": str, "choices": str},
    ),
    "options.scale_and_height": Entry(
        en="Give either a scale or a height, not both.",
        ru="Укажите либо масштаб, либо высоту, но не то и другое сразу.",
    ),
    "options.bad_scale": Entry(
        en="The scale must be one of {choices}.",
        ru="Масштаб должен быть одним из: {choices}.",
        params={"choices": str},
    ),
    "options.bad_height": Entry(
        en="The height must be between {min} and {max} pixels.",
        ru="Высота должна быть от {min} до {max} пикселей.",
        params={"min": int, "max": int},
    ),
    "options.invalid": Entry(
        en="These options cannot be used together.",
        ru="Эти параметры нельзя использовать вместе.",
    ),
    "options.height_not_larger": Entry(
        en="The video is already {height} px tall; choose a larger height.",
        ru="Высота видео уже {height} пикселей; выберите бо́льшую высоту.",
        params={"height": int},
    ),
    "options.output_too_large": Entry(
        en="The result would be {width}×{height}; the largest output is {max_width}×{max_height}.",
        ru="Результат был бы {width}×{height}; наибольший размер — {max_width}×{max_height}.",
        params={"width": int, "height": int, "max_width": int, "max_height": int},
    ),
}
