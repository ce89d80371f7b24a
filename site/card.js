// One job's card: state, progress, actions (stop, delete, re-run, share, downloads), the result panel.

import { share, withParam } from "./api.js";
import { setupCompare } from "./compare.js";
import * as fmt from "./format.js";
import { reasonText, t } from "./i18n.js";
import { expectedOutput, langName, queueText, resultName, upscaled, vttName } from "./names.js";
import { changes, originOf } from "./reruns.js";
import { setupVideoCompare } from "./vcompare.js";

export const ACTIVE = new Set(["queued", "running"]);
const MILESTONES = [0.25, 0.5, 0.75];

/** Whether a retry's failure was the model server being slow or busy (a timeout), not a fault. */
function overloaded(code, params, detail) {
  if (typeof code === "string" && /overload|busy|timeout|timed_out|deadline/.test(code)) return true;
  const text = `${params?.detail ?? ""} ${detail ?? ""}`.toLowerCase();
  return code === "job.triton_call_failed" && /deadline|timed? ?out|timeout|overload|unavailable/.test(text);
}

/**
 * The job's attempt as far as the API tells it: {attempt, of, code, params, detail, infra, overloaded} or
 * null on a first attempt. A scheduled retry (`job.retry`) says it while it waits; `job.retried` with
 * `attempt`/`attempts` while it runs again; else `seen`, the retry this card saw last, stands for the
 * attempt now running.
 */
export function attemptOf(job, seen = null) {
  const retry = job.retry;
  if (retry?.attempt) {
    return { attempt: retry.attempt, of: retry.of || retry.attempt, code: retry.code, params: retry.params || {}, detail: retry.detail, infra: Boolean(retry.infra) };
  }
  const retried = job.retried; // why the running job was last retried (the API keeps it while it runs)
  if (retried && ACTIVE.has(job.status)) {
    const current = Number(job.attempt) || 1;
    return { attempt: current, of: Number(job.attempts) || current, code: retried.code, params: retried.params || {}, detail: retried.detail, infra: Boolean(retried.infra), overloaded: Boolean(retried.overloaded) };
  }
  const attempt = Number(job.attempt) || 0;
  if (attempt > 1) {
    const of = Number(job.max_attempts ?? job.attempts) || attempt;
    const code = job.attempt_code ?? job.retry_code ?? (seen?.attempt === attempt ? seen.code : null);
    const params = job.attempt_params ?? job.retry_params ?? (seen?.attempt === attempt ? seen.params : {});
    return { attempt, of, code, params: params || {}, detail: seen?.detail ?? null, infra: false };
  }
  return seen && ACTIVE.has(job.status) ? { ...seen, infra: false } : null;
}

