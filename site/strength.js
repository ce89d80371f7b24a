// Restoration strength (a 0–100 % slider, or "auto" from the input's quality) and one line per model
// saying what it is for. Kept apart from upload.js: it only reads the model list and adds form fields.

import { lang, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

/** The fields the control adds to an upload: ``strength`` = ``auto`` or a number from 0 to 1. */
export function strengthFields() {
  const auto = $("strength-auto");
  const slider = $("strength");
  if (!auto || !slider) return {};
  return { strength: auto.checked ? "auto" : String(Number(slider.value) / 100) };
}

function renderValue() {
  const auto = $("strength-auto").checked;
  const slider = $("strength");
  slider.disabled = auto;
  const text = auto ? t("strength.auto.value") : t("strength.value", { pct: slider.value });
  $("strength-value").textContent = text;
  slider.setAttribute("aria-valuetext", text);
}

/** Put each model's one-line description under its title (the model list is rendered by upload.js). */
export function describeModels(models) {
  for (const input of document.querySelectorAll("#models input")) {
    const model = models.find((m) => m.id === input.value);
    const body = input.closest("label")?.querySelector(".choice-body");
    if (!model || !body) continue;
    let about = body.querySelector(".choice-about");
    if (!about) {
      about = document.createElement("span");
      about.className = "choice-about";
      body.append(about);
    }
    about.textContent = (lang() === "en" ? model.about_en : model.about_ru) || "";
  }
}

/** Wire the slider; describe the models again whenever their list is rebuilt or the language changes. */
export function initStrength(models) {
  $("strength").addEventListener("input", renderValue);
  $("strength-auto").addEventListener("change", renderValue);
  const refresh = () => {
    renderValue();
    describeModels(models());
  };
  new MutationObserver(refresh).observe($("models"), { childList: true });
  new MutationObserver(refresh).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  refresh();
}
