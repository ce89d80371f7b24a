// The tab title shows the running jobs' progress; a browser notification (once allowed) says when one ends.

import { t } from "./i18n.js";

const ACTIVE = new Set(["queued", "running"]);
const ENDS = { done: "notify.done", failed: "notify.failed", cancelled: "notify.cancelled" };

/** «42 % · Студия…» while jobs run (their mean progress), the plain title otherwise. */
export function titleFor(jobs, base) {
  const running = jobs.filter((job) => ACTIVE.has(job.status));
  if (!running.length) return base;
  const mean = running.reduce((sum, job) => sum + (job.progress || 0), 0) / running.length;
  return t("title.progress", { pct: Math.floor(mean * 100), n: running.length, title: base });
}

/** The «Сообщить о готовности» button and the notifications themselves. */
export class Notifier {
  constructor(button) {
    this.button = button;
    this.supported = "Notification" in window;
    button.addEventListener("click", async () => {
      await Notification.requestPermission();
      this.render();
      button.blur();
      document.getElementById("jobs-title").focus();
    });
    this.render();
  }

  render() {
    this.button.hidden = !this.supported || Notification.permission !== "default";
    this.button.textContent = t("notify.ask");
  }

  /** A job went from queued/running to an end state: say so, in the page's language. */
  ended(job) {
    if (!this.supported || Notification.permission !== "granted" || !ENDS[job.status]) return;
    try {
      const note = new Notification(t(ENDS[job.status], { name: job.filename }), { tag: `vsr-${job.id}` });
      note.onclick = () => {
        window.focus();
        note.close();
      };
    } catch {
      // Some browsers allow notifications only from a service worker: the title still tells.
    }
  }
}
