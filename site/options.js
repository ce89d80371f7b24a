// The form's option controls: models with their measured speed, output sizes a file allows, languages.

import { sizeState, sizeChoice } from "./checks.js";
import * as fmt from "./format.js";
import { lang, t } from "./i18n.js";

// Description languages by their own names (endonyms), the same in either page language.
export const LANG_NAMES = { ru: "Русский", en: "English" };

const $ = (id) => document.getElementById(id);

/** One option of a segmented radio group: <label class="segment"><input type="radio"><span></span></label>. */
function segmentRadio(name, value, checked) {
  const label = document.createElement("label");
  label.className = "segment";
  label.innerHTML = '<input type="radio"><span class="segment-text"></span>';
  const input = label.querySelector("input");
  input.name = name;
  input.value = value;
  input.checked = checked;
  return label;
}

/** A model's family: its id without the trailing scale (``realcugan-pro-x3`` → ``realcugan-pro``). */
export function modelFamily(id) {
  return id.replace(/-x\d+$/, "");
}

/**
 * Models worth offering: one per family at that family's largest scale, in catalogue order (the smaller
 * variants are an inside detail; a family that ships only ×2/×3 still appears, at ×3).
 */
export function offeredModels(form) {
  const best = new Map();
  for (const model of form.config.models) {
    const family = modelFamily(model.id);
    if (!best.has(family) || model.scale > best.get(family).scale) best.set(family, model);
  }
  const chosen = new Set(best.values());
  return form.config.models.filter((m) => chosen.has(m));
}

/** Languages the server can describe in (none from an older backend: the control stays hidden). */
export function describeLanguages(form) {
  return (form.config?.describe_languages ?? []).filter((code) => code in LANG_NAMES);
}

export function buildChoices(form) {
  const models = $("models");
  models.replaceChildren();
  for (const model of offeredModels(form)) {
    const label = document.createElement("label");
    label.className = "choice";
    label.innerHTML =
      '<input type="radio" name="model"><span class="choice-body"><span class="choice-title"></span>' +
      '<span class="choice-sub"></span></span>';
    const input = label.querySelector("input");
    input.value = model.id;
    input.checked = model.id === form.choices.model;
    models.append(label);
  }
  const sizes = $("sizes");
  sizes.replaceChildren();
  const values = [
    ...form.config.scales.map((scale) => `scale:${scale}`),
    ...form.config.heights.map((height) => `height:${height}`),
  ];
  for (const value of values) {
    sizes.append(segmentRadio("size", value, value === form.choices.size));
  }
  const langs = $("describe-langs");
  langs.replaceChildren();
  for (const code of describeLanguages(form)) {
    const label = segmentRadio("describe-lang", code, code === form.choices.describeLang);
    const text = label.querySelector(".segment-text");
    text.textContent = LANG_NAMES[code];
    text.lang = code;
    langs.append(label);
  }
}

export function renderChoices(form) {
  for (const input of $("models").querySelectorAll("input")) {
    const model = form.config.models.find((m) => m.id === input.value);
    const label = input.closest("label");
    label.querySelector(".choice-title").textContent = lang() === "en" ? model.title_en : model.title_ru;
    const fps = form.config.recent_fps?.[model.id];
    label.querySelector(".choice-sub").textContent = fps ? t("model.speed", { fps: fmt.fps(fps) }) : t("model.speed.none");
    input.checked = input.value === form.choices.model;
  }
  // One file: its measured size rules the choices; several: each is checked by the server on its own.
  const single = form.again ? form.again.input : form.files.length === 1 ? form.files[0].meta : null;
  const states = new Map();
  for (const input of $("sizes").querySelectorAll("input")) {
    states.set(input.value, sizeState(input.value, single?.width, single?.height, form.config.max_output));
  }
  if (!states.get(form.choices.size)?.ok) {
    form.choices.size = [...states].find(([, state]) => state.ok)?.[0] ?? form.choices.size;
  }
  for (const input of $("sizes").querySelectorAll("input")) {
    const state = states.get(input.value);
    const choice = sizeChoice(input.value);
    const text = choice.height ? t("size.height", choice) : t("size.scale", choice);
    input.closest("label").querySelector(".segment-text").textContent = text;
    input.disabled = !state.ok;
    input.closest("label").classList.toggle("segment-invalid", !state.ok);
    input.closest("label").title = state.ok ? "" : t(state.why);
    input.checked = input.value === form.choices.size;
  }
  const chosen = states.get(form.choices.size);
  let out = "";
  if (chosen?.dims) out = t("size.out", { dims: chosen.dims });
  // Several files: each row says its own result size once measured; the line only while some are not.
  else if (form.files.length > 1) out = form.files.every((f) => f.meta?.width) ? "" : t("size.each");
  else if (form.files.length) out = t("size.unknown");
  $("size-out").textContent = out;
  $("size-out").hidden = !out;
  for (const input of $("describe-langs").querySelectorAll("input")) input.checked = input.value === form.choices.describeLang;
  $("estimate").textContent = form.estimate();
}
