// The upload form: files picked or dropped, checks before sending, remembered options, estimate, submit.

import { fileProblem, limitsText, measuredProblem, readMeta, sizeChoice, sizeParams, sizeState } from "./checks.js";
import { loadChoices } from "./choices.js";
import { bindForm } from "./form-events.js";
import * as fmt from "./format.js";
import { lang, t } from "./i18n.js";
import { rerun } from "./api.js";
import { renderList, showPreview, showUnfinished } from "./picks.js";
import { buildChoices, describeLanguages, renderChoices } from "./options.js";
import { refusal, renderMessage } from "./outcomes.js";
import { remember } from "./reruns.js";
import { Sender, fileKey } from "./sender.js";
import { UploadsView } from "./uploads.js";
import { strengthFields } from "./strength.js";

// The page cannot read a file's frame rate, so the estimate assumes a common one and says so.
const ASSUMED_FPS = 30;
// How long a job this page made counts as active while no poll lists it yet.
const RECENT_MS = 15_000;

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
    // The owner's active-job limit (GET /api/usage, or a 429's params; 0: none) and active jobs on the list.
    this.limit = 0;
    this.polled = 0;
    this.activeKey = "";
    this.fullKey = null; // the active jobs when the server last said "full": no slot until they change
    // Jobs this page just made, by id → when: a poll begun before one was made does not list it yet, and
    // must not free its slot (RECENT_MS at most, in case it ended before any poll saw it).
    this.recent = new Map();
    this.sender = new Sender({
      onChange: () => this.render(),
      onDone: (entry, job) => this.uploaded(entry, job),
      onFail: (entry, error) => this.failed(entry, error),
      freeSlots: () => this.freeSlots(),
      onLimit: (error) => {
        this.limit = Number(error.params?.limit) || this.limit;
        this.fullKey = this.activeKey;
      },
    });
    this.uploadsView = new UploadsView($("uploads"), (id) => this.sender.cancel(id));
    $("enhance").checked = this.choices.enhance;
    $("describe").checked = this.choices.describe;
    bindForm(this);
  }

  setConfig(config) {
    const shape = (c) => JSON.stringify([c?.models, c?.scales, c?.heights, c?.describe_languages]);
    // A refreshed config usually only brings new speeds: keep the controls (and focus) as they are.
    const rebuild = shape(config) !== shape(this.config);
    this.config = config;
    this.sender.uploadUrl = config.upload_url ?? null;
    showUnfinished(this);
    // The catalogue lists the default model first, so an older config without default_model gets it too.
    if (!config.models.some((m) => m.id === this.choices.model)) this.choices.model = config.default_model ?? config.models[0]?.id;
    const langs = describeLanguages(this);
    if (!langs.includes(this.choices.describeLang)) this.choices.describeLang = langs.includes(lang()) ? lang() : langs[0] ?? null;
    $("file").accept = ["video/*", ...config.accepted].join(",");
    if (rebuild) buildChoices(this);
    this.render();
  }

  /** The caller's usage (GET /api/usage): its active-job limit is shown and kept by the upload queue. */
  setUsage(usage) {
    this.limit = usage?.active_jobs_limit || 0;
    this.render();
    this.sender.pump();
  }

  /** Active jobs: the last poll's, and those made since that it did not list yet. */
  get active() {
    return this.polled + this.recent.size;
  }

  /** The jobs as the server listed them (GET /api/jobs): a slot that freed sends the next waiting file. */
  setJobs(jobs) {
    const active = jobs.filter((job) => job.status === "queued" || job.status === "running");
    const key = active.map((job) => job.id).join(",");
    const listed = new Set(jobs.map((job) => job.id));
    const now = Date.now();
    for (const [id, at] of this.recent) if (listed.has(id) || now - at > RECENT_MS) this.recent.delete(id);
    this.polled = active.length;
    if (key !== this.activeKey) this.fullKey = null;
    this.activeKey = key;
    if (this.sender.busy) this.sender.pump();
  }

  /** How many more jobs may start now (Infinity without a limit). */
  freeSlots() {
    if (!this.limit) return Infinity;
    if (this.fullKey !== null) return 0;
    return Math.max(0, this.limit - this.active);
  }

  /** Which stages are switched on: {enhance, describe}; describe only when the server offers it. */
  stages() {
    const describe = $("describe").checked && describeLanguages(this).length > 0;
    return { enhance: $("enhance").checked, describe };
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
    const picked = new Set(this.files.map((chosen) => fileKey(chosen.file)));
    for (const file of files) {
      // The same file (name, size, date) twice would make two identical jobs: the second pick is refused.
      if (picked.has(fileKey(file)) || this.sender.has(file)) {
        this.refusals.push({ key: this.sender.has(file) ? "err.duplicate.sending" : "err.duplicate", params: { name: file.name } });
        continue;
      }
      picked.add(fileKey(file));
      const problem = fileProblem(file, this.config);
      if (problem) {
        this.refusals.push(problem);
        continue;
      }
      const chosen = { file, url: URL.createObjectURL(file), meta: null, measured: false };
      this.files.push(chosen);
      this.measure(chosen);
    }
    showPreview(this);
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

  removeAt(index) {
    const [gone] = this.files.splice(index, 1);
    if (gone) URL.revokeObjectURL(gone.url);
    showPreview(this);
    this.render();
  }

  clearFiles() {
    for (const chosen of this.files) URL.revokeObjectURL(chosen.url);
    this.files = [];
    this.refusals = [];
    showPreview(this);
    this.render();
  }

  /** Seconds of all chosen files (0 when any is not measured yet). */
  totalDuration() {
    if (this.again) return this.again.input.duration_s;
    if (!this.files.every((f) => f.meta?.duration)) return 0;
    return this.files.reduce((sum, f) => sum + f.meta.duration, 0);
  }

  /** Frames to process: each file's own frame rate when the browser read it (the server's probe for a
   * re-run), else the assumed 30 frames/s; and whether every rate was real. */
  totalFrames() {
    if (this.again) return { frames: this.again.input.duration_s * (this.again.input.fps || ASSUMED_FPS), real: true };
    const frames = this.files.reduce((sum, f) => sum + f.meta.duration * (f.meta.fps || ASSUMED_FPS), 0);
    return { frames, real: this.files.every((f) => f.meta.fps) };
  }

  /** «→ 704×576» for a measured file at the chosen size, or why the size does not fit it. */
  outputOf(meta) {
    if (!this.stages().enhance || !this.config) return "";
    const state = sizeState(this.choices.size, meta.width, meta.height, this.config.max_output);
    return state.ok ? (state.dims ? `→ ${state.dims}` : "") : t(state.why);
  }

  /** «≈ 12 с» of processing for one measured file at the model's measured speed ("" when not known). */
  estimateOf(meta) {
    const fps = this.config?.recent_fps?.[this.choices.model];
    if (!this.stages().enhance || !fps || !meta?.duration) return "";
    return t("file.estimate", { time: fmt.duration(Math.max(1, (meta.duration * (meta.fps || ASSUMED_FPS)) / fps)) });
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
    const { frames, real } = this.totalFrames();
    let time = fmt.duration(Math.max(1, frames / fps));
    if (describe) time = t("estimate.plus_describe", { time });
    const basis = t(real ? "estimate.basis.real" : "estimate.basis", { fps: fmt.fps(fps) });
    return `${t("estimate.time", { time })} — ${basis}.${extra}`;
  }

  render() {
    const config = this.config;
    const { enhance, describe } = this.stages();
    if (config) $("limits").textContent = limitsText(config, this.limit);

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
    renderList(this);
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
    document.querySelector(".layout")?.classList.toggle("layout-busy", this.sender.busy);
    const held = this.sender.held;
    $("upload-queue").hidden = held === 0;
    $("upload-queue").textContent = held ? t("upload.queue", { n: held, limit: this.limit }) : "";
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

  /** Send every chosen file as its own job, with the settings as they are now. */
  send({ quick = false } = {}) {
    if (this.blocker()) return;
    const { enhance, describe } = this.stages();
    // Without upscaling the server ignores model and size, so they are not sent at all.
    const fields = enhance ? { upscale: "true", model: this.choices.model, ...sizeChoice(this.choices.size), ...strengthFields(), ...outputFields() } : { upscale: "false" };
    if (describe) Object.assign(fields, { describe: this.choices.describeLang, density: $("describe-density").value });
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
    showPreview(this);
    this.render();
    this.announce(t("upload.started", { n: files.length }));
  }

  /** POST the re-run with the form's fields as JSON; the new job is shown like an uploaded one. */
  async runAgain(job, fields) {
    const body = { upscale: fields.upscale === "true" };
    for (const name of ["model", "scale", "height", "describe", "density", "strength", "denoise", "hdr", "container"]) {
      if (fields[name] !== undefined) body[name] = typeof fields[name] === "number" ? fields[name] : String(fields[name]);
    }
    $("submit").disabled = true;
    try {
      const made = await rerun(job.id, body);
      remember(made.id, job.id);
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
    this.recent.set(job.id, Date.now());
    showUnfinished(this);
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
      this.files.push({ ...entry.source, url: URL.createObjectURL(entry.file), row: null });
      showPreview(this);
    }
    this.render();
    this.announce($("upload-message").textContent);
  }

  /** Re-render texts after a language switch. */
  translate() {
    this.render();
    showUnfinished(this);
  }
}

/** The HDR and output-format radios: sent only when they differ from the server's defaults. */
function outputFields() {
  const fields = {};
  const hdr = document.querySelector('input[name="hdr"]:checked');
  const container = document.querySelector('input[name="container"]:checked');
  if (hdr && hdr.value !== "keep") fields.hdr = hdr.value;
  if (container && container.value !== "auto") fields.container = container.value;
  return fields;
}
