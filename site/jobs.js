// The jobs list: one card per job, updated in place so open players and sliders survive each poll.

import { removeJob, rerun, share, withParam } from "./api.js";
import { setupCompare } from "./compare.js";
import { setupVideoCompare } from "./vcompare.js";
import { askConfirm } from "./dialog.js";
import * as fmt from "./format.js";
import { reasonText, t } from "./i18n.js";
import { Listing } from "./listing.js";
import { outputSize } from "./sizing.js";

export const ACTIVE = new Set(["queued", "running"]);
const MILESTONES = [0.25, 0.5, 0.75];

// Rows from before the field existed were upscale jobs.
const upscaled = (job) => job.upscale !== false;

function expectedOutput(job) {
  if (job.output) return [job.output.width, job.output.height];
  if (!upscaled(job)) return [job.input.width, job.input.height];
  const choice = job.height ? { height: job.height } : { scale: job.scale || 4 };
  return outputSize(job.input.width, job.input.height, choice).size ?? [job.input.width, job.input.height];
}

/** "ru" → "русский" in the page language; an unknown code is shown as it is. */
/** A waiting job's place: «Вы 3-й в очереди, начнётся через ≈ 4 мин» (docs/api.md "Queue place"). */
function queueText(queue) {
  if (!queue) return t("job.waiting");
  const n = queue.position;
  if (queue.starts_in_s == null) return t("job.queue", { n });
  if (queue.starts_in_s < 5) return t("job.queue.soon", { n });
  return t("job.queue.eta", { n, time: fmt.duration(queue.starts_in_s) });
}

function langName(code) {
  const key = `lang.name.${code}`;
  const name = t(key);
  return name === key ? code : name;
}

function stemOf(job) {
  return job.filename.replace(/\.[^.]*$/, "") || "video";
}

/** The names the backend gives the downloads (backend/api.py). */
function resultName(job) {
  return `${stemOf(job)}_${upscaled(job) ? "upscaled" : "described"}.mp4`;
}

function vttName(job) {
  return `${stemOf(job)}.vtt`;
}

/** One job's card. */
class JobCard {
  constructor(template, view) {
    this.view = view;
    this.el = template.content.firstElementChild.cloneNode(true);
    this.q = (selector) => this.el.querySelector(selector);
    this.job = null;
    this.cue = this.q(".player-cue");
    this.compare = setupCompare(this.q(".compare"));
    this.vcompare = setupVideoCompare(this.q(".vcompare"));
    this.q(".job-open").addEventListener("click", () => this.toggleResult());
    this.q(".job-cancel").addEventListener("click", () => this.view.act(this, "cancel"));
    this.q(".job-delete").addEventListener("click", () => this.view.act(this, "delete"));
    this.q(".job-share").addEventListener("click", () => this.share());
    this.q(".job-rerun").addEventListener("click", () => this.view.onRerun(this.job));
    this.q(".job-whole").addEventListener("click", () => this.view.runWhole(this.job));
    this.shared = null;
  }

  /** Make a share link, show it in the card and copy it to the clipboard when the browser allows. */
  async share() {
    try {
      const link = await share(this.job.id);
      const url = new URL(link.result_url, window.location.href).href;
      this.shared = { url, until: new Date(link.expires_at) };
      let copied = false;
      try {
        await navigator.clipboard.writeText(url);
        copied = true;
      } catch {
        // No clipboard here (an iframe, plain HTTP): the link stays selected in the card.
      }
      this.render();
      const field = this.q(".job-share-link");
      field.focus();
      field.select();
      this.view.announce(t(copied ? "job.share.copied" : "job.share.ready", { until: this.shareUntil() }));
    } catch (error) {
      this.view.announce(t("action.failed", { detail: error.text || error.message }));
    }
  }

  shareUntil() {
    return this.shared ? this.shared.until.toLocaleString(document.documentElement.lang || undefined) : "";
  }

  get open() {
    return !this.q(".job-result").hidden;
  }

  toggleResult() {
    const panel = this.q(".job-result");
    panel.hidden = !panel.hidden;
    if (!panel.hidden) this.loadResult();
    else {
      this.q(".result-video").pause();
      this.vcompare.pause();
    }
    this.render();
  }

