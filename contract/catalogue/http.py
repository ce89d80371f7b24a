"""Catalogue entries of the `http` area (owned by one module; see `contract.catalogue`).

The backend's own reasons: HTTP errors of /api (upload, lookup, validation) and the reasons it gives a
job itself when the adapter could not (a task the broker dead-lettered).
"""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "http.job_not_found": Entry(en="No such job.", ru="Такой задачи нет."),
    "http.result_not_ready": Entry(en="The result is not ready yet.", ru="Результат ещё не готов."),
    "http.no_description": Entry(
        en="This job has no audio description.", ru="У этой задачи нет тифлокомментария."
    ),
    "http.source_gone": Entry(en="The uploaded file is gone.", ru="Загруженного файла больше нет."),
    "http.rerun_active": Entry(
        en="The job is still queued or running: stop it or wait for it to end before running it again.",
        ru="Задача ещё в очереди или обрабатывается: остановите её или дождитесь конца, "
        "чтобы запустить снова.",
    ),
    "http.no_preview": Entry(en="There is no preview yet.", ru="Кадра для сравнения пока нет."),
    "http.not_found": Entry(en="Not found.", ru="Не найдено."),
    "http.method_not_allowed": Entry(
        en="This method is not allowed here.", ru="Этот метод здесь не поддерживается."
    ),
    "http.failed": Entry(
        en="The request failed (HTTP {status}).",
        ru="Запрос не выполнен (HTTP {status}).",
        params={"status": int},
    ),
    "http.invalid_request": Entry(
        en="The request is not valid: check {fields}.",
        ru="Запрос составлен неверно: проверьте {fields}.",
        params={"fields": str},
    ),
    "http.not_multipart": Entry(
        en="Send the video as multipart/form-data with a 'file' field.",
        ru="Отправьте видео как multipart/form-data в поле «file».",
    ),
    "http.malformed_body": Entry(
        en="The multipart body is malformed.", ru="Тело multipart-запроса повреждено."
    ),
    "http.unnamed_part": Entry(en="A form part has no name.", ru="У части формы нет имени."),
    "http.too_many_fields": Entry(
        en="Too many form fields (at most {limit}).",
        ru="Слишком много полей формы (не больше {limit}).",
        params={"limit": int},
    ),
    "http.field_too_long": Entry(
        en="The form field {field} is too long.",
        ru="Поле формы {field} слишком длинное.",
        params={"field": str},
    ),
    "http.one_file": Entry(en="Send exactly one file.", ru="Отправьте ровно один файл."),
    "http.no_file": Entry(
        en="No file: send the video in the 'file' field.", ru="Нет файла: отправьте видео в поле «file»."
    ),
    "http.upload_cut_short": Entry(en="The upload was cut short.", ru="Загрузка оборвалась."),
    "http.upload_offset": Entry(
        en="The server has {offset} bytes of this upload; a part starting at byte {sent} does not fit.",
        ru="На сервере уже {offset} байт этой загрузки; часть с байта {sent} не подходит.",
        params={"offset": int, "sent": int},
    ),
    "http.upload_busy": Entry(
        en="Another request is sending this upload right now; ask where it stands (HEAD) and resume "
        "from there.",
        ru="Эту загрузку сейчас отправляет другой запрос; узнайте, сколько уже принято (HEAD), и продолжите "
        "с этого места.",
    ),
    "http.extension_refused": Entry(
        en="Files of type {suffix} are not accepted; use one of {accepted}.",
        ru="Файлы типа {suffix} не принимаются; подходят: {accepted}.",
        params={"suffix": str, "accepted": str},
    ),
    "http.no_extension": Entry(
        en="The file name has no extension; use one of {accepted}.",
        ru="У имени файла нет расширения; подходят: {accepted}.",
        params={"accepted": str},
    ),
    "http.too_large": Entry(
        en="The file is larger than the limit of {limit_bytes} bytes.",
        ru="Файл больше допустимых {limit_bytes} байт.",
        params={"limit_bytes": int},
    ),
    "http.storage_full": Entry(
        en="The server has no room for this upload right now.",
        ru="Сейчас на сервере нет места для этой загрузки.",
    ),
    "http.disk_full": Entry(
        en="The server's disk is full right now; nothing was changed. Please try again later.",
        ru="На сервере закончилось место на диске; ничего не изменено. Попробуйте позже.",
    ),
    "http.job_failed": Entry(
        en="Processing failed; the server log has the details.",
        ru="Обработка не удалась; подробности — в журнале сервера.",
    ),
}
