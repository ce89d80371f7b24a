"""Catalogue entries of the `note` area: what a job changed in the video, and why (owned by one module)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "note.strength_auto": Entry(
        en="Restoration strength chosen from the input's quality: {strength} (degradation {degradation}).",
        ru="Сила восстановления выбрана по качеству исходника: {strength} (деградация {degradation}).",
        params={"strength": float, "degradation": float},
    ),
    "note.denoise_auto": Entry(
        en="Real-CUGAN denoise level chosen from the input's quality: {level}.",
        ru="Уровень шумоподавления Real-CUGAN выбран по качеству исходника: {level}.",
        params={"level": int},
    ),
    "note.deinterlaced_field": Entry(
        en="The video was interlaced: each field became a frame ({fps} frames/s).",
        ru="Видео было чересстрочным: каждое поле стало кадром ({fps} кадров/с).",
        params={"fps": float},
    ),
    "note.deinterlaced_frame": Entry(
        en="The video was interlaced: its fields were joined into whole frames.",
        ru="Видео было чересстрочным: поля соединены в целые кадры.",
    ),
    "note.timeline_shifted": Entry(
        en="The video started at {seconds} s; it now starts at 0 (sound kept in sync).",
        ru="Видео начиналось с {seconds} с; теперь оно начинается с 0 (звук синхронен).",
        params={"seconds": float},
    ),
    "note.frames_resized": Entry(
        en="The frame size changed inside the video; every frame was fitted into {width}x{height}.",
        ru="Размер кадра менялся внутри видео; все кадры вписаны в {width}x{height}.",
        params={"width": int, "height": int},
    ),
    "note.alpha_flattened": Entry(
        en="The video had a transparency channel; it was placed on black.",
        ru="У видео был канал прозрачности; оно положено на чёрный фон.",
    ),
    "note.frames_damaged": Entry(
        en="{lost} of {total} frames were damaged: replaced by their neighbours.",
        ru="Повреждено {lost} кадров из {total}: заменены соседними.",
        params={"lost": int, "total": int},
    ),
    "note.alpha_on_colour": Entry(
        en="The picture had transparent parts; they were laid on {colour}.",
        ru="В картинке были прозрачные места; они положены на цвет {colour}.",
        params={"colour": str},
    ),
    "note.sound_left_out": Entry(
        en="{container} has no sound: the result is the picture alone.",
        ru="В {container} нет звука: результат — только изображение.",
        params={"container": str},
    ),
    "note.tone_mapped": Entry(
        en="The HDR video was tone-mapped to SDR (BT.709, 8-bit), as asked.",
        ru="HDR-видео переведено в SDR (BT.709, 8 бит), как было запрошено.",
    ),
    "note.subtitles_dropped": Entry(
        en="{count} subtitle track(s) could not be kept in {container} and were left out.",
        ru="Дорожки субтитров ({count}) нельзя сохранить в {container}; они не вошли в результат.",
        params={"count": int, "container": str},
    ),
    "note.kept_in_mkv": Entry(
        en="The video has subtitles MP4 cannot keep (pictures, or styles with fonts); the result is MKV.",
        ru="В видео есть субтитры, которые MP4 не сохранит (картинки, стили со шрифтами); результат — MKV.",
    ),
    "note.styles_flattened": Entry(
        en="The subtitles' styles and fonts were lost in MP4 (choose MKV to keep them); their text is kept.",
        ru="Стили и шрифты субтитров в MP4 не сохранились (выберите MKV, чтобы сохранить их); текст остался.",
    ),
}
