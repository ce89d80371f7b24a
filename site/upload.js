// The upload form: file picker / drag-and-drop, client-side checks, options, time estimate, XHR upload.

import { upload } from "./api.js";
import { fileProblem, sizeChoice, sizeState } from "./checks.js";
import * as fmt from "./format.js";
import { lang, t } from "./i18n.js";
import { strengthFields } from "./strength.js";

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

// The page cannot read a file's frame rate, so the estimate assumes a common one and says so.
const ASSUMED_FPS = 30;
const DEFAULT_SIZE = "scale:2";
// Description languages by their own names (endonyms), the same in either page language.
const LANG_NAMES = { ru: "Русский", en: "English" };

const $ = (id) => document.getElementById(id);

/** Controller of #upload-form; `onUploaded(job)` gets the created job. */
export class UploadForm {
  constructor({ onUploaded, announce }) {
    this.onUploaded = onUploaded;
    this.announce = announce;
    this.config = null;
    this.file = null; // {file, width, height, duration, url}
    this.fileError = null; // {key, params}
    this.message = null; // {kind: ok|error, key, params, error (an api.ApiError)}
    this.sending = null; // {sent, total, abort}
    this.model = null; // the config's default_model once it is known
    this.size = DEFAULT_SIZE;
    this.describeLang = null; // chosen once the config lists the languages
    this.bind();
  }