/** One job's card. */
export class JobCard {
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
    this.attempt = null;
    this.seenRetry = null; // the last retry this card saw: its attempt goes on being shown while it runs
  }

  /** The retry line: «Попытка 2 из 5 — сервер был перегружен, продолжаем сами»; "" on a first attempt. */
  retryText() {
    let attempt = this.attempt;
    if (!attempt || !ACTIVE.has(this.job.status)) return "";
    // A wait that used no attempt: said as a wait while queued, as carried on once it runs again.
    if (attempt.infra) {
      if (this.job.status !== "running") return t("job.retry.infra");
      const counted = this.seenRetry; // an earlier retry that did use an attempt: that one is still the news
      if (!(attempt.attempt > 1 && counted?.attempt === attempt.attempt)) {
        return t(attempt.overloaded ? "job.retry.resumed_overload" : "job.retry.resumed");
      }
      attempt = counted;
    }
    const why = t(overloaded(attempt.code, attempt.params, attempt.detail) ? "job.retry.overload" : "job.retry.failed");
    return t("job.retry", { attempt: attempt.attempt, of: attempt.of, why });
  }

  /** Make a share link, show it in the card and copy it to the clipboard when the browser allows. */
  async share() {
    try {
      const link = await share(this.job.id);
      // The short watch page (title, player, before/after, download) where the server makes one.
      const url = new URL(link.watch_url || link.result_url, window.location.href).href;
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
    const player = () => {
      this.q(".player").hidden = false;
      if (job.result_url && video.getAttribute("src") !== job.result_url) video.src = job.result_url;
      if (job.vtt_url && !video.querySelector("track")) this.addTrack(video, job);
    };
    // One viewer: both videos on one timeline, for an upscaled result whose original is kept; the still
    // comparison only where that cannot play (no original kept, or the browser cannot decode it).
    // The separate player stays only for what the viewer cannot do: a description's cues and track.
    const stills = () => {
      const has = Boolean(job.preview_before_url && job.preview_after_url);
      if (has) this.compare.load(job);
      this.q(".compare").hidden = !has;
      player();
    };
    if (upscaled(job) && (job.source_proxy_url || job.source_url) && job.result_url) {
      this.q(".compare").hidden = true;
      this.q(".player").hidden = !job.vtt_url;
      if (job.vtt_url) player();
      this.vcompare.load(job, stills);
    } else {
      stills();
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
    // The last cue stays while the video plays on; once it ends (or goes back to the start) it goes.
    const clear = () => {
      this.cue.textContent = "";
      this.cue.hidden = true;
    };
    video.addEventListener("ended", clear);
    video.addEventListener("seeking", () => {
      if (video.currentTime < 0.05) clear();
    });
  }

  /** Apply a new job state; returns an announcement when the status or a progress milestone changed. */
  update(job) {
    const previous = this.job;
    this.job = job;
    if (job.retry?.attempt && !job.retry.infra) this.seenRetry = attemptOf(job);
    if (!ACTIVE.has(job.status)) this.seenRetry = null;
    const before = previous ? this.attempt : null;
    this.attempt = attemptOf(job, this.seenRetry);
    this.render();
    if (!previous) return null;
    // A retry is said once, with its reason, instead of a bare "queued".
    const retry = this.retryText();
    if (retry && (before?.attempt !== this.attempt?.attempt || before?.infra !== this.attempt?.infra)) {
      return t("announce.retry", { name: job.filename, text: retry });
    }
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

    // After a retry the server's progress keeps the high mark of an earlier attempt (it never goes back),
    // while the frame count starts again: the card shows both from this attempt's frames.
    const retried = Boolean(this.attempt) && job.status === "running" && job.frames_total > 0;
    const fraction = done ? 1 : retried ? Math.min(1, job.frames_done / job.frames_total) : job.progress || 0;
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
    if (done) frames = t("job.finished", { n: job.output?.frames || job.frames_total });
    this.text(".job-frames", frames);
    q(".job-stats").hidden = !(active || done);

    this.text(".job-retry", this.retryText());
    // A re-run made here says what it changed against the job it repeats (while that one is on the list).
    const origin = originOf(job.id);
    const before = origin ? this.view.jobs?.find((other) => other.id === origin) : null;
    let changed = "";
    if (before) {
      const diff = changes(before, job, (id) => this.view.modelTitle(id));
      changed = diff ? t("rerun.diff", { name: before.filename, changes: diff }) : t("rerun.same");
    }
    this.text(".job-changes", changed);
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
    // Once the whole video runs (or is done) as its own job, the button has done its work and goes.
    whole.hidden = !quick || Boolean(this.view.wholeRun?.(job.id));
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
    // A description-only job's video is the original with a narration, not an enhanced one.
    q(".result-video").setAttribute("aria-label", t(upscaled(job) ? "result.player" : "result.player.same", { name: job.filename }));
    this.compare.translate();
    this.vcompare.translate();
  }

  /** What the run changed in the video and why (deinterlaced, timeline moved...), in the page's language. */
  renderNotes(notes) {
    const list = this.q(".job-notes");
    // A strength is a share of the network's restoration: shown as a percentage, as the slider shows it.
    const shown = (params) => {
      const value = params?.strength;
      return typeof value === "number" && value >= 0 && value <= 1 ? { ...params, strength: fmt.percent(value) } : params;
    };
    const lines = notes.map((note) => reasonText(note.code, shown(note.params), "")).filter(Boolean);
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