  loadResult() {
    const job = this.job;
    const video = this.q(".result-video");
    if (job.result_url && video.getAttribute("src") !== job.result_url) video.src = job.result_url;
    if (job.vtt_url && !video.querySelector("track")) this.addTrack(video, job);
    // Both videos on one timeline, for an upscaled result whose original is kept.
    if (upscaled(job) && job.source_url && job.result_url) this.vcompare.load(job);
    if (job.preview_before_url && job.preview_after_url) {
      this.compare.load(job);
      this.q(".compare").hidden = false;
    } else {
      this.q(".compare").hidden = true;
    }
  }

  /** The description cues as a <track kind="descriptions">, read out through a live region while playing. */
  addTrack(video, job) {
    const track = document.createElement("track");
    track.kind = "descriptions";
    track.src = job.vtt_url;
    track.srclang = job.describe || "";
    track.label = t("track.label", { lang: langName(job.describe) });
    video.append(track);
    // "hidden" loads the cues without drawing them; browsers do not voice descriptions themselves.
    track.track.mode = "hidden";
    track.track.addEventListener("cuechange", () => {
      const text = [...(track.track.activeCues || [])].map((cue) => cue.text).join(" ");
      if (text) this.cue.textContent = text;
      this.cue.hidden = !this.cue.textContent;
    });
  }

  /** Apply a new job state; returns an announcement when the status or a progress milestone changed. */
  update(job) {
    const previous = this.job;
    this.job = job;
    this.render();
    if (!previous) return null;
    if (previous.status !== job.status) {
      return t("announce.status", { name: job.filename, status: t(`status.${job.status}`) });
    }
    const crossed = MILESTONES.find((mark) => previous.progress < mark && job.progress >= mark);
    return crossed ? t("announce.progress", { name: job.filename, pct: fmt.percent(crossed) }) : null;
  }

