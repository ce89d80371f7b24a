// Human-readable numbers, sizes, durations and dimensions in the active language.

import { lang, t } from "./i18n.js";

function number(value, digits = 0) {
  return new Intl.NumberFormat(lang(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);
}

/** 1536 → "1,5 КБ" / "1.5 KB". */
export function bytes(value) {
  const units = ["unit.b", "unit.kb", "unit.mb", "unit.gb"];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || size >= 100 ? 0 : 1;
  return `${number(size, digits)} ${t(units[unit])}`;
}

/** 0.42 → "42 %" / "42%". */
export function percent(fraction) {
  const clamped = Math.min(1, Math.max(0, fraction || 0));
  return new Intl.NumberFormat(lang(), { style: "percent", maximumFractionDigits: 0 }).format(clamped);
}

/** Frames per second with one decimal. */
export function fps(value) {
  return number(value, value >= 10 ? 0 : 1);
}

/** Seconds → "8 с", "1 мин 20 с", "2 ч 5 мин". */
export function duration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return t("time.s", { s: total });
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m ? t("time.hm", { h, m }) : t("time.h", { h });
  return s ? t("time.ms", { m, s }) : t("time.m", { m });
}

/** Clip length: one decimal below 10 s so short test clips do not read "2 с" for 1.6 s. */
export function clipLength(seconds) {
  if (seconds < 10) return t("time.s", { s: number(seconds, 1) });
  return duration(seconds);
}

/** An ISO time → its day: "6 дек." / "Dec 6" (with the year when it is not this year's). */
export function day(iso) {
  const when = new Date(iso);
  const options = { day: "numeric", month: "short" };
  if (when.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
  return new Intl.DateTimeFormat(lang(), options).format(when);
}

/** 704, 576 → "704×576". */
export function dims(width, height) {
  return `${width}×${height}`;
}

/** Extensions → "MP4, MOV, MKV …" for the limits line. */
export function extensions(list, shown = 6) {
  const names = list.map((ext) => ext.replace(/^\./, "").toUpperCase());
  return names.length > shown ? `${names.slice(0, shown).join(", ")}…` : names.join(", ");
}
