// Re-runs made from this browser: which job each one repeats, so its card can say what changed
// (the API does not link a re-run to its original). Kept in localStorage; a lost entry only loses the line.

import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { langName, upscaled } from "./names.js";

const KEY = "vsr.reruns";

function load() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(KEY) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return {};
  }
}

let origins = load();

/** Remember that job `made` repeats job `of`. */
export function remember(made, of) {
  origins = { ...load(), [made]: of };
  try {
    window.localStorage.setItem(KEY, JSON.stringify(origins));
  } catch {
    // Not kept after a reload; this visit still says it.
  }
}

/** The id of the job `id` repeats, or null. */
export function originOf(id) {
  return origins[id] ?? null;
}

function sizeOf(job) {
  if (!upscaled(job)) return t("rerun.diff.none");
  return job.height ? t("size.height", { height: job.height }) : t("size.scale", { scale: job.scale || 4 });
}

function strengthOf(job) {
  const value = Number(job.strength);
  return Number.isFinite(value) ? fmt.percent(value) : t("strength.auto.value");
}

/**
 * «модель: Быстрая → Универсальная; размер: ×2 → 720p»: the settings of `job` that differ from `before`'s,
 * in the page's language ("" when none differ). `modelTitle(id)` names a model.
 */
export function changes(before, job, modelTitle) {
  const fields = [
    ["rerun.diff.upscale", (j) => t(upscaled(j) ? "rerun.diff.on" : "rerun.diff.off")],
    ["rerun.diff.model", (j) => (upscaled(j) ? modelTitle(j.model) : t("rerun.diff.none"))],
    ["rerun.diff.size", sizeOf],
    ["rerun.diff.strength", (j) => (upscaled(j) ? strengthOf(j) : t("rerun.diff.none"))],
    ["rerun.diff.describe", (j) => (j.describe ? langName(j.describe) : t("rerun.diff.none"))],
    ["rerun.diff.hdr", (j) => j.hdr || "keep"],
    ["rerun.diff.container", (j) => j.container || "mp4"],
  ];
  const parts = [];
  for (const [key, shown] of fields) {
    const was = shown(before);
    const now = shown(job);
    if (was !== now) parts.push(t("rerun.diff.item", { what: t(key), was, now }));
  }
  return parts.join("; ");
}