  render() {
    const job = this.job;
    const { q } = this;
    const active = ACTIVE.has(job.status);
    const done = job.status === "done";
    this.el.dataset.id = job.id;
    this.el.id = `job-${job.id}`;
    this.el.dataset.status = job.status;

    q(".job-name").textContent = job.filename;
    // Long names are clamped to two lines on screen; the tooltip shows all of it (the heading text is whole).
    q(".job-name").title = job.filename;
    const [outW, outH] = expectedOutput(job);
    q(".job-meta").textContent = t(upscaled(job) ? "job.meta" : "job.meta.same", {
      dims: fmt.dims(job.input.width, job.input.height),
      out: fmt.dims(outW, outH),
      model: this.view.modelTitle(job.model),
      duration: fmt.clipLength(job.input.duration_s),
    });
    const described = job.describe ? t("job.described", { lang: langName(job.describe) }) : "";
    this.text(".job-described", described);
    const badge = q(".badge");
    badge.textContent = t(`status.${job.status}`);
    badge.className = `badge badge-${job.status}`;

    const thumb = q(".job-thumb img");
    if (job.preview_before_url) {
      if (thumb.getAttribute("src") !== job.preview_before_url) thumb.src = job.preview_before_url;
      thumb.alt = t("job.thumb", { name: job.filename });
      thumb.hidden = false;
    }

    const fraction = done ? 1 : job.progress || 0;
    const pct = Math.round(fraction * 100);
    const bar = q(".job-progress");
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", fmt.percent(fraction));
    bar.setAttribute("aria-label", t("job.progress", { name: job.filename }));
    bar.style.setProperty("--value", `${pct}%`);
    bar.classList.toggle("progress-indeterminate", job.status === "queued");

    const running = job.status === "running";
    this.text(".job-pct", running || done ? fmt.percent(fraction) : "");
    this.text(".job-fps", running && job.fps ? t("job.fps", { fps: fmt.fps(job.fps) }) : "");
    this.text(".job-eta", running && job.eta_s != null ? t("job.eta", { time: fmt.duration(job.eta_s) }) : "");
    let frames = "";
    if (running && job.frames_total) frames = t("job.frames", { done: job.frames_done, total: job.frames_total });
    if (job.status === "queued") frames = queueText(job.queue);
    if (done) frames = t("job.finished", { frames: job.output?.frames || job.frames_total });
    this.text(".job-frames", frames);
    q(".job-stats").hidden = !(active || done);

    let note = "";
    if (job.status === "failed") {
      const reason = reasonText(job.error_code, job.error_params, job.error);
      note = reason ? t("job.error", { error: reason }) : t("job.error.unknown");
    }
    if (job.status === "cancelled") note = t("job.cancelled");
    this.text(".job-note", note);
    q(".job-note").classList.toggle("message-error", job.status === "failed");
    // Retention (docs/api.md expires_at): a finished job says when it and its files go.
    this.text(".job-expires", !active && job.expires_at ? t("job.expires", { date: fmt.day(job.expires_at) }) : "");
    this.renderNotes(done ? job.notes || [] : []);

    const open = q(".job-open");
    open.hidden = !(done && job.result_url);
    open.textContent = this.open ? t("job.close") : t("job.open");
    open.setAttribute("aria-expanded", String(this.open));
    open.setAttribute("aria-label", this.open ? t("job.close") : t("job.open.label", { name: job.filename }));
    const resultId = `result-${job.id}`;
    q(".job-result").id = resultId;
    open.setAttribute("aria-controls", resultId);

    const download = q(".job-download");
    download.hidden = !(done && job.result_url);
    if (job.result_url) {
      download.href = withParam(job.result_url, "download", "1");
      download.setAttribute("download", resultName(job));
    }
    download.textContent = t("job.download");
    download.setAttribute("aria-label", t("job.download.label", { name: resultName(job) }));
    const vtt = q(".job-vtt");
    vtt.hidden = !(done && job.vtt_url);
    if (job.vtt_url) {
      vtt.href = job.vtt_url;
      vtt.setAttribute("download", vttName(job));
    }
    vtt.textContent = t("job.vtt");
    vtt.setAttribute("aria-label", t("job.vtt.label", { name: vttName(job) }));

    const source = q(".job-source");
    source.hidden = active || !job.source_url;
    if (job.source_url) {
      source.href = withParam(job.source_url, "download", "1");
      source.setAttribute("download", job.filename);
    }
    source.textContent = t("job.source");
    source.setAttribute("aria-label", t("job.source.label", { name: job.filename }));
    const quick = job.excerpt_start != null;
    this.text(".job-quick", quick ? t("job.quick", { start: fmt.clipLength(job.excerpt_start) }) : "");
    const whole = q(".job-whole");
    whole.hidden = !quick;
    whole.textContent = t("job.whole");
    whole.setAttribute("aria-label", t("job.whole.label", { name: job.filename }));
    const again = q(".job-rerun");
    again.hidden = active;
    again.textContent = t("job.rerun");
    again.setAttribute("aria-label", t("job.rerun.label", { name: job.filename }));

    const shareButton = q(".job-share");
    shareButton.hidden = !(done && job.result_url);
    shareButton.textContent = t("job.share");
    shareButton.setAttribute("aria-label", t("job.share.label", { name: job.filename }));
    const shared = q(".job-shared");
    shared.hidden = !(done && this.shared);
    if (this.shared) {
      q(".job-share-link").value = this.shared.url;
      q(".job-share-note").textContent = t("job.share.until", { until: this.shareUntil() });
    }
    q(".job-share-link").setAttribute("aria-label", t("job.share.field", { name: job.filename }));

    const cancel = q(".job-cancel");
    cancel.hidden = !active;
    cancel.textContent = t("job.cancel");
    cancel.setAttribute("aria-label", t("job.cancel.label", { name: job.filename }));
    const del = q(".job-delete");
    del.hidden = active;
    del.textContent = t("job.delete");
    del.setAttribute("aria-label", t("job.delete.label", { name: job.filename }));

    if (!done && this.open) q(".job-result").hidden = true;
    q(".player-title").textContent = t("video.title");
    const playerNote = done && job.vtt_url ? t("player.note", { lang: langName(job.describe) }) : "";
    this.text(".player-note", playerNote);
    const track = q(".result-video track");
    if (track) track.label = t("track.label", { lang: langName(job.describe) });
    q(".result-video").setAttribute("aria-label", t("result.player", { name: job.filename }));
    this.compare.translate();
    this.vcompare.translate();
  }

