// Uploads of several files, a few at a time, each with its own progress, time left and cancel.

import { activeLimit, upload } from "./api.js";
import { resumable, resumableUpload } from "./resumable.js";

/** How many files travel at once: enough to keep the line busy, few enough that each one finishes soon. */
export const AT_ONCE = 2;
// The first second's rate is mostly connection set-up: no time left is promised before it.
const RATE_AFTER_MS = 1000;

let nextId = 1;

/** One file's upload: {id, file, fields, sent, total, startedAt, state: waiting|sending, held, abort};
 * `held`: waiting for one of the owner's active jobs to end (the active-job limit), not for the line. */
function item(file, fields, source) {
  return {
    id: nextId++, file, fields, source, sent: 0, baseSent: null, total: file.size, startedAt: 0, state: "waiting", held: false, abort: null,
  };
}

/** The same file picked again: name, size and modification time. */
export function fileKey(file) {
  return `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
}

/** Seconds left for `entry` at its average rate so far, or null while that rate is not known yet. */
export function secondsLeft(entry, now = performance.now()) {
  const elapsed = now - entry.startedAt;
  const sent = entry.sent - (entry.baseSent ?? 0);
  if (entry.state !== "sending" || elapsed < RATE_AFTER_MS || sent <= 0) return null;
  const rate = sent / (elapsed / 1000);
  return Math.max(0, (entry.total - entry.sent) / rate);
}

/**
 * The upload queue: `add(file, fields)` enqueues; `onChange()` after any progress, `onDone(entry, job)` and
 * `onFail(entry, error)` when one ends (an api.ApiError; status -1 when the creator cancelled it).
 * `freeSlots()` says how many more jobs the owner may start now (Infinity: no limit): files past it wait
 * here, `held`, and go by themselves when `pump()` finds a slot (the page calls it after each poll).
 */
export class Sender {
  constructor({ onChange, onDone, onFail, freeSlots = () => Infinity, onLimit = () => {} }) {
    Object.assign(this, { onChange, onDone, onFail, freeSlots, onLimit });
    this.entries = [];
    this.uploadUrl = null; // the config's tus endpoint; multipart without one
  }

  /** Files waiting for a free slot under the active-job limit. */
  get held() {
    return this.entries.filter((e) => e.state === "waiting" && e.held).length;
  }

  /** Whether `file` (the same name, size and date) is already waiting or on its way. */
  has(file) {
    const key = fileKey(file);
    return this.entries.some((e) => fileKey(e.file) === key);
  }

  /** Whether uploads go resumably (tus), which quick test runs need. */
  get resumable() {
    return resumable(this.uploadUrl);
  }

  get busy() {
    return this.entries.length > 0;
  }

  /** Queue `file` with its form `fields`; `source` is handed back with the entry (the form's own record). */
  add(file, fields, source = null) {
    this.entries.push(item(file, fields, source));
    this.pump();
  }

  /** Cancel one upload (sending: aborted; waiting: dropped). */
  cancel(id) {
    const entry = this.entries.find((e) => e.id === id);
    if (!entry) return;
    if (entry.abort) {
      entry.abort();
      return;
    }
    this.entries = this.entries.filter((e) => e !== entry);
    this.onFail(entry, { status: -1 });
    this.onChange();
  }

  /** Start waiting files, in order, while the line has room and the owner a free slot (each file sending
   * takes one: it becomes an active job); the rest wait, marked `held` when a slot is what they lack. */
  pump() {
    const sending = () => this.entries.filter((e) => e.state === "sending").length;
    let slots = this.freeSlots() - sending();
    for (const entry of this.entries) {
      if (entry.state !== "waiting") continue;
      entry.held = slots <= 0;
      if (entry.held || sending() >= AT_ONCE) continue;
      slots -= 1;
      this.start(entry);
    }
    this.onChange();
  }

  async start(entry) {
    entry.state = "sending";
    entry.startedAt = performance.now();
    const progress = (sent, total) => {
      // A resumed upload starts at the server's offset: time left counts only what this visit sends.
      if (entry.baseSent === null) Object.assign(entry, { baseSent: sent, startedAt: performance.now() });
      entry.sent = sent;
      entry.total = total;
      this.onChange();
    };
    const request = resumable(this.uploadUrl)
      ? resumableUpload(this.uploadUrl, entry.file, entry.fields, progress)
      : upload(entry.file, entry.fields, progress);
    entry.abort = request.abort;
    try {
      const job = await request.promise;
      this.finish(entry);
      this.onDone(entry, job);
    } catch (error) {
      if (activeLimit(error)) {
        // The server counted more active jobs than the page knew of (another tab, the API): the file waits
        // for a slot like the others (a resumable one keeps its bytes there and is finished then).
        Object.assign(entry, { state: "waiting", held: true, abort: null, sent: 0, baseSent: null });
        this.onLimit(error);
      } else {
        this.finish(entry);
        this.onFail(entry, error);
      }
    }
    this.pump();
  }

  finish(entry) {
    this.entries = this.entries.filter((e) => e !== entry);
  }
}
