// Which jobs the list shows: a filter (all / active / done / failed) and a page that grows by PAGE_SIZE.

import { t } from "./i18n.js";

export const PAGE_SIZE = 10;
const ACTIVE = new Set(["queued", "running"]);
// A cancelled job is the creator's own choice, not an error: it has a filter of its own.
const FILTERS = {
  all: () => true,
  active: (job) => ACTIVE.has(job.status),
  done: (job) => job.status === "done",
  failed: (job) => job.status === "failed",
  cancelled: (job) => job.status === "cancelled",
};

/** The filter radios, the «Показать ещё» button and the «Очистить завершённые» button of the jobs card. */
export class Listing {
  constructor({ filtersEl, moreEl, clearEl, onChange, onMore, onClear }) {
    Object.assign(this, { filtersEl, moreEl, clearEl });
    this.filter = "all";
    this.limit = PAGE_SIZE;
    this.counts = {};
    filtersEl.addEventListener("change", (event) => {
      this.filter = event.target.value;
      this.limit = PAGE_SIZE;
      onChange();
    });
    moreEl.addEventListener("click", () => {
      this.limit += PAGE_SIZE;
      onMore(this.limit - PAGE_SIZE);
    });
    clearEl.addEventListener("click", onClear);
  }

  /** The jobs to show now, newest first as given; remembers the counts for the labels. */
  apply(jobs) {
    this.counts = Object.fromEntries(Object.entries(FILTERS).map(([name, test]) => [name, jobs.filter(test).length]));
    this.finished = jobs.filter((job) => !ACTIVE.has(job.status));
    const matching = jobs.filter(FILTERS[this.filter]);
    this.hidden = Math.max(0, matching.length - this.limit);
    return matching.slice(0, this.limit);
  }

  /** Make sure `job` is shown: back to "all" when filtered out, a longer page when beyond it. */
  include(jobs, id) {
    if (!jobs.filter(FILTERS[this.filter]).some((job) => job.id === id)) this.filter = "all";
    const index = jobs.filter(FILTERS[this.filter]).findIndex((job) => job.id === id);
    if (index >= this.limit) this.limit = Math.ceil((index + 1) / PAGE_SIZE) * PAGE_SIZE;
  }

  render(total) {
    this.filtersEl.hidden = total === 0;
    for (const input of this.filtersEl.querySelectorAll("input")) {
      // The cancelled filter only while there is something to show under it (or it is the one chosen).
      if (input.value === "cancelled") input.closest("label").hidden = !this.counts.cancelled && this.filter !== "cancelled";
      input.checked = input.value === this.filter;
      const text = input.closest("label").querySelector(".segment-text");
      text.textContent = t(`jobs.filter.${input.value}`, { n: this.counts[input.value] ?? 0 });
    }
    this.moreEl.hidden = !this.hidden;
    this.moreEl.textContent = t("jobs.more", { n: Math.min(this.hidden, PAGE_SIZE), left: this.hidden });
    this.clearEl.hidden = !this.finished?.length;
    this.clearEl.textContent = t("jobs.clear");
  }
}
