// What a card says about its job: expected size, queue place, language names, download names.

import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { outputSize } from "./sizing.js";

// Rows from before the field existed were upscale jobs.
export const upscaled = (job) => job.upscale !== false;

export function expectedOutput(job) {
  if (job.output) return [job.output.width, job.output.height];
  if (!upscaled(job)) return [job.input.width, job.input.height];
  const choice = job.height ? { height: job.height } : { scale: job.scale || 4 };
  return outputSize(job.input.width, job.input.height, choice).size ?? [job.input.width, job.input.height];
}

/** A waiting job's place: «Вы 3-й в очереди, начнётся через ≈ 4 мин» (docs/api.md "Queue place"). */
export function queueText(queue) {
  if (!queue) return t("job.waiting");
  const n = queue.position;
  if (queue.starts_in_s == null) return t("job.queue", { n });
  if (queue.starts_in_s < 5) return t("job.queue.soon", { n });
  return t("job.queue.eta", { n, time: fmt.duration(queue.starts_in_s) });
}

/** "ru" → "русский" in the page language; an unknown code is shown as it is. */
export function langName(code) {
  const key = `lang.name.${code}`;
  const name = t(key);
  return name === key ? code : name;
}

function stemOf(job) {
  return job.filename.replace(/\.[^.]*$/, "") || "video";
}

/** The names the backend gives the downloads (backend/api.py). */
export function resultName(job) {
  return `${stemOf(job)}_${upscaled(job) ? "upscaled" : "described"}.${job.container || "mp4"}`;
}

export function vttName(job) {
  return `${stemOf(job)}.vtt`;
}
