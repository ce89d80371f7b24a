// Page texts in Russian (default) and English; the choice is remembered in localStorage.

import en from "./texts-en.js";
import ru from "./texts-ru.js";

const STORE_KEY = "vsr.lang";

export const LANGS = ["ru", "en"];

const TEXTS = { ru, en };

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
 * `fallback` (the server's own English text) when the code is missing or unknown to this page and the page
 * is in English; in Russian an unknown code reads «Сервер сообщил об ошибке (код …)».
 */
export function reasonText(code, params, fallback = "") {
  const entry = code ? messages[code] : undefined;
  const template = entry?.[current];
  // The server's English fallback never reaches a page in another language: a translated stand-in does.
  if (typeof template !== "string") {
    if (current === "en") return fallback || "";
    if (code) return t("reason.untranslated", { code });
    return fallback ? t("reason.nocode") : "";
  }
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
