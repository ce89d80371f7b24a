// Before/after on video: the original and the result play together on one timeline under a split line;
// a frame can be chosen on that timeline, and 1:1 shows the result's own pixels, panned by drag or keys.

import { t } from "./i18n.js";

// Beyond this gap the "before" video is put back on the result's clock (a seek costs a frame or two).
const DRIFT_S = 0.05;
const PAN_STEP = 40;
// A frame rate to step by when the job does not name one.
const DEFAULT_FPS = 25;

/** "1:02.34" (minutes, seconds and hundredths): the moment shown, to the frame. */
export function timecode(seconds) {
  const whole = Math.max(0, seconds || 0);
  const minutes = Math.floor(whole / 60);
  const rest = whole - minutes * 60;
  return `${minutes}:${rest.toFixed(2).padStart(5, "0")}`;
}

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
  const back = q(".vcompare-back");
  const next = q(".vcompare-next");
  const time = q(".vcompare-time");
  const sound = q(".vcompare-sound");
  let fps = DEFAULT_FPS;

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
    const total = Math.max(1, Math.round((after.duration || 0) * fps));
    const frameNo = Math.min(total, Math.floor(after.currentTime * fps + 0.001) + 1);
    const at = t("vcompare.time", { time: timecode(after.currentTime), length: timecode(after.duration), n: frameNo, total });
    time.textContent = at;
    seek.setAttribute("aria-valuetext", at);
    sound.textContent = t("vcompare.sound");
    sound.setAttribute("aria-pressed", String(!after.muted));
    back.setAttribute("aria-label", t("vcompare.back"));
    next.setAttribute("aria-label", t("vcompare.next"));
    back.title = t("vcompare.back");
    next.title = t("vcompare.next");
  };

  /** Show the frame `frames` away from this one (both videos paused there). */
  const step = (frames) => {
    after.pause();
    before.pause();
    const last = Math.max(0, (after.duration || 0) - 1 / fps);
    // The middle of the target frame, so rounding never lands on its neighbour.
    const index = Math.floor(after.currentTime * fps + 0.001) + frames;
    const at = Math.min(last, Math.max(0, index / fps)) + 0.5 / fps;
    after.currentTime = Math.min(at, after.duration || at);
    before.currentTime = after.currentTime;
  };
  // The result's sound (the original stays muted): the viewer is the player too.
  sound.addEventListener("click", () => {
    after.muted = !after.muted;
    render();
  });
  back.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  after.addEventListener("seeked", () => {
    follow();
    render();
  });
  after.addEventListener("timeupdate", render);

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
    if (after.videoWidth) {
      frame.style.setProperty("--ratio", `${after.videoWidth} / ${after.videoHeight}`);
      // The frame's width follows from the height it may take (site/styles.css: capped to the screen).
      frame.style.setProperty("--ar", String(after.videoWidth / after.videoHeight));
    }
    render();
  });

  return {
    /**
     * Sources: the kept original (or its playable proxy, for originals such as MPEG-2 or ProRes) and the
     * result. Hidden when the browser still cannot play the «before» side.
     */
    load(job, onFail = () => {}) {
      figure.hidden = false;
      const frames = job.output?.frames || job.frames_total;
      const seconds = job.output?.seconds || job.input?.duration_s;
      fps = job.input?.fps || (frames && seconds ? frames / seconds : DEFAULT_FPS);
      before.onerror = () => {
        figure.hidden = true;
        onFail();
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
      time.setAttribute("aria-label", t("vcompare.time.label"));
      before.setAttribute("aria-label", t("vcompare.before"));
      after.setAttribute("aria-label", t("vcompare.after"));
      split.setAttribute("aria-label", t("compare.slider"));
      frame.setAttribute("aria-label", t("vcompare.frame"));
      render();
    },
  };
}
