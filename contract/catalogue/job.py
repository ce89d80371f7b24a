"""Catalogue entries of the `job` area (owned by one module; see `contract.catalogue`).

Why a job (or one of its tasks) ended without a result, as the adapter reports it: the stages, the
model, the storage, the task message and the delivery rules.
"""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    # ---- delivery rules -----------------------------------------------------------------------------
    "job.gave_up": Entry(
        en="Gave up after {attempts} attempts: every one ended without a result.",
        ru="Не получилось за {attempts} попыток: ни одна не дала результата.",
        params={"attempts": int},
    ),
    "job.retry_wait": Entry(
        en="Attempt {attempt} of {attempts} failed; retrying in {delay_s} s.",
        ru="Попытка {attempt} из {attempts} не удалась; повторим через {delay_s} с.",
        params={"attempt": int, "attempts": int, "delay_s": int},
    ),
    "job.model_wait": Entry(
        en="The model server is unavailable; retrying in {delay_s} s.",
        ru="Сервер модели недоступен; повторим через {delay_s} с.",
        params={"delay_s": int},
    ),
    "job.model_overloaded": Entry(
        en="The model server was overloaded; we wait and carry on by ourselves (no attempt used).",
        ru="Сервер модели был перегружен; ждём и продолжаем сами (попытка не тратится).",
    ),
    "job.model_budget": Entry(
        en="The model server was unavailable for {minutes} min; gave up waiting for it.",
        ru="Сервер модели был недоступен {minutes} мин; ждать дальше не стали.",
        params={"minutes": int},
    ),
    "job.internal_error": Entry(
        en="Internal error in the worker ({detail}).",
        ru="Внутренняя ошибка обработчика ({detail}).",
        params={"detail": str},
    ),
    "job.crashed_signal": Entry(
        en="Processing crashed (killed by {signal}); the video is probably corrupt or not supported.",
        ru=(
            "Обработка аварийно завершилась (сигнал {signal}); "
            "видео, вероятно, повреждено или не поддерживается."
        ),
        params={"signal": str},
    ),
    "job.crashed_exit": Entry(
        en="Processing crashed (exit code {status}); the video is probably corrupt or not supported.",
        ru=(
            "Обработка аварийно завершилась (код {status}); "
            "видео, вероятно, повреждено или не поддерживается."
        ),
        params={"status": int},
    ),
    # ---- the task message ---------------------------------------------------------------------------
    "job.malformed_task": Entry(
        en="Malformed task message ({detail}).",
        ru="Некорректное сообщение задачи ({detail}).",
        params={"detail": str},
    ),
    "job.key_outside_job": Entry(
        en="The storage key {key} is outside the job folder {folder}.",
        ru="Ключ хранилища {key} находится вне папки задания {folder}.",
        params={"key": str, "folder": str},
    ),
    "job.wrong_segment_key": Entry(
        en="The segment output key {key} should be {expected}.",
        ru="Ключ результата фрагмента {key} должен быть {expected}.",
        params={"key": str, "expected": str},
    ),
    "job.wrong_container": Entry(
        en="The output key {key} does not name a {container} file.",
        ru="Ключ результата {key} не указывает на файл {container}.",
        params={"key": str, "container": str},
    ),
    "job.output_is_segment": Entry(
        en="The output key {key} is a segment file.",
        ru="Ключ результата {key} указывает на файл фрагмента.",
        params={"key": str},
    ),
    "job.unsafe_key": Entry(
        en="The task names an unsafe storage key ({detail}).",
        ru="В задаче указан недопустимый ключ хранилища ({detail}).",
        params={"detail": str},
    ),
    # Bridge until contract.probe refusals carry their own media.* Reason (then this entry goes):
    # the probe's English line as it is, so log lines and the CLI read as before.
    # ---- the worker's abilities ---------------------------------------------------------------------
    "job.no_describer": Entry(
        en="This worker cannot add audio descriptions.",
        ru="Этот обработчик не умеет добавлять тифлокомментарии.",
    ),
    "job.no_assembler": Entry(
        en="This worker cannot join segments.",
        ru="Этот обработчик не умеет склеивать фрагменты.",
    ),
    "job.description_failed": Entry(
        en="The audio description failed ({error}).",
        ru="Не удалось создать тифлокомментарий ({error}).",
        params={"error": str},
    ),
    # ---- the upscaling pipeline ---------------------------------------------------------------------
    "job.no_frames": Entry(
        en="The video has no decodable frames.",
        ru="В видео нет кадров, которые удалось бы декодировать.",
    ),
    "job.stuck": Entry(
        en="Processing got stuck; trying again.",
        ru="Обработка зависла, пробуем снова.",
    ),
    # ---- the backend's janitor: stuck jobs (backend/janitor/stalls.py)
    # ---------------------------------------
    "job.republished": Entry(
        en="No progress for {minutes} min; the job was sent to the workers again.",
        ru="Нет продвижения {minutes} мин; задача отправлена обработчикам ещё раз.",
        params={"minutes": int},
    ),
    "job.stalled": Entry(
        en="No progress for {minutes} min, even after sending the job again; gave up.",
        ru="Нет продвижения {minutes} мин, даже после повторной отправки; обработка прекращена.",
        params={"minutes": int},
    ),
    "job.files_gone": Entry(
        en="The job's files disappeared from storage while it was running.",
        ru="Файлы задания пропали из хранилища во время обработки.",
    ),
    "job.preview_not_written": Entry(
        en="The preview image could not be written to storage.",
        ru="Не удалось записать превью в хранилище.",
    ),
    "job.proxy_not_written": Entry(
        en="The playable copy of the original could not be written.",
        ru="Не удалось записать воспроизводимую копию оригинала.",
    ),
    # ---- joining segments ---------------------------------------------------------------------------
    "job.nothing_to_assemble": Entry(
        en="There are no segments to join.",
        ru="Нет фрагментов для склейки.",
    ),
    "job.segment_missing": Entry(
        en="Segment {number} is missing.",
        ru="Фрагмент {number} отсутствует.",
        params={"number": int},
    ),
    "job.segment_unreadable": Entry(
        en="Segment {number} cannot be read.",
        ru="Фрагмент {number} не читается.",
        params={"number": int},
    ),
    "job.segment_mismatch": Entry(
        en="Segment {number} was encoded differently from the first one; it is redone.",
        ru="Фрагмент {number} закодирован иначе, чем первый; он будет пересчитан.",
        params={"number": int},
    ),
    "job.segment_time_base": Entry(
        en="Segment {number} has another time base than the first one.",
        ru="У фрагмента {number} другая шкала времени, чем у первого.",
        params={"number": int},
    ),
    "job.segment_overlap": Entry(
        en="Segment {number} overlaps the one before it.",
        ru="Фрагмент {number} перекрывается с предыдущим.",
        params={"number": int},
    ),
    "job.join_not_created": Entry(
        en="The joined video could not be created in storage.",
        ru="Не удалось создать склеенное видео в хранилище.",
    ),
    # ---- the model ----------------------------------------------------------------------------------
    "job.unknown_model": Entry(
        en="Unknown model {model}.",
        ru="Неизвестная модель {model}.",
        params={"model": str},
    ),
    "job.model_file_missing": Entry(
        en="The model file {path} is missing; build it with python -m model_convertation build.",
        ru="Нет файла модели {path}; соберите его командой python -m model_convertation build.",
        params={"path": str},
    ),
    "job.openvino_failed": Entry(
        en="OpenVINO could not load the model.",
        ru="OpenVINO не смог загрузить модель.",
    ),
    "job.triton_unreachable": Entry(
        en="Cannot connect to Triton at {url}.",
        ru="Не удаётся подключиться к Triton по адресу {url}.",
        params={"url": str},
    ),
    "job.triton_call_failed": Entry(
        en="Triton {call} failed: {detail}",
        ru="Вызов Triton ({call}) не удался: {detail}",
        params={"call": str, "detail": str},
    ),
    "job.model_not_ready": Entry(
        en="Model {model} is not ready on Triton.",
        ru="Модель {model} не готова на сервере Triton.",
        params={"model": str},
    ),
    "job.backend_lacks_model": Entry(
        en="The {backend} backend cannot run the model {model}; use the default backend or Triton.",
        ru="Бэкенд {backend} не умеет запускать модель {model}; используйте бэкенд по умолчанию или Triton.",
        params={"model": str, "backend": str},
    ),
    "job.model_contract": Entry(
        en="The served model {model} breaks the contract: {problems}",
        ru="Модель {model} на сервере не соответствует контракту: {problems}",
        params={"model": str, "problems": str},
    ),
    "job.model_no_output": Entry(
        en="Triton returned no 'output' tensor.",
        ru="Triton не вернул тензор 'output'.",
    ),
    "job.model_wrong_output": Entry(
        en="The model returned {got}, expected {expected}.",
        ru="Модель вернула {got}, ожидалось {expected}.",
        params={"got": str, "expected": str},
    ),
}
