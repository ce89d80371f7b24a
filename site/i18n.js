// Page texts in Russian (default) and English; the choice is remembered in localStorage.

const STORE_KEY = "vsr.lang";

export const LANGS = ["ru", "en"];

const TEXTS = {
  ru: {
    "page.title": "Студия улучшения видео",
    "skip": "Перейти к содержимому",
    "brand": "Студия видео",
    "brand.sub": "Улучшение качества",
    "lang.switch": "English",
    "lang.switch.label": "Switch the page to English",
    "hero.title": "Улучшение качества видео",
    "hero.lead": "Загрузите ролик — нейросеть Real-ESRGAN увеличит разрешение и сделает картинку чётче. Звук и субтитры сохранятся.",
    "upload.title": "Новое видео",
    "drop.title": "Перетащите видео сюда",
    "drop.or": "или",
    "drop.pick": "Выберите файл",
    "drop.limits": "{types} · до {size}",
    "file.replace": "Выбрать другой",
    "file.remove": "Убрать файл",
    "file.preview": "Первый кадр выбранного видео",
    "file.meta": "{size} · {dims} · {duration}",
    "file.meta.nodims": "{size}",
    "err.type": "«{name}» — не видео или формат не поддерживается. Подходят: {types}.",
    "err.size": "Файл весит {size}, а можно не больше {max}.",
    "err.empty": "Файл «{name}» пустой.",
    "enhance.label": "Улучшить качество",
    "enhance.hint": "Включите, чтобы выбрать модель и размер результата.",
    "enhance.on": "Нейросеть увеличит кадр и восстановит детали; звук и субтитры останутся.",
    "describe.label": "Тифлокомментарии (описание сцен для незрячих)",
    "describe.hint": "Диктор опишет происходящее в кадре на отдельной звуковой дорожке для незрячих и слабовидящих зрителей.",
    "describe.on": "Появится вторая звуковая дорожка с описанием сцен и его текст (WebVTT). Работает и без улучшения качества.",
    "describe.legend": "Язык описания",
    "model.legend": "Модель",
    "model.speed": "≈ {fps} кадр/с",
    "model.speed.none": "скорость пока не измерена",
    "strength.legend": "Сила восстановления",
    "strength.value": "{pct} %",
    "strength.auto": "Подобрать по качеству исходника",
    "strength.auto.value": "авто",
    "strength.hint": "100 % — только нейросеть, 0 % — обычное увеличение без восстановления.",
    "size.legend": "Размер результата",
    "size.scale": "×{scale}",
    "size.height": "{height}p",
    "size.out": "Получится {dims}",
    "size.unknown": "Размер станет известен после загрузки",
    "size.too_small": "не больше исходного",
    "size.too_big": "слишком большой кадр",
    "estimate.time": "Ожидаемое время обработки: {time}",
    "estimate.basis": "по скорости последних задач ({fps} кадр/с), если в ролике 30 кадров в секунду",
    "estimate.none": "Ожидаемое время появится, когда сервер обработает первое видео этой моделью.",
    "estimate.noduration": "Длительность ролика неизвестна — время покажем после загрузки.",
    "estimate.plus_describe": "{time} + описание сцен",
    "estimate.describe_extra": "Тифлокомментарии добавят время: каждую сцену нужно распознать и озвучить.",
    "estimate.describe_only": "Время описания зависит от длины ролика и числа сцен; кадры не пересчитываются, поэтому обычно это быстрее улучшения.",
    "submit": "Загрузить и улучшить",
    "submit.need_file": "Сначала выберите видео.",
    "submit.describe": "Загрузить и добавить описание",
    "submit.need_enhance": "Включите «Улучшить качество», «Тифлокомментарии» или оба.",
    "upload.progress": "Отправлено {sent} из {total} ({pct})",
    "upload.cancel": "Отменить загрузку",
    "upload.done": "Видео «{name}» загружено — задача в очереди.",
    "upload.aborted": "Загрузка отменена.",
    "upload.err.413": "Файл слишком большой для сервера (не больше {max}).",
    "upload.err.415": "Сервер не принял файл: это не видео или формат не поддерживается.",
    "upload.err.422": "Сервер не смог обработать это видео или выбранные настройки.",
    "upload.err.429": "Слишком много запросов. Попробуйте немного позже.",
    "upload.err.507": "На сервере закончилось место. Попробуйте позже.",
    "upload.err.quota": "Достигнут ваш лимит.",
    "upload.err.other": "Сервер ответил ошибкой {status}. Попробуйте ещё раз.",
    "upload.err.network": "Не удалось связаться с сервером. Проверьте подключение и попробуйте ещё раз.",
    "upload.err.detail": "Ответ сервера: {detail}",
    "jobs.title": "Мои задачи",
    "jobs.empty": "Здесь появятся загруженные видео и ход их обработки.",
    "jobs.offline": "Нет связи с сервером, пробуем снова…",
    "jobs.signin": "Ждём входа через студию…",
    "jobs.loading": "Загружаем список задач…",
    "status.queued": "В очереди",
    "status.running": "Обрабатывается",
    "status.done": "Готово",
    "status.failed": "Ошибка",
    "status.cancelled": "Отменено",
    "job.progress": "Ход обработки «{name}»",
    "job.pct": "{pct}",
    "job.frames": "кадр {done} из {total}",
    "job.fps": "{fps} кадр/с",
    "job.eta": "осталось ≈ {time}",
    "job.waiting": "Ждёт свободного обработчика",
    "job.queue": "Вы {n}-й в очереди",
    "job.queue.soon": "Вы {n}-й в очереди, начнётся вот-вот",
    "job.queue.eta": "Вы {n}-й в очереди, начнётся через ≈ {time}",
    "job.finished": "Обработано {frames} кадров",
    "job.error": "Причина: {error}",
    "job.error.unknown": "Причина не указана.",
    "job.cancelled": "Обработка остановлена.",
    "job.meta": "{dims} → {out} · {model} · {duration}",
    "job.meta.same": "{dims} · без увеличения · {duration}",
    "job.described": "Тифлокомментарии: {lang}",
    "job.vtt": "Описание (.vtt)",
    "job.vtt.label": "Скачать текст описания «{name}»",
    "player.note": "Тифлокомментарии ({lang}) — во второй звуковой дорожке файла: выберите её в своём видеоплеере. Здесь текст описания показывается под видео.",
    "track.label": "Тифлокомментарии ({lang})",
    "job.open": "Смотреть результат",
    "job.close": "Скрыть результат",
    "job.download": "Скачать",
    "job.share": "Поделиться",
    "job.share.label": "Скопировать ссылку на результат «{name}»",
    "job.share.field": "Ссылка на результат «{name}»",
    "job.share.copied": "Ссылка скопирована; она действует до {until}.",
    "job.share.ready": "Ссылка готова — скопируйте её; она действует до {until}.",
    "job.share.until": "Ссылка действует до {until}, пока задача не удалена.",
    "job.download.label": "Скачать «{name}»",
    "job.cancel": "Остановить",
    "job.delete": "Удалить",
    "job.cancel.label": "Остановить обработку «{name}»",
    "job.delete.label": "Удалить «{name}»",
    "job.open.label": "Показать результат «{name}»",
    "job.thumb": "Кадр из «{name}»",
    "job.expires": "Будет удалено {date}",
    "job.notes": "Что изменено в видео",
    "usage.quota": "Занято {used} из {quota}",
    "usage.plain": "Занято {used}",
    "announce.status": "«{name}»: {status}",
    "announce.progress": "«{name}»: обработано {pct}",
    "confirm.cancel.title": "Остановить обработку?",
    "confirm.cancel.text": "Обработка «{name}» будет прервана, результат не сохранится.",
    "confirm.cancel.ok": "Остановить",
    "confirm.delete.title": "Удалить видео?",
    "confirm.delete.text": "«{name}» и результат обработки будут удалены с сервера без возможности восстановления.",
    "confirm.delete.ok": "Удалить",
    "confirm.back": "Не надо",
    "action.failed": "Не получилось: {detail}",
    "result.player": "Улучшенное видео «{name}»",
    "compare.title": "Сравнение до и после",
    "compare.before": "До",
    "compare.after": "После",
    "compare.before.alt": "Кадр исходного видео",
    "compare.after.alt": "Тот же кадр после улучшения",
    "compare.slider": "Шторка сравнения: слева «до», справа «после»",
    "compare.value": "{before}% до, {after}% после",
    "compare.hint": "Двигайте шторку мышью, пальцем или стрелками клавиатуры.",
    "video.title": "Видео",
    "lang.name.ru": "русский",
    "lang.name.en": "английский",
    "unit.b": "Б",
    "unit.kb": "КБ",
    "unit.mb": "МБ",
    "unit.gb": "ГБ",
    "time.s": "{s} с",
    "time.ms": "{m} мин {s} с",
    "time.m": "{m} мин",
    "time.hm": "{h} ч {m} мин",
    "footer": "Работает на вашем сервере: видео никуда не отправляются.",
    "footer.api": "API",
  },
  en: {
    "page.title": "Video enhancement studio",
    "skip": "Skip to content",
    "brand": "Video studio",
    "brand.sub": "Quality enhancement",
    "lang.switch": "Русский",
    "lang.switch.label": "Переключить страницу на русский",
    "hero.title": "Video quality enhancement",
    "hero.lead": "Upload a clip — the Real-ESRGAN network raises its resolution and sharpens the picture. Sound and subtitles are kept.",
    "upload.title": "New video",
    "drop.title": "Drag a video here",
    "drop.or": "or",
    "drop.pick": "Choose a file",
    "drop.limits": "{types} · up to {size}",
    "file.replace": "Choose another",
    "file.remove": "Remove the file",
    "file.preview": "First frame of the chosen video",
    "file.meta": "{size} · {dims} · {duration}",
    "file.meta.nodims": "{size}",
    "err.type": "“{name}” is not a video or its format is not supported. Accepted: {types}.",
    "err.size": "The file is {size}; the limit is {max}.",
    "err.empty": "The file “{name}” is empty.",
    "enhance.label": "Improve quality",
    "enhance.hint": "Turn on to choose the model and the output size.",
    "enhance.on": "The network enlarges the frame and restores detail; sound and subtitles stay.",
    "describe.label": "Audio description for blind and low-vision viewers",
    "describe.hint": "A narrator describes what happens on screen, on a separate audio track for blind and low-vision viewers.",
    "describe.on": "The result gets a second audio track describing the scenes, and its text (WebVTT). Works without quality improvement too.",
    "describe.legend": "Description language",
    "model.legend": "Model",
    "model.speed": "≈ {fps} frames/s",
    "model.speed.none": "speed not measured yet",
    "strength.legend": "Restoration strength",
    "strength.value": "{pct} %",
    "strength.auto": "Choose from the input's quality",
    "strength.auto.value": "auto",
    "strength.hint": "100 % is the network alone, 0 % a plain resize without restoration.",
    "size.legend": "Output size",
    "size.scale": "×{scale}",
    "size.height": "{height}p",
    "size.out": "Result: {dims}",
    "size.unknown": "The size will be known after the upload",
    "size.too_small": "not larger than the source",
    "size.too_big": "frame too large",
    "estimate.time": "Expected processing time: {time}",
    "estimate.basis": "from the speed of recent jobs ({fps} frames/s), for a 30 frames/s clip",
    "estimate.none": "The expected time appears once the server has processed a video with this model.",
    "estimate.noduration": "The clip's duration is unknown — the time is shown after the upload.",
    "estimate.plus_describe": "{time} + scene description",
    "estimate.describe_extra": "Audio description adds time: each scene has to be recognised and spoken.",
    "estimate.describe_only": "Description time depends on the clip's length and number of scenes; frames are not recomputed, so it is usually quicker than enhancement.",
    "submit": "Upload and enhance",
    "submit.need_file": "Choose a video first.",
    "submit.describe": "Upload and add description",
    "submit.need_enhance": "Turn on “Improve quality”, “Audio description” or both.",
    "upload.progress": "Sent {sent} of {total} ({pct})",
    "upload.cancel": "Cancel the upload",
    "upload.done": "“{name}” is uploaded — the job is queued.",
    "upload.aborted": "The upload was cancelled.",
    "upload.err.413": "The file is too large for the server (the limit is {max}).",
    "upload.err.415": "The server refused the file: it is not a video or its format is not supported.",
    "upload.err.422": "The server could not process this video or the chosen options.",
    "upload.err.429": "Too many requests. Please try a little later.",
    "upload.err.507": "The server is out of space. Please try later.",
    "upload.err.quota": "You have reached your limit.",
    "upload.err.other": "The server answered with error {status}. Please try again.",
    "upload.err.network": "Could not reach the server. Check the connection and try again.",
    "upload.err.detail": "Server says: {detail}",
    "jobs.title": "My jobs",
    "jobs.empty": "Uploaded videos and their progress appear here.",
    "jobs.offline": "No connection to the server, retrying…",
    "jobs.signin": "Waiting for the studio to sign you in…",
    "jobs.loading": "Loading the jobs…",
    "status.queued": "Queued",
    "status.running": "Processing",
    "status.done": "Done",
    "status.failed": "Failed",
    "status.cancelled": "Cancelled",
    "job.progress": "Progress of “{name}”",
    "job.pct": "{pct}",
    "job.frames": "frame {done} of {total}",
    "job.fps": "{fps} frames/s",
    "job.eta": "≈ {time} left",
    "job.waiting": "Waiting for a free worker",
    "job.queue": "Number {n} in the queue",
    "job.queue.soon": "Number {n} in the queue, starting any moment",
    "job.queue.eta": "Number {n} in the queue, starts in ≈ {time}",
    "job.finished": "{frames} frames processed",
    "job.error": "Reason: {error}",
    "job.error.unknown": "No reason given.",
    "job.cancelled": "Processing was stopped.",
    "job.meta": "{dims} → {out} · {model} · {duration}",
    "job.meta.same": "{dims} · not enlarged · {duration}",
    "job.described": "Audio description: {lang}",
    "job.vtt": "Description (.vtt)",
    "job.vtt.label": "Download the description text “{name}”",
    "player.note": "The audio description ({lang}) is the file's second audio track: pick it in your video player. Here the description text is shown under the video.",
    "track.label": "Audio description ({lang})",
    "job.open": "View result",
    "job.close": "Hide result",
    "job.download": "Download",
    "job.share": "Copy link",
    "job.share.label": "Copy a link to the result of “{name}”",
    "job.share.field": "Link to the result of “{name}”",
    "job.share.copied": "Link copied; it works until {until}.",
    "job.share.ready": "The link is ready — copy it; it works until {until}.",
    "job.share.until": "The link works until {until}, unless the job is deleted.",
    "job.download.label": "Download “{name}”",
    "job.cancel": "Stop",
    "job.delete": "Delete",
    "job.cancel.label": "Stop processing “{name}”",
    "job.delete.label": "Delete “{name}”",
    "job.open.label": "Show the result of “{name}”",
    "job.thumb": "A frame of “{name}”",
    "job.expires": "Deleted on {date}",
    "job.notes": "What was changed in the video",
    "usage.quota": "{used} of {quota} used",
    "usage.plain": "{used} used",
    "announce.status": "“{name}”: {status}",
    "announce.progress": "“{name}”: {pct} processed",
    "confirm.cancel.title": "Stop processing?",
    "confirm.cancel.text": "Processing of “{name}” will be interrupted and no result kept.",
    "confirm.cancel.ok": "Stop",
    "confirm.delete.title": "Delete the video?",
    "confirm.delete.text": "“{name}” and its result will be deleted from the server for good.",
    "confirm.delete.ok": "Delete",
    "confirm.back": "Keep it",
    "action.failed": "That did not work: {detail}",
    "result.player": "Enhanced video “{name}”",
    "compare.title": "Before and after",
    "compare.before": "Before",
    "compare.after": "After",
    "compare.before.alt": "A frame of the original video",
    "compare.after.alt": "The same frame after enhancement",
    "compare.slider": "Comparison divider: before on the left, after on the right",
    "compare.value": "{before}% before, {after}% after",
    "compare.hint": "Move the divider with the mouse, a finger or the arrow keys.",
    "video.title": "Video",
    "lang.name.ru": "Russian",
    "lang.name.en": "English",
    "unit.b": "B",
    "unit.kb": "KB",
    "unit.mb": "MB",
    "unit.gb": "GB",
    "time.s": "{s} s",
    "time.ms": "{m} min {s} s",
    "time.m": "{m} min",
    "time.hm": "{h} h {m} min",
    "footer": "Runs on your own server: videos never leave it.",
    "footer.api": "API",
  },
};

