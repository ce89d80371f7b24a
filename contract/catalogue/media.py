"""Catalogue entries of the `media` area (owned by one module; see `contract.catalogue`)."""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "media.no_video_stream": Entry(en="The file has no video stream.", ru="В файле нет видеодорожки."),
    "media.missing": Entry(en="The file does not exist.", ru="Файла нет."),
    "media.unreadable": Entry(en="The file cannot be read.", ru="Файл не читается."),
    "media.empty": Entry(en="The file is empty.", ru="Файл пустой."),
    "media.playlist": Entry(
        en="Playlists and file lists are not accepted; upload the video itself.",
        ru="Плейлисты и списки файлов не принимаются; загрузите само видео.",
    ),
    "media.format_refused": Entry(
        en="This container format is not accepted.", ru="Этот формат контейнера не принимается."
    ),
    "media.format_not_accepted": Entry(
        en="The container format {format} is not accepted.",
        ru="Формат контейнера {format} не принимается.",
        params={"format": str},
    ),
    "media.damaged": Entry(
        en="The video file is damaged or truncated.", ru="Видеофайл повреждён или обрезан."
    ),
    "media.unanalysable": Entry(
        en="The video file could not be analysed.", ru="Не удалось разобрать видеофайл."
    ),
    "media.still_image": Entry(
        en="This is a still picture, not an animation or a video.",
        ru="Это неподвижная картинка, а не анимация или видео.",
    ),
    "media.not_video": Entry(en="The file is not a video.", ru="Это не видеофайл."),
    "media.codec_unsupported": Entry(
        en="The video codec is not supported.", ru="Этот видеокодек не поддерживается."
    ),
    "media.no_frame_size": Entry(
        en="The video has no readable frame size.", ru="У видео не читается размер кадра."
    ),
    "media.too_large": Entry(
        en="The video is {width}x{height}; the limit is {max_width}x{max_height}.",
        ru="Размер видео {width}x{height}; предел — {max_width}x{max_height}.",
        params={"width": int, "height": int, "max_width": int, "max_height": int},
    ),
    "media.no_frame_rate": Entry(
        en="The video has no usable frame rate.", ru="У видео нет пригодной частоты кадров."
    ),
    "media.no_duration": Entry(
        en="The video has no readable duration.", ru="У видео не читается длительность."
    ),
    "media.too_long": Entry(
        en="The video lasts {seconds} s; the limit is {limit_s} s.",
        ru="Видео длится {seconds} с; предел — {limit_s} с.",
        params={"seconds": int, "limit_s": int},
    ),
    "media.too_long_in_stream": Entry(
        en="The video holds more than {seconds} s of frames, whatever its header says; "
        "the limit is {limit_s} s.",
        ru="В видео больше {seconds} с кадров, что бы ни было указано в его заголовке; предел — {limit_s} с.",
        params={"seconds": int, "limit_s": int},
    ),
    "media.frame_too_large": Entry(
        en="A frame inside the video is {width}x{height}; the limit is {max_width}x{max_height}.",
        ru="Кадр внутри видео имеет размер {width}x{height}; предел — {max_width}x{max_height}.",
        params={"width": int, "height": int, "max_width": int, "max_height": int},
    ),
    "media.frame_size_changed": Entry(
        en="The frame size changes inside the video (from {width}x{height} to {new_width}x{new_height}).",
        ru="Размер кадра меняется внутри видео (с {width}x{height} на {new_width}x{new_height}).",
        params={"width": int, "height": int, "new_width": int, "new_height": int},
    ),
    "media.open_failed": Entry(en="The video could not be opened.", ru="Не удалось открыть видео."),
    "media.decode_failed": Entry(
        en="The video is damaged and could not be decoded.",
        ru="Видео повреждено, его не удалось декодировать.",
    ),
    "media.too_damaged": Entry(
        en="The video is too damaged: {lost} of {total} frames could not be decoded "
        "(at most {limit} % may be replaced).",
        ru="Видео повреждено слишком сильно: не декодируются {lost} кадров из {total} "
        "(заменить можно не больше {limit} %).",
        params={"lost": int, "total": int, "limit": int},
    ),
    "media.no_timestamps": Entry(
        en="The video has frames without timestamps; it cannot be split.",
        ru="В видео есть кадры без меток времени; его нельзя разделить на части.",
    ),
    "media.mux_failed": Entry(
        en="The audio or subtitles could not be copied into the result.",
        ru="Не удалось перенести звук или субтитры в результат.",
    ),
    "media.encoder_unavailable": Entry(
        en="The encoder {encoder} is not available here.",
        ru="Кодировщик {encoder} здесь недоступен.",
        params={"encoder": str},
    ),
    "media.output_failed": Entry(
        en="The output file could not be written.", ru="Не удалось записать выходной файл."
    ),
    "media.timed_out": Entry(
        en="Processing the video took longer than {seconds} s.",
        ru="Обработка видео заняла больше {seconds} с.",
        params={"seconds": int},
    ),
    "media.tool_crashed": Entry(
        en="The video tool {program} stopped unexpectedly.",
        ru="Программа {program} неожиданно остановилась.",
        params={"program": str},
    ),
    "media.tool_missing": Entry(
        en="{program} is not installed on this worker.",
        ru="На этом обработчике не установлена программа {program}.",
        params={"program": str},
    ),
    "media.storage_full": Entry(
        en="The server ran out of disk space while writing the result.",
        ru="На сервере закончилось место на диске при записи результата.",
    ),
}
