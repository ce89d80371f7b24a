// Before/after comparison: two stills stacked, a range input moves the clip-path of the "after" one.

import { t } from "./i18n.js";

function show(frame, range) {
  const value = Number(range.value);
  frame.style.setProperty("--pos", `${value}%`);
  range.setAttribute("aria-valuetext", t("compare.value", { before: value, after: 100 - value }));
}

/** Wire the comparison inside `figure` (once); `load(job)` sets its images. */
export function setupCompare(figure) {
  const frame = figure.querySelector(".compare-frame");
  const range = figure.querySelector(".compare-range");
  range.addEventListener("input", () => show(frame, range));
  show(frame, range);
  return {
    load(job) {
      const before = figure.querySelector(".compare-before");
      const after = figure.querySelector(".compare-after");
      // The stills may be a crop of the frame, so the box takes the shape of the "after" still.
      after.onload = () => {
        if (!after.naturalWidth) return;
        frame.style.aspectRatio = `${after.naturalWidth} / ${after.naturalHeight}`;
        // Capped to the screen's height like the video viewer (site/styles.css --cap).
        frame.style.setProperty("--ar", String(after.naturalWidth / after.naturalHeight));
      };
      if (before.getAttribute("src") !== job.preview_before_url) before.src = job.preview_before_url;
      if (after.getAttribute("src") !== job.preview_after_url) after.src = job.preview_after_url;
    },
    translate() {
      figure.querySelector(".compare-title").textContent = t("compare.title");
      figure.querySelector(".compare-before").alt = t("compare.before.alt");
      figure.querySelector(".compare-after").alt = t("compare.after.alt");
      figure.querySelector(".compare-tag-before").textContent = t("compare.before");
      figure.querySelector(".compare-tag-after").textContent = t("compare.after");
      figure.querySelector(".compare-hint").textContent = t("compare.hint");
      range.setAttribute("aria-label", t("compare.slider"));
      show(frame, range);
    },
  };
}