let current = initialLang();

function initialLang() {
  try {
    const saved = window.localStorage.getItem(STORE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch {
    // Storage can be disabled (private mode); Russian is the default anyway.
  }
  return "ru";
}

/** The active language code. */
export function lang() {
  return current;
}

/** Switch and remember the language. */
export function setLang(code) {
  if (!LANGS.includes(code)) return;
  current = code;
  try {
    window.localStorage.setItem(STORE_KEY, code);
  } catch {
    // Not remembered, but the page still switches.
  }
}

/** The text for `key` in the active language with {placeholders} filled from `params`. */
export function t(key, params = {}) {
  const text = TEXTS[current][key] ?? TEXTS.ru[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// The server's own sentences (error reasons) by catalogue code: GET /api/messages, {code: {en, ru}}.
let messages = {};

/** Keep the server's message catalogue for `reasonText`. */
export function setMessages(catalogue) {
  messages = catalogue && typeof catalogue === "object" ? catalogue : {};
}

/**
 * A server reason in the active language: the catalogue sentence of `code` with its `params`, or
 * `fallback` (the server's own English text) when the code is missing or unknown to this page.
 */
export function reasonText(code, params, fallback = "") {
  const entry = code ? messages[code] : undefined;
  const template = entry?.[current] ?? entry?.en;
  if (typeof template !== "string") return fallback || "";
  const values = params || {};
  // Catalogue templates are Python format strings: {name} or {name:spec}; the spec is not needed here.
  return template.replace(/\{(\w+)(?::[^}]*)?\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Fill every [data-i18n] text and [data-i18n-attr="attr:key;..."] attribute under `root`. */
export function translate(root) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}
