"""Catalogue entries of the `quota` area (owned by one module; see `contract.catalogue`).

Why an upload was refused for the caller's quotas (backend/intake/quotas.py): active jobs, stored bytes,
uploads
per hour per owner and, for anonymous owners, per client address.
"""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "quota.active_jobs": Entry(
        en="You already have {limit} videos waiting or in progress; wait until one finishes.",
        ru="У вас уже {limit} видео в очереди или в работе; дождитесь, пока одно из них закончится.",
        params={"limit": int},
    ),
    "quota.uploads_per_hour": Entry(
        en="You have uploaded {limit} videos in the last hour; try again in {retry_after_s} s.",
        ru="Вы загрузили {limit} видео за последний час; попробуйте снова через {retry_after_s} с.",
        params={"limit": int, "retry_after_s": int},
    ),
    "quota.address_uploads_per_hour": Entry(
        en="{limit} videos were uploaded from your network in the last hour; try again in {retry_after_s} s.",
        ru="Из вашей сети за последний час загружено {limit} видео; повторите через {retry_after_s} с.",
        params={"limit": int, "retry_after_s": int},
    ),
    "quota.upload_kept": Entry(
        en="You already have {limit} videos waiting or in progress. Your upload is kept: once one of them "
        "finishes, send the same file again and it completes without uploading anew.",
        ru="У вас уже {limit} видео в очереди или в работе. Загрузка сохранена: когда одно из них "
        "закончится, отправьте тот же файл снова — он завершится без повторной загрузки.",
        params={"limit": int},
    ),
    "quota.storage": Entry(
        en="Your videos take {used_bytes} of your {limit_bytes} bytes; delete some to upload this one.",
        ru="Ваши видео занимают {used_bytes} из {limit_bytes} байт; удалите часть, чтобы загрузить это.",
        params={"used_bytes": int, "limit_bytes": int},
    ),
    "quota.upload_over_quota": Entry(
        en="This file is larger than your whole storage quota of {limit_bytes} bytes.",
        ru="Этот файл больше всей вашей квоты хранения в {limit_bytes} байт.",
        params={"limit_bytes": int},
    ),
}
