// The jobs list: one card per job (card.js), updated in place so open players and sliders survive each poll.

import { removeJob, rerun } from "./api.js";
import { ACTIVE, JobCard } from "./card.js";
import { askConfirm } from "./dialog.js";
import { t } from "./i18n.js";
import { Listing } from "./listing.js";

export { ACTIVE };

// Quick test runs whose whole video was sent («Обработать всё»): {quick job id: whole job id}, kept here.
const WHOLE_KEY = "vsr.whole";

function loadWholes() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(WHOLE_KEY) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return {};
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
    this.wholes = loadWholes();
  }

  /** The job running or done with the whole video of quick run `id`, or null (none, or it failed). */
  wholeRun(id) {
    const made = this.wholes[id] && this.jobs.find((job) => job.id === this.wholes[id]);
    return made && made.status !== "failed" && made.status !== "cancelled" ? made : null;
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
      this.wholes[job.id] = made.id;
      try {
        window.localStorage.setItem(WHOLE_KEY, JSON.stringify(this.wholes));
      } catch {
        // Not remembered after a reload; the button still goes for this visit.
      }
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
