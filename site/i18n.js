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
    // Storage can be disabled (private mode): the browser's languages decide.
  }
  return browserLang(window.navigator.languages?.length ? window.navigator.languages : [window.navigator.language]);
}

/** The first of the browser's preferred languages this page speaks ("en-GB" → "en"); Russian otherwise. */
export function browserLang(preferred) {
  for (const tag of preferred || []) {
    const code = String(tag || "").toLowerCase().split("-")[0];
    if (LANGS.includes(code)) return code;
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

const pluralRules = new Map();

/**
 * The plural form of `n` in `code` ("one", "few", "many" or "other") by the Unicode rules the browser
 * knows (Intl.PluralRules): 1, 21 → one; 2–4, 22 → few; 5–20, 25 → many in Russian; a fraction → other.
 */
export function pluralForm(n, code = current) {
  if (!pluralRules.has(code)) pluralRules.set(code, new Intl.PluralRules(code));
  return pluralRules.get(code).select(Number(n));
}

/** A text's form for `params.n`: a plain string, or {one, few, many, other} chosen by pluralForm. */
function formOf(text, params) {
  if (!text || typeof text !== "object") return text;
  return text[pluralForm(params.n ?? 0)] ?? text.other;
}

/**
 * The text for `key` in the active language with {placeholders} filled from `params`; a text with plural
 * forms takes the one of `params.n` (the one rule of the page: no "кадров(а)", no "1 files").
 */
export function t(key, params = {}) {
  const text = formOf(TEXTS[current][key] ?? TEXTS.ru[key], params) ?? key;
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