  /** What the run changed in the video and why (deinterlaced, timeline moved...), in the page's language. */
  renderNotes(notes) {
    const list = this.q(".job-notes");
    const lines = notes.map((note) => reasonText(note.code, note.params, "")).filter(Boolean);
    list.replaceChildren(...lines.map((line) => Object.assign(document.createElement("li"), { textContent: line })));
    list.hidden = lines.length === 0;
    list.setAttribute("aria-label", t("job.notes"));
  }

  text(selector, value) {
    const el = this.q(selector);
    el.textContent = value;
    el.hidden = !value;
  }
}

/** The list of cards in `listEl`, kept in the server's order (newest first). */
export class JobsView {
  constructor({ listEl, stateEl, countEl, template, announce, onChange, onFinished, onRerun, onEnded }) {
    Object.assign(this, { listEl, stateEl, countEl, template, announce, onChange, onFinished, onRerun, onEnded });
    this.jobs = [];
    this.listing = new Listing({
      filtersEl: document.getElementById("jobs-filters"),
      moreEl: document.getElementById("jobs-more"),
      clearEl: document.getElementById("jobs-clear"),
      onChange: () => this.place(),
      onMore: (from) => {
        this.place();
        // The first card the button brought takes focus, so the keyboard goes on where reading stopped.
        this.listEl.children[from]?.querySelector(".job-name").focus();
      },
      onClear: () => this.clearFinished(),
    });
    this.cards = new Map();
    this.models = [];
    this.loaded = false;
    this.offline = false;
  }

  modelTitle(id) {
    const model = this.models.find((m) => m.id === id);
    if (!model) return id;
    return document.documentElement.lang === "en" ? model.title_en : model.title_ru;
  }

