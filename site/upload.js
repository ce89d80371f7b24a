// The upload form: files picked or dropped, checks before sending, remembered options, estimate, submit.

import { fileProblem, limitsText, measuredProblem, readMeta, sizeChoice, sizeParams } from "./checks.js";
import { loadChoices, saveChoices } from "./choices.js";
import { droppedFiles } from "./drops.js";
import * as fmt from "./format.js";
import { lang, t } from "./i18n.js";
import { rerun } from "./api.js";
import { forget, unfinished } from "./resumable.js";
import { buildChoices, describeLanguages, renderChoices } from "./options.js";
import { refusal, renderMessage } from "./outcomes.js";
import { Sender } from "./sender.js";
import { UploadsView } from "./uploads.js";

// The page cannot read a file's frame rate, so the estimate assumes a common one and says so.
const ASSUMED_FPS = 30;

const $ = (id) => document.getElementById(id);

/** Controller of #upload-form; `onUploaded(job, first)` gets each created job (`first`: first of its batch). */
export class UploadForm {
  constructor({ onUploaded, onShow, announce }) {
    this.onUploaded = onUploaded;
    this.onShow = onShow;
    this.announce = announce;
    this.config = null;
    this.files = []; // [{file, url, meta: {width, height, duration} | null, measured}]
    this.refusals = []; // [{key, params}]: files the checks kept out, each with why
    this.results = []; // this batch's outcomes: [{kind: ok|error, key, params, error, jobId}]
    this.choices = loadChoices();
    this.again = null; // a finished job to run again from its kept original (no file then)
    this.sender = new Sender({
      onChange: () => this.render(),
      onDone: (entry, job) => this.uploaded(entry, job),
      onFail: (entry, error) => this.failed(entry, error),
    });
    this.uploadsView = new UploadsView($("uploads"), (id) => this.sender.cancel(id));
    $("enhance").checked = this.choices.enhance;
    $("describe").checked = this.choices.describe;
    this.bind();
  }