  bind() {
    $("file").addEventListener("change", (event) => {
      const [file] = event.target.files;
      if (file) this.choose(file);
      event.target.value = "";
    });
    const drop = $("drop");
    for (const type of ["dragenter", "dragover"]) {
      drop.addEventListener(type, (event) => {
        event.preventDefault();
        if (!this.sending) drop.classList.add("drop-over");
      });
    }
    drop.addEventListener("dragleave", (event) => {
      if (!drop.contains(event.relatedTarget)) drop.classList.remove("drop-over");
    });
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("drop-over");
      const file = event.dataTransfer?.files?.[0];
      if (file && !this.sending) this.choose(file);
    });
    // A file dropped beside the zone must not navigate away from the page.
    for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());
    $("remove-file").addEventListener("click", () => {
      this.clearFile();
      $("pick").focus();
    });
    $("enhance").addEventListener("change", () => this.render());
    $("describe").addEventListener("change", () => this.render());
    $("describe-langs").addEventListener("change", (event) => {
      this.describeLang = event.target.value;
      this.render();
    });
    $("models").addEventListener("change", (event) => {
      this.model = event.target.value;
      this.render();
    });
    $("sizes").addEventListener("change", (event) => {
      this.size = event.target.value;
      this.render();
    });
    $("upload-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    $("upload-cancel").addEventListener("click", () => this.sending?.abort());
  }

  setConfig(config) {
    const shape = (c) => JSON.stringify([c?.models, c?.scales, c?.heights, c?.describe_languages]);
    // A refreshed config usually only brings new speeds: keep the controls (and focus) as they are.
    const rebuild = shape(config) !== shape(this.config);
    this.config = config;
    // The catalogue lists the default model first, so an older config without default_model gets it too.
    if (!config.models.some((m) => m.id === this.model)) this.model = config.default_model ?? config.models[0]?.id;
    const langs = this.describeLanguages();
    if (!langs.includes(this.describeLang)) this.describeLang = langs.includes(lang()) ? lang() : langs[0] ?? null;
    $("file").accept = ["video/*", ...config.accepted].join(",");
    if (rebuild) this.buildChoices();
    this.render();
  }

  /** Models worth offering: one per family at its native ×4 (the ×2/×3 variants are an inside detail). */
  offeredModels() {
    const top = Math.max(...this.config.models.map((m) => m.scale));
    return this.config.models.filter((m) => m.scale === top);
  }

  /** Languages the server can describe in (none from an older backend: the control stays hidden). */
  describeLanguages() {
    return (this.config?.describe_languages ?? []).filter((code) => code in LANG_NAMES);
  }

  buildChoices() {
    const models = $("models");
    models.replaceChildren();
    for (const model of this.offeredModels()) {
      const label = document.createElement("label");
      label.className = "choice";
      label.innerHTML =
        '<input type="radio" name="model"><span class="choice-body"><span class="choice-title"></span>' +
        '<span class="choice-sub"></span></span>';
      const input = label.querySelector("input");
      input.value = model.id;
      input.checked = model.id === this.model;
      models.append(label);
    }
    const sizes = $("sizes");
    sizes.replaceChildren();
    const values = [
      ...this.config.scales.map((scale) => `scale:${scale}`),
      ...this.config.heights.map((height) => `height:${height}`),
    ];
    for (const value of values) {
      sizes.append(segmentRadio("size", value, value === this.size));
    }
    const langs = $("describe-langs");
    langs.replaceChildren();
    for (const code of this.describeLanguages()) {
      const label = segmentRadio("describe-lang", code, code === this.describeLang);
      const text = label.querySelector(".segment-text");
      text.textContent = LANG_NAMES[code];
      text.lang = code;
      langs.append(label);
    }
  }

  /** Which stages are switched on: {enhance, describe}; describe only when the server offers it. */
  stages() {
    const describe = $("describe").checked && this.describeLanguages().length > 0;
    return { enhance: $("enhance").checked, describe };
  }

  choose(file) {
    this.clearFile();
    this.message = null;
    this.fileError = fileProblem(file, this.config);
    if (this.fileError) {
      this.render();
      return;
    }
    this.file = { file, width: 0, height: 0, duration: 0, url: URL.createObjectURL(file) };
    this.readMetadata(this.file);
    this.render();
  }

  readMetadata(chosen) {
    const video = $("picked-video");
    video.onloadedmetadata = () => {
      if (this.file !== chosen) return;
      chosen.width = video.videoWidth;
      chosen.height = video.videoHeight;
      chosen.duration = Number.isFinite(video.duration) ? video.duration : 0;
      // Seek a little so the preview shows a real frame rather than a blank box.
      video.currentTime = Math.min(0.5, chosen.duration / 2);
      this.render();
    };
    video.onerror = () => {
      // The browser cannot decode every container the server accepts; the server will judge it.
      video.hidden = true;
    };
    video.hidden = false;
    video.src = chosen.url;
  }

  clearFile() {
    if (this.file) URL.revokeObjectURL(this.file.url);
    const video = $("picked-video");
    video.onloadedmetadata = null;
    video.removeAttribute("src");
    video.load();
    this.file = null;
    this.fileError = null;
    this.render();
  }

  estimate() {
    const { enhance, describe } = this.stages();
    if (!enhance) return describe ? t("estimate.describe_only") : "";
    const extra = describe ? ` ${t("estimate.describe_extra")}` : "";
    const fps = this.config?.recent_fps?.[this.model];
    if (!fps) return t("estimate.none") + extra;
    if (!this.file?.duration) return this.file ? t("estimate.noduration") + extra : "";
    // Description speed is not measured by the server (it depends on the scenes), so it is named, not timed.
    let time = fmt.duration(Math.max(1, (this.file.duration * ASSUMED_FPS) / fps));
    if (describe) time = t("estimate.plus_describe", { time });
    return `${t("estimate.time", { time })} — ${t("estimate.basis", { fps: fmt.fps(fps) })}.${extra}`;
  }

  render() {
    const config = this.config;
    const busy = Boolean(this.sending);
    const { enhance, describe } = this.stages();
    if (config) {
      $("limits").textContent = t("drop.limits", {
        types: fmt.extensions(config.accepted),
        size: fmt.bytes(config.max_upload_bytes),
      });
    }

    $("drop-empty").hidden = Boolean(this.file);
    $("picked").hidden = !this.file;
    $("drop").classList.toggle("drop-filled", Boolean(this.file));
    if (this.file) {
      const { file, width, height, duration } = this.file;
      $("picked-name").textContent = file.name;
      $("picked-meta").textContent = width
        ? t("file.meta", { size: fmt.bytes(file.size), dims: fmt.dims(width, height), duration: fmt.clipLength(duration) })
        : t("file.meta.nodims", { size: fmt.bytes(file.size) });
    }
    const error = this.fileError;
    $("file-error").hidden = !error;
    if (error) {
      const params = { ...error.params };
      if (error.key === "err.size") Object.assign(params, { size: fmt.bytes(params.size), max: fmt.bytes(params.max) });
      $("file-error").textContent = t(error.key, params);
    }

    $("enhance-hint").textContent = t(enhance ? "enhance.on" : "enhance.hint");
    $("options").disabled = !enhance || busy;
    $("enhance").disabled = busy;
    $("describe-row").hidden = this.describeLanguages().length === 0;
    $("describe").disabled = busy;
    $("describe-hint").textContent = t(describe ? "describe.on" : "describe.hint");
    $("describe-options").disabled = !describe || busy;
    $("file").disabled = busy;
    $("remove-file").disabled = busy;
    $("drop").classList.toggle("drop-busy", busy);
    if (config) this.renderChoices();

    let need = "";
    if (!this.file) need = t("submit.need_file");
    else if (!enhance && !describe) need = t("submit.need_enhance");
    $("submit-text").textContent = t(!enhance && describe ? "submit.describe" : "submit");
    $("submit").disabled = Boolean(need) || busy;
    $("submit-hint").textContent = need;
    $("submit-hint").hidden = !need;

    $("upload-status").hidden = !busy;
    if (busy) {
      const { sent, total } = this.sending;
      const fraction = total ? sent / total : 0;
      const bar = $("upload-bar");
      bar.style.setProperty("--value", `${Math.round(fraction * 100)}%`);
      bar.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
      $("upload-text").textContent = t("upload.progress", {
        sent: fmt.bytes(sent), total: fmt.bytes(total), pct: fmt.percent(fraction),
      });
    }
    this.renderMessage();
  }

  renderChoices() {
    for (const input of $("models").querySelectorAll("input")) {
      const model = this.config.models.find((m) => m.id === input.value);
      const label = input.closest("label");
      label.querySelector(".choice-title").textContent = lang() === "en" ? model.title_en : model.title_ru;
      const fps = this.config.recent_fps?.[model.id];
      label.querySelector(".choice-sub").textContent = fps ? t("model.speed", { fps: fmt.fps(fps) }) : t("model.speed.none");
      input.checked = input.value === this.model;
    }
    const states = new Map();
    for (const input of $("sizes").querySelectorAll("input")) {
      states.set(input.value, sizeState(input.value, this.file?.width, this.file?.height, this.config.max_output));
    }
    if (!states.get(this.size)?.ok) {
      this.size = [...states].find(([, state]) => state.ok)?.[0] ?? this.size;
    }
    for (const input of $("sizes").querySelectorAll("input")) {
      const state = states.get(input.value);
      const choice = sizeChoice(input.value);
      const text = choice.height ? t("size.height", choice) : t("size.scale", choice);
      input.closest("label").querySelector(".segment-text").textContent = text;
      input.disabled = !state.ok;
      input.closest("label").classList.toggle("segment-invalid", !state.ok);
      input.closest("label").title = state.ok ? "" : t(state.why);
      input.checked = input.value === this.size;
    }
    const chosen = states.get(this.size);
    let out = "";
    if (chosen?.dims) out = t("size.out", { dims: chosen.dims });
    else if (this.file) out = t("size.unknown");
    $("size-out").textContent = out;
    $("size-out").hidden = !out;
    for (const input of $("describe-langs").querySelectorAll("input")) input.checked = input.value === this.describeLang;
    $("estimate").textContent = this.estimate();
  }

  renderMessage() {
    const box = $("upload-message");
    const message = this.message;
    box.hidden = !message;
    if (!message) return;
    box.className = `message ${message.kind === "ok" ? "message-ok" : "message-error"}`;
    const params = { ...message.params };
    if (params.max !== undefined) params.max = fmt.bytes(params.max);
    const lines = [t(message.key, params)];
    const detail = message.error?.text;
    if (detail) lines.push(t("upload.err.detail", { detail }));
    box.replaceChildren(
      ...lines.map((line, index) => {
        const p = document.createElement("p");
        p.textContent = line;
        if (index > 0) p.className = "message-detail";
        return p;
      }),
    );
  }

  async send() {
    const { enhance, describe } = this.stages();
    if (!this.file || this.sending || !(enhance || describe)) return;
    const chosen = this.file;
    // Without upscaling the server ignores model and size, so they are not sent at all.
    const fields = enhance
      ? { upscale: "true", model: this.model, ...sizeChoice(this.size), ...strengthFields() }
      : { upscale: "false" };
    if (describe) fields.describe = this.describeLang;
    this.message = null;
    const request = upload(chosen.file, fields, (sent, total) => {
      if (!this.sending) return;
      this.sending.sent = sent;
      this.sending.total = total;
      this.render();
    });
    this.sending = { sent: 0, total: chosen.file.size, abort: request.abort };
    this.render();
    try {
      const job = await request.promise;
      this.sending = null;
      this.clearFile();
      this.message = { kind: "ok", key: "upload.done", params: { name: job.filename } };
      this.onUploaded(job);
    } catch (error) {
      this.sending = null;
      this.message = this.refusal(error);
    }
    this.render();
    this.announce($("upload-message").textContent);
  }

  refusal(error) {
    const status = error.status;
    if (status === -1) return { kind: "error", key: "upload.aborted", params: {} };
    if (status === 0) return { kind: "error", key: "upload.err.network", params: {} };
    const known = [413, 415, 422, 429, 507].includes(status);
    // A quota refusal is about this creator's own limit, not the server's: its own heading.
    const quota = typeof error.code === "string" && error.code.startsWith("quota.");
    return {
      kind: "error",
      key: quota ? "upload.err.quota" : known ? `upload.err.${status}` : "upload.err.other",
      params: { status, max: this.config?.max_upload_bytes ?? 0 },
      error, // its reason is rendered in the page's language at each render
    };
  }

  /** Re-render texts after a language switch. */
  translate() {
    this.render();
  }
}
