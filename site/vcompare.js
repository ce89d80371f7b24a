// Before/after on video: the original and the result play together on one timeline under a split line;
// a frame can be chosen on that timeline, and 1:1 shows the result's own pixels, panned by drag or keys.

import { t } from "./i18n.js";

// Beyond this gap the "before" video is put back on the result's clock (a seek costs a frame or two).
const DRIFT_S = 0.05;
const PAN_STEP = 40;

/** Wire the video comparison inside `figure` (once); `load(job)` sets its sources. */
export function setupVideoCompare(figure) {
  const q = (selector) => figure.querySelector(selector);
  const frame = q(".vcompare-frame");
  const stage = q(".vcompare-stage");
  const before = q(".vcompare-before");
  const after = q(".vcompare-after");
  const split = q(".vcompare-range");
  const seek = q(".vcompare-seek");
  const play = q(".vcompare-play");
  const zoom = q(".vcompare-zoom");

  const follow = () => {
    if (Math.abs(before.currentTime - after.currentTime) > DRIFT_S) before.currentTime = after.currentTime;
    if (after.duration) seek.value = String(Math.round((after.currentTime / after.duration) * 1000));
  };
  // The result leads; every frame it shows, the original is checked against it.
  const tick = () => {
    follow();
    if (!after.paused) after.requestVideoFrameCallback?.(tick) ?? window.requestAnimationFrame(tick);
  };
  const render = () => {
    frame.style.setProperty("--pos", `${split.value}%`);
    split.setAttribute("aria-valuetext", t("compare.value", { before: split.value, after: 100 - Number(split.value) }));
    play.textContent = t(after.paused ? "vcompare.play" : "vcompare.pause");
    const zoomed = frame.classList.contains("vcompare-zoomed");
    zoom.textContent = t(zoomed ? "vcompare.fit" : "vcompare.zoom");
    zoom.setAttribute("aria-pressed", String(zoomed));
    seek.setAttribute("aria-valuetext", `${after.currentTime.toFixed(2)} / ${(after.duration || 0).toFixed(2)}`);
  };

  split.addEventListener("input", render);
  play.addEventListener("click", async () => {
    if (after.paused) {
      before.currentTime = after.currentTime;
      await Promise.all([after.play(), before.play()]).catch(() => {});
      tick();
    } else {
      after.pause();
      before.pause();
      follow();
    }
    render();
  });
  after.addEventListener("pause", () => before.pause());
  after.addEventListener("ended", render);
  seek.addEventListener("input", () => {
    if (!after.duration) return;
    const at = (Number(seek.value) / 1000) * after.duration;
    after.currentTime = at;
    before.currentTime = at;
    render();
  });
  zoom.addEventListener("click", () => {
    frame.classList.toggle("vcompare-zoomed");
    stage.style.setProperty("--w", `${after.videoWidth}px`);
    stage.style.setProperty("--h", `${after.videoHeight}px`);
    frame.tabIndex = frame.classList.contains("vcompare-zoomed") ? 0 : -1;
    render();
  });
  // Pan at 1:1: drag with the pointer, or arrow keys when the frame has focus.
  let drag = null;
  frame.addEventListener("pointerdown", (event) => {
    if (!frame.classList.contains("vcompare-zoomed")) return;
    drag = { x: event.clientX, y: event.clientY, left: frame.scrollLeft, top: frame.scrollTop };
    frame.setPointerCapture(event.pointerId);
  });
  frame.addEventListener("pointermove", (event) => {
    if (!drag) return;
    frame.scrollLeft = drag.left - (event.clientX - drag.x);
    frame.scrollTop = drag.top - (event.clientY - drag.y);
  });
  frame.addEventListener("pointerup", () => {
    drag = null;
  });
  frame.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[event.key];
    if (!move || event.target !== frame) return;
    event.preventDefault();
    frame.scrollBy(move[0] * PAN_STEP, move[1] * PAN_STEP);
  });
  after.addEventListener("loadedmetadata", () => {
    if (after.videoWidth) frame.style.setProperty("--ratio", `${after.videoWidth} / ${after.videoHeight}`);
    render();
  });

  return {
    /**
     * Sources: the kept original (or its playable proxy, for originals such as MPEG-2 or ProRes) and the
     * result. Hidden when the browser still cannot play the «before» side.
     */
    load(job) {
      figure.hidden = false;
      before.onerror = () => {
        figure.hidden = true;
      };
      const original = job.source_proxy_url || job.source_url;
      if (before.getAttribute("src") !== original) before.src = original;
      if (after.getAttribute("src") !== job.result_url) after.src = job.result_url;
    },
    pause() {
      after.pause();
    },
    translate() {
      q(".vcompare-title").textContent = t("vcompare.title");
      q(".vcompare-tag-before").textContent = t("compare.before");
      q(".vcompare-tag-after").textContent = t("compare.after");
      q(".vcompare-hint").textContent = t("vcompare.hint");
      q(".vcompare-seek-text").textContent = t("vcompare.seek");
      before.setAttribute("aria-label", t("vcompare.before"));
      after.setAttribute("aria-label", t("vcompare.after"));
      split.setAttribute("aria-label", t("compare.slider"));
      frame.setAttribute("aria-label", t("vcompare.frame"));
      render();
    },
  };
}
