// Uploads of several files, a few at a time, each with its own progress, time left and cancel.

import { upload } from "./api.js";
import { resumable, resumableUpload } from "./resumable.js";

/** How many files travel at once: enough to keep the line busy, few enough that each one finishes soon. */
export const AT_ONCE = 2;
// The first second's rate is mostly connection set-up: no time left is promised before it.
const RATE_AFTER_MS = 1000;

let nextId = 1;

/** One file's upload: {id, file, fields, sent, total, startedAt, state: waiting|sending, abort}. */
function item(file, fields, source) {
  return {
    id: nextId++, file, fields, source, sent: 0, baseSent: null, total: file.size, startedAt: 0, state: "waiting", abort: null,
  };
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
 */
export class Sender {
  constructor({ onChange, onDone, onFail }) {
    Object.assign(this, { onChange, onDone, onFail });
    this.entries = [];
    this.uploadUrl = null; // the config's tus endpoint; multipart without one
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

  pump() {
    for (const entry of this.entries) {
      if (this.entries.filter((e) => e.state === "sending").length >= AT_ONCE) break;
      if (entry.state === "waiting") this.start(entry);
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
      this.finish(entry);
      this.onFail(entry, error);
    }
    this.pump();
  }

  finish(entry) {
    this.entries = this.entries.filter((e) => e !== entry);
  }
}