  /** Replace the list with the server's jobs. */
  show(jobs) {
    this.loaded = true;
    this.offline = false;
    this.waiting = false;
    this.jobs = jobs;
    const seen = new Set();
    const messages = [];
    let finished = false;
    for (const job of jobs) {
      seen.add(job.id);
      let card = this.cards.get(job.id);
      if (!card) {
        card = new JobCard(this.template, this);
        this.cards.set(job.id, card);
      }
      finished ||= Boolean(card.job && ACTIVE.has(card.job.status) && job.status === "done");
      if (card.job && ACTIVE.has(card.job.status) && !ACTIVE.has(job.status)) this.onEnded?.(job);
      const message = card.update(job);
      if (message) messages.push(message);
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.el.remove();
        this.cards.delete(id);
      }
    }
    this.place();
    if (messages.length) this.announce(messages.join(". "));
    if (finished) this.onFinished();
  }

  /** Put the cards the filter and page show into the list, in order; the rest leave the page. */
  place() {
    const shown = this.listing.apply(this.jobs).map((job) => this.cards.get(job.id));
    const keep = new Set(shown);
    for (const el of [...this.listEl.children]) {
      if (!keep.has(this.cards.get(el.dataset.id))) el.remove();
    }
    shown.forEach((card, index) => {
      if (this.listEl.children[index] === card.el) return;
      // Moving a node drops its focus: give it back, so a reordering poll never strands the keyboard.
      const focused = card.el.contains(document.activeElement) ? document.activeElement : null;
      this.listEl.insertBefore(card.el, this.listEl.children[index] || null);
      focused?.focus();
    });
    this.listing.render(this.jobs.length);
    this.renderState();
  }

  /** One job changed locally (a fresh upload or a cancel answer). */
  upsert(job) {
    // The list as shown, with `job` in its place (a new one first); the sort is stable, so equal times keep it.
    const jobs = [...this.jobs];
    const index = jobs.findIndex((j) => j.id === job.id);
    if (index >= 0) jobs[index] = job;
    else jobs.unshift(job);
    this.show(jobs.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0)));
  }

  /** Scroll a job's card into view and move focus to its name (after a submit, or from the message's link). */
  reveal(id) {
    const card = this.cards.get(id);
    if (!card) return;
    this.listing.include(this.jobs, id);
    this.place();
    card.el.scrollIntoView({ block: "nearest" });
    card.q(".job-name").focus();
  }

  setOffline(offline) {
    this.offline = offline;
    this.renderState();
  }

  /** Integrated mode without a token yet: say so instead of "no connection". */
  setWaiting(waiting) {
    this.waiting = waiting;
    this.renderState();
  }

  anyActive() {
    return [...this.cards.values()].some((card) => ACTIVE.has(card.job.status));
  }

  renderState() {
    let state = "";
    if (this.waiting) state = t("jobs.signin");
    else if (this.offline) state = t("jobs.offline");
    else if (!this.loaded) state = t("jobs.loading");
    else if (this.cards.size === 0) state = t("jobs.empty");
    else if (this.listEl.children.length === 0) state = t("jobs.filter.empty");
    this.stateEl.textContent = state;
    this.stateEl.hidden = !state;
    this.stateEl.classList.toggle("message-warn", this.offline);
    this.countEl.textContent = this.cards.size ? String(this.cards.size) : "";
  }

  /** Re-render every text after a language switch. */
  translate() {
    for (const card of this.cards.values()) card.render();
    this.listing.render(this.jobs.length);
    this.renderState();
  }

  /** Cancel (active) or delete (finished) after the user confirms; focus then lands on a sensible neighbour. */
  async act(card, action) {
    const name = card.job.filename;
    const ok = await askConfirm({
      title: t(`confirm.${action}.title`),
      text: t(`confirm.${action}.text`, { name }),
      ok: t(`confirm.${action}.ok`),
    });
    if (!ok) return;
    try {
      const job = await removeJob(card.job.id);
      if (job) {
        this.upsert(job);
        // The stop button is gone with the run: its card's next action (delete) takes focus.
        const next = [".job-delete", ".job-name"].map((s) => card.q(s)).find((el) => !el.hidden);
        next.focus();
      } else {
        const after = card.el.nextElementSibling || card.el.previousElementSibling;
        card.el.remove();
        this.cards.delete(card.job.id);
        this.jobs = this.jobs.filter((j) => j.id !== card.job.id);
        this.place();
        (after?.querySelector(".job-name") || document.getElementById("jobs-title")).focus();
      }
    } catch (error) {
      this.announce(t("action.failed", { detail: error.text || error.message }));
    }
    this.onChange();
  }

  /** «Обработать всё»: a quick test run's whole original with the same settings (no second upload). */
  async runWhole(job) {
    const body = { whole: true, upscale: job.upscale !== false };
    if (body.upscale) Object.assign(body, { model: job.model }, job.height ? { height: job.height } : { scale: job.scale });
    if (job.describe) body.describe = job.describe;
    try {
      const made = await rerun(job.id, body);
      this.upsert(made);
      this.reveal(made.id);
      this.announce(t("job.whole.done", { name: made.filename }));
    } catch (error) {
      this.announce(t("action.failed", { detail: error.text || error.message }));
    }
    this.onChange();
  }

  /** «Очистить завершённые»: after one confirmation, delete every job that is not queued or running. */
  async clearFinished() {
    const finished = this.jobs.filter((job) => !ACTIVE.has(job.status));
    if (!finished.length) return;
    const ok = await askConfirm({
      title: t("confirm.clear.title"),
      text: t("confirm.clear.text", { n: finished.length }),
      ok: t("confirm.clear.ok"),
    });
    if (!ok) return;
    const failures = [];
    for (const job of finished) {
      try {
        await removeJob(job.id);
      } catch (error) {
        failures.push(error);
      }
    }
    this.announce(t("jobs.cleared", { n: finished.length - failures.length }));
    if (failures.length) this.announce(t("action.failed", { detail: failures[0].text || failures[0].message }));
    document.getElementById("jobs-title").focus();
    this.onChange();
  }
}
