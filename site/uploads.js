// The list of running uploads under the form: name, bar, bytes and time left, cancel; updated in place.

import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { secondsLeft } from "./sender.js";

function row(onCancel, entry) {
  const li = document.createElement("li");
  li.className = "upload-item";
  li.innerHTML =
    '<p class="upload-name"></p><div class="progress upload-bar" role="progressbar" aria-valuemin="0" ' +
    'aria-valuemax="100" aria-valuenow="0"><div class="progress-fill"></div></div><div class="upload-row">' +
    '<p class="upload-text"></p><button type="button" class="btn btn-link upload-cancel"></button></div>';
  li.querySelector(".upload-cancel").addEventListener("click", () => onCancel(entry.id));
  return li;
}

/** Renders a Sender's entries into `listEl`; `onCancel(id)` when a cancel button is pressed. */
export class UploadsView {
  constructor(listEl, onCancel) {
    this.listEl = listEl;
    this.onCancel = onCancel;
    this.rows = new Map();
  }

  render(entries) {
    const seen = new Set();
    entries.forEach((entry, index) => {
      seen.add(entry.id);
      let li = this.rows.get(entry.id);
      if (!li) {
        li = row(this.onCancel, entry);
        this.rows.set(entry.id, li);
      }
      this.fill(li, entry);
      if (this.listEl.children[index] !== li) this.listEl.insertBefore(li, this.listEl.children[index] || null);
    });
    for (const [id, li] of this.rows) {
      if (seen.has(id)) continue;
      // A cancel button that had focus hands it to the list's next cancel, else the file picker.
      const focused = li.contains(document.activeElement);
      li.remove();
      this.rows.delete(id);
      if (focused) (this.listEl.querySelector(".upload-cancel") || document.getElementById("file")).focus();
    }
  }

  fill(li, entry) {
    const name = entry.file.name;
    li.querySelector(".upload-name").textContent = name;
    li.querySelector(".upload-name").title = name;
    const fraction = entry.total ? entry.sent / entry.total : 0;
    const bar = li.querySelector(".upload-bar");
    bar.style.setProperty("--value", `${Math.round(fraction * 100)}%`);
    bar.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    bar.setAttribute("aria-label", t("upload.bar", { name }));
    bar.classList.toggle("progress-indeterminate", entry.state === "waiting");
    let text = t(entry.held ? "upload.held" : "upload.waiting");
    if (entry.state === "sending") {
      text = t("upload.progress", { sent: fmt.bytes(entry.sent), total: fmt.bytes(entry.total), pct: fmt.percent(fraction) });
      const left = secondsLeft(entry);
      if (left !== null) text += ` · ${t("upload.left", { time: fmt.duration(Math.max(1, left)) })}`;
    }
    li.querySelector(".upload-text").textContent = text;
    const cancel = li.querySelector(".upload-cancel");
    cancel.textContent = t("upload.cancel");
    cancel.setAttribute("aria-label", t("upload.cancel.label", { name }));
  }
}