  bind() {
    $("file").addEventListener("change", (event) => {
      this.add([...event.target.files]);
      event.target.value = "";
    });
    const drop = $("drop");
    for (const type of ["dragenter", "dragover"]) {
      drop.addEventListener(type, (event) => {
        event.preventDefault();
        drop.classList.add("drop-over");
      });
    }
    drop.addEventListener("dragleave", (event) => {
      if (!drop.contains(event.relatedTarget)) drop.classList.remove("drop-over");
    });
    drop.addEventListener("drop", async (event) => {
      event.preventDefault();
      drop.classList.remove("drop-over");
      this.add(await droppedFiles(event.dataTransfer));
    });
    // A file dropped beside the zone must not navigate away from the page.
    for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());
    $("add-files").addEventListener("click", () => $("file").click());
    $("remove-file").addEventListener("click", () => {
      this.clearFiles();
      $("file").focus();
    });
    $("picked-list").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-index]");
      if (!button) return;
      this.removeAt(Number(button.dataset.index));
    });
    const remember = () => {
      Object.assign(this.choices, { enhance: $("enhance").checked, describe: $("describe").checked });
      saveChoices(this.choices);
      this.render();
    };
    $("enhance").addEventListener("change", remember);
    $("describe").addEventListener("change", remember);
    for (const [id, key] of [["describe-langs", "describeLang"], ["models", "model"], ["sizes", "size"]]) {
      $(id).addEventListener("change", (event) => {
        this.choices[key] = event.target.value;
        remember();
      });
    }
    $("rerun-cancel").addEventListener("click", () => {
      const id = this.again?.id;
      this.setAgain(null);
      this.onShow?.(id);
    });
    $("quick").addEventListener("click", () => this.send({ quick: true }));
    $("upload-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  setConfig(config) {
    const shape = (c) => JSON.stringify([c?.models, c?.scales, c?.heights, c?.describe_languages]);
    // A refreshed config usually only brings new speeds: keep the controls (and focus) as they are.
    const rebuild = shape(config) !== shape(this.config);
    this.config = config;
    this.sender.uploadUrl = config.upload_url ?? null;
    this.showUnfinished();
    // The catalogue lists the default model first, so an older config without default_model gets it too.
    if (!config.models.some((m) => m.id === this.choices.model)) this.choices.model = config.default_model ?? config.models[0]?.id;
    const langs = describeLanguages(this);
    if (!langs.includes(this.choices.describeLang)) this.choices.describeLang = langs.includes(lang()) ? lang() : langs[0] ?? null;
    $("file").accept = ["video/*", ...config.accepted].join(",");
    if (rebuild) buildChoices(this);
    this.render();
  }

  /** Which stages are switched on: {enhance, describe}; describe only when the server offers it. */
  stages() {
    const describe = $("describe").checked && describeLanguages(this).length > 0;
    return { enhance: $("enhance").checked, describe };
  }

  /** Uploads a reload or a lost connection cut short: picking the same file again resumes each. */
  async showUnfinished() {
    const list = $("unfinished");
    const items = this.sender.resumable ? await unfinished() : [];
    const sending = new Set(this.sender.entries.map((e) => e.file.name));
    const left = items.filter((item) => item.name && !sending.has(item.name));
    list.replaceChildren(
      ...left.map((item) => {
        const li = document.createElement("li");
        li.append(t("resume.left", { name: item.name, size: fmt.bytes(item.size) }), " ");
        const drop = Object.assign(document.createElement("button"), { type: "button", className: "btn btn-link", textContent: t("resume.forget") });
        drop.setAttribute("aria-label", t("resume.forget.label", { name: item.name }));
        drop.addEventListener("click", async () => {
          await forget(item.key);
          await this.showUnfinished();
          $("file").focus();
        });
        li.append(drop);
        return li;
      }),
    );
    list.hidden = left.length === 0;
  }

  /** Run `job` again: the form takes its settings' place of a file; null goes back to files. */
  setAgain(job) {
    this.again = job;
    this.results = [];
    this.render();
    if (job) {
      $("rerun").scrollIntoView({ block: "nearest" });
      $("rerun-title").focus();
    }
  }

  /** Take picked or dropped files: the checks that need no reading first, then each one's measurements. */
  add(files) {
    if (!files.length) return;
    this.results = [];
    this.refusals = [];
    for (const file of files) {
      const problem = fileProblem(file, this.config);
      if (problem) {
        this.refusals.push(problem);
        continue;
      }
      const chosen = { file, url: URL.createObjectURL(file), meta: null, measured: false };
      this.files.push(chosen);
      this.measure(chosen);
    }
    this.showPreview();
    this.render();
  }

  /** Read a file's size and length; one over a limit leaves the list with its reason, before any byte is sent. */
  async measure(chosen) {
    chosen.meta = await readMeta(chosen.url);
    chosen.measured = true;
    if (!this.files.includes(chosen)) return;
    const problem = measuredProblem(chosen.file.name, chosen.meta, this.config);
    if (problem) {
      this.refusals.push(problem);
      this.removeAt(this.files.indexOf(chosen));
      return;
    }
    this.render();
  }

  /** The preview player shows a single chosen file; a list has none. */
  showPreview() {
    const video = $("picked-video");
    const single = this.files.length === 1 ? this.files[0] : null;
    video.hidden = !single;
    if (!single) {
      video.removeAttribute("src");
      return;
    }
    if (video.getAttribute("src") === single.url) return;
    // Seek a little so the preview shows a real frame rather than a blank box.
    video.onloadedmetadata = () => {
      video.currentTime = Math.min(0.5, (video.duration || 0) / 2);
    };
    video.onerror = () => {
      video.hidden = true;
    };
    video.src = single.url;
  }

  removeAt(index) {
    const [gone] = this.files.splice(index, 1);
    if (gone) URL.revokeObjectURL(gone.url);
    this.showPreview();
    this.render();
  }

  clearFiles() {
    for (const chosen of this.files) URL.revokeObjectURL(chosen.url);
    this.files = [];
    this.refusals = [];
    this.showPreview();
    this.render();
  }

  /** Seconds of all chosen files (0 when any is not measured yet). */
  totalDuration() {
    if (this.again) return this.again.input.duration_s;
    if (!this.files.every((f) => f.meta?.duration)) return 0;
    return this.files.reduce((sum, f) => sum + f.meta.duration, 0);
  }

  estimate() {
    const { enhance, describe } = this.stages();
    if (!enhance) return describe ? t("estimate.describe_only") : "";
    const extra = describe ? ` ${t("estimate.describe_extra")}` : "";
    const fps = this.config?.recent_fps?.[this.choices.model];
    if (!fps) return t("estimate.none") + extra;
    if (!this.files.length && !this.again) return "";
    const seconds = this.totalDuration();
    if (!seconds) return t("estimate.noduration") + extra;
    // Description speed is not measured by the server (it depends on the scenes), so it is named, not timed.
    let time = fmt.duration(Math.max(1, (seconds * ASSUMED_FPS) / fps));
    if (describe) time = t("estimate.plus_describe", { time });
    return `${t("estimate.time", { time })} — ${t("estimate.basis", { fps: fmt.fps(fps) })}.${extra}`;
  }

  render() {
    const config = this.config;
    const { enhance, describe } = this.stages();
    if (config) $("limits").textContent = limitsText(config);

    const again = this.again;
    $("rerun").hidden = !again;
    $("drop").hidden = Boolean(again);
    if (again) $("rerun-title").textContent = t("rerun.title", { name: again.filename });
    const count = this.files.length;
    $("drop-empty").hidden = count > 0;
    $("picked").hidden = count === 0;
    $("drop").classList.toggle("drop-filled", count > 0);
    $("remove-file").textContent = t(count > 1 ? "file.remove.all" : "file.remove");
    if (count === 1) {
      const { file, meta } = this.files[0];
      $("picked-name").textContent = file.name;
      $("picked-meta").textContent = meta?.width
        ? t("file.meta", { size: fmt.bytes(file.size), dims: fmt.dims(meta.width, meta.height), duration: fmt.clipLength(meta.duration) })
        : t("file.meta.nodims", { size: fmt.bytes(file.size) });
    } else if (count > 1) {
      const bytes = this.files.reduce((sum, f) => sum + f.file.size, 0);
      $("picked-name").textContent = t("file.many", { n: count });
      $("picked-meta").textContent = t("file.meta.nodims", { size: fmt.bytes(bytes) });
    }
    this.renderList();
    const refusals = this.refusals.map((r) => t(r.key, r.key === "err.size" ? sizeParams(r.params) : r.params));
    $("file-error").hidden = refusals.length === 0;
    $("file-error").replaceChildren(...refusals.map((text) => Object.assign(document.createElement("p"), { textContent: text })));

    $("enhance-hint").textContent = t(enhance ? "enhance.on" : "enhance.hint");
    // Settings stay free while files upload: each file took the settings of its own submit.
    $("options").disabled = !enhance;
    $("describe-row").hidden = describeLanguages(this).length === 0;
    $("describe-hint").textContent = t(describe ? "describe.on" : "describe.hint");
    $("describe-options").disabled = !describe;
    if (config) renderChoices(this);

    const need = this.blocker();
    $("submit-text").textContent = t(again ? "submit.rerun" : !enhance && describe ? "submit.describe" : "submit");
    $("submit").disabled = Boolean(need);
    // Only a resumable upload can ask for an excerpt (the server cuts it when the last byte is in).
    $("quick-row").hidden = !this.sender.resumable || Boolean(again) || !enhance;
    $("quick").disabled = Boolean(need);
    $("submit-hint").textContent = need;
    $("submit-hint").hidden = !need;

    $("upload-status").hidden = !this.sender.busy;
    this.uploadsView.render(this.sender.entries);
    renderMessage(this);
  }

  /** Why the submit button is disabled now ("" when it is not): always shown beside it. */
  blocker() {
    const { enhance, describe } = this.stages();
    if (!this.config) return t("submit.need_config");
    if (!this.files.length && !this.again) return t("submit.need_file");
    if (!enhance && !describe) return t("submit.need_enhance");
    if (this.files.some((f) => !f.measured)) return t("submit.measuring");
    return "";
  }

  /** Several chosen files: one row each with its own remove button. */
  renderList() {
    const list = $("picked-list");
    list.hidden = this.files.length < 2;
    const focused = list.contains(document.activeElement) ? Number(document.activeElement.dataset.index) : -1;
    list.replaceChildren(
      ...(this.files.length < 2 ? [] : this.files).map((chosen, index) => {
        const li = document.createElement("li");
        const name = Object.assign(document.createElement("span"), { className: "picked-item-name", textContent: chosen.file.name, title: chosen.file.name });
        const meta = Object.assign(document.createElement("span"), { className: "hint", textContent: fmt.bytes(chosen.file.size) });
        const remove = Object.assign(document.createElement("button"), { type: "button", className: "btn btn-link", textContent: t("file.remove.one") });
        remove.dataset.index = String(index);
        remove.setAttribute("aria-label", t("file.remove.one.label", { name: chosen.file.name }));
        li.append(name, meta, remove);
        return li;
      }),
    );
    if (focused >= 0) {
      // The removed row's button hands focus to the row now in its place (or the one before).
      const buttons = list.querySelectorAll("button");
      (buttons[Math.min(focused, buttons.length - 1)] || $("add-files")).focus();
    }
  }

  /** Send every chosen file as its own job, with the settings as they are now. */
  send({ quick = false } = {}) {
    if (this.blocker()) return;
    const { enhance, describe } = this.stages();
    // Without upscaling the server ignores model and size, so they are not sent at all.
    const fields = enhance ? { upscale: "true", model: this.choices.model, ...sizeChoice(this.choices.size) } : { upscale: "false" };
    if (describe) fields.describe = this.choices.describeLang;
    // A quick test run: 5 s from the given second, or the busiest 5 s (the server judges).
    if (quick) fields.excerpt = $("quick-start").value.trim() || "auto";
    this.results = [];
    this.batchFirst = true;
    if (this.again) {
      this.runAgain(this.again, fields);
      return;
    }
    const files = this.files;
    this.files = [];
    this.refusals = [];
    for (const chosen of files) {
      URL.revokeObjectURL(chosen.url);
      this.sender.add(chosen.file, { ...fields }, chosen);
    }
    this.showPreview();
    this.render();
    this.announce(t("upload.started", { n: files.length }));
  }

  /** POST the re-run with the form's fields as JSON; the new job is shown like an uploaded one. */
  async runAgain(job, fields) {
    const body = { upscale: fields.upscale === "true" };
    for (const name of ["model", "scale", "height", "describe"]) {
      if (fields[name] !== undefined) body[name] = typeof fields[name] === "number" ? fields[name] : String(fields[name]);
    }
    $("submit").disabled = true;
    try {
      const made = await rerun(job.id, body);
      this.again = null;
      this.results.push({ kind: "ok", key: "upload.rerun.done", params: { name: made.filename }, jobId: made.id });
      this.render();
      this.onUploaded(made, true);
      this.announce(t("upload.rerun.done", { name: made.filename }));
    } catch (error) {
      this.results.push(refusal(error, job.filename, this.config));
      this.render();
      this.announce($("upload-message").textContent);
    }
  }

  uploaded(entry, job) {
    this.showUnfinished();
    this.results.push({ kind: "ok", key: "upload.done", params: { name: job.filename }, jobId: job.id });
    const first = this.batchFirst;
    this.batchFirst = false;
    this.render();
    this.onUploaded(job, first);
    this.announce(t("upload.done", { name: job.filename }));
  }

  failed(entry, error) {
    this.results.push(refusal(error, entry.file.name, this.config));
    // A refused or lost upload (not a cancelled one) comes back to the list: change a setting and send again.
    if (error.status !== -1 && entry.source) {
      this.files.push({ ...entry.source, url: URL.createObjectURL(entry.file) });
      this.showPreview();
    }
    this.render();
    this.announce($("upload-message").textContent);
  }

  /** Re-render texts after a language switch. */
  translate() {
    this.render();
    this.showUnfinished();
  }
}
