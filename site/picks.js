// The chosen files on the form: the single file's preview, the list of several, unfinished uploads.

import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { forget, unfinished } from "./resumable.js";

const $ = (id) => document.getElementById(id);

/** Uploads a reload or a lost connection cut short: picking the same file again resumes each. */
export async function showUnfinished(form) {
  const list = $("unfinished");
  const items = form.sender.resumable ? await unfinished() : [];
  const sending = new Set(form.sender.entries.map((e) => e.file.name));
  const left = items.filter((item) => item.name && !sending.has(item.name));
  list.replaceChildren(
    ...left.map((item) => {
      const li = document.createElement("li");
      li.append(t("resume.left", { name: item.name, size: fmt.bytes(item.size) }), " ");
      const drop = Object.assign(document.createElement("button"), { type: "button", className: "btn btn-link", textContent: t("resume.forget") });
      drop.setAttribute("aria-label", t("resume.forget.label", { name: item.name }));
      drop.addEventListener("click", async () => {
        await forget(item.key);
        await showUnfinished(form);
        $("file").focus();
      });
      li.append(drop);
      return li;
    }),
  );
  list.hidden = left.length === 0;
}

/** The preview player shows a single chosen file; a list has none. */
export function showPreview(form) {
  const video = $("picked-video");
  const single = form.files.length === 1 ? form.files[0] : null;
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

/** One file's row: a first-frame thumbnail, the name, its measurements, the result's size, its estimate. */
function pickedRow(chosen) {
  const li = document.createElement("li");
  li.className = "picked-item";
  const thumb = Object.assign(document.createElement("video"), { className: "picked-thumb", muted: true, preload: "metadata", tabIndex: -1 });
  thumb.setAttribute("playsinline", "");
  thumb.setAttribute("aria-hidden", "true");
  thumb.onloadedmetadata = () => {
    thumb.currentTime = Math.min(0.5, (thumb.duration || 0) / 2);
  };
  thumb.onerror = () => {
    thumb.hidden = true;
  };
  thumb.src = chosen.url;
  const body = Object.assign(document.createElement("span"), { className: "picked-item-body" });
  const name = Object.assign(document.createElement("span"), { className: "picked-item-name", textContent: chosen.file.name, title: chosen.file.name });
  const meta = Object.assign(document.createElement("span"), { className: "hint picked-item-meta" });
  body.append(name, meta);
  const remove = Object.assign(document.createElement("button"), { type: "button", className: "btn btn-link" });
  li.append(thumb, body, remove);
  return li;
}

/** Several chosen files: one row each with its own facts (size, frame, length → result, estimate) and
 * remove button; rows are kept between renders (their thumbnails load once). */
export function renderList(form) {
  const list = $("picked-list");
  list.hidden = form.files.length < 2;
  const focused = list.contains(document.activeElement) ? Number(document.activeElement.dataset.index) : -1;
  list.replaceChildren(
    ...(form.files.length < 2 ? [] : form.files).map((chosen, index) => {
      chosen.row ||= pickedRow(chosen);
      const li = chosen.row;
      const parts = [fmt.bytes(chosen.file.size)];
      if (chosen.meta?.width) {
        parts.push(fmt.dims(chosen.meta.width, chosen.meta.height), fmt.clipLength(chosen.meta.duration));
        const out = form.outputOf(chosen.meta);
        if (out) parts.push(out);
        const time = form.estimateOf(chosen.meta);
        if (time) parts.push(time);
      } else if (!chosen.measured) {
        parts.push(t("file.measuring"));
      }
      li.querySelector(".picked-item-meta").textContent = parts.join(" · ");
      const remove = li.querySelector("button");
      remove.textContent = t("file.remove.one");
      remove.dataset.index = String(index);
      remove.setAttribute("aria-label", t("file.remove.one.label", { name: chosen.file.name }));
      return li;
    }),
  );
  if (focused >= 0) {
    // The removed row's button hands focus to the row now in its place (or the one before).
    const buttons = list.querySelectorAll("button");
    (buttons[Math.min(focused, buttons.length - 1)] || $("add-files")).focus();
  }
}
