"""Catalogue entries of the `description` area (owned by one module; see `contract.catalogue`)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "description.bad_language": Entry(
        en="The description language must be ru or en.",
        ru="Язык тифлокомментария должен быть ru или en.",
    ),
    "description.bad_output": Entry(
        en="The output must be one of {containers}.",
        ru="Выходной файл должен быть одним из: {containers}.",
        params={"containers": str},
    ),
    "description.audio_not_copyable": Entry(
        en="The original audio cannot be copied into {suffix}; choose .mkv for the output.",
        ru="Исходный звук нельзя перенести в {suffix}; выберите .mkv для результата.",
        params={"suffix": str},
    ),
    "description.write_failed": Entry(
        en="The described video could not be written.",
        ru="Не удалось записать видео с тифлокомментарием.",
    ),
    "description.vtt_failed": Entry(
        en="The WebVTT file could not be written.", ru="Не удалось записать файл WebVTT."
    ),
    "description.soundtrack_unreadable": Entry(
        en="The soundtrack could not be read.", ru="Не удалось прочитать звуковую дорожку."
    ),
    "description.scenes_unreadable": Entry(
        en="The video could not be read for scene detection.",
        ru="Не удалось прочитать видео, чтобы найти сцены.",
    ),
    "description.frame_unreadable": Entry(
        en="The frame at {time_s} s could not be decoded.",
        ru="Не удалось декодировать кадр на {time_s} с.",
        params={"time_s": float},
    ),
    "description.speech_missing": Entry(
        en="espeak-ng is not installed on this worker.",
        ru="На этом обработчике не установлен espeak-ng.",
    ),
    "description.speech_failed": Entry(en="Speech synthesis failed.", ru="Не удалось синтезировать речь."),
    "description.model_missing": Entry(
        en="The audio description is not available on this server: its model {model} is not installed.",
        ru="Тифлокомментарий на этом сервере недоступен: не установлена его модель {model}.",
        params={"model": str},
    ),
    "description.model_unreadable": Entry(
        en="The audio description is not available on this server: its model {model} cannot be loaded.",
        ru="Тифлокомментарий на этом сервере недоступен: его модель {model} не загружается.",
        params={"model": str},
    ),
    "description.ocr_missing": Entry(
        en="tesseract (on-screen text) is not installed on this worker.",
        ru="На этом обработчике не установлен tesseract (чтение надписей).",
    ),
    "description.ocr_failed": Entry(
        en="On-screen text could not be read.", ru="Не удалось прочитать надписи в кадре."
    ),
    # Notes of a finished job (DoneEvent.notes): what the description found, or that it found nothing.
    "description.nothing_found": Entry(
        en="Nothing was found to describe in this video; no description track was added.",
        ru="В этом видео не нашлось, что описать; дорожка тифлокомментария не добавлена.",
    ),
    "description.added": Entry(
        en="Descriptions added: {count} (on-screen text: {text}, people: {people}, objects: {objects}).",
        ru="Добавлено описаний: {count} (надписи: {text}, люди: {people}, предметы: {objects}).",
        params={"count": int, "text": int, "people": int, "objects": int},
    ),
}
