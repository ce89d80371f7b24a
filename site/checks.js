// Client-side checks of a chosen file and of the output sizes it allows (the server checks again).

import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { outputSize } from "./sizing.js";

/** "scale:2" → {scale: 2}; "height:720" → {height: 720} (the POST fields). */
export function sizeChoice(value) {
  const [kind, number] = value.split(":");
  return kind === "height" ? { height: Number(number) } : { scale: Number(number) };
}

function extensionOf(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

/** Why `file` cannot be sent ({key, params} for the message), or null when it may be. */
export function fileProblem(file, config) {
  if (config && !config.accepted.includes(extensionOf(file.name))) {
    return { key: "err.type", params: { name: file.name, types: fmt.extensions(config.accepted, 99) } };
  }
  if (file.size === 0) return { key: "err.empty", params: { name: file.name } };
  if (config && file.size > config.max_upload_bytes) {
    return { key: "err.size", params: { size: file.size, max: config.max_upload_bytes } };
  }
  return null;
}

/** Why a measured file cannot be sent (over the duration or frame limit of the config), or null. */
export function measuredProblem(name, meta, config) {
  if (!config || !meta) return null;
  if (config.max_duration_s && meta.duration > config.max_duration_s) {
    return { key: "err.duration", params: { name, duration: fmt.clipLength(meta.duration), max: fmt.clipLength(config.max_duration_s) } };
  }
  const { max_width: maxW, max_height: maxH } = config;
  const { width, height } = meta;
  if (maxW && maxH && width && height) {
    const big = Math.max(width, height) > Math.max(maxW, maxH) || Math.min(width, height) > Math.min(maxW, maxH);
    if (big) return { key: "err.resolution", params: { name, dims: fmt.dims(width, height), max: fmt.dims(maxW, maxH) } };
  }
  return null;
}

// Frames watched to read a rate, and how long to try (a file the browser cannot play gives none).
const RATE_FRAMES = 8;
const RATE_TIMEOUT_MS = 1500;

/** A video's frame rate from the media times of a few frames played muted (0 when not readable). */
function frameRate(video) {
  if (!video.requestVideoFrameCallback) return Promise.resolve(0);
  return new Promise((resolve) => {
    const times = [];
    const finish = (fps) => {
      window.clearTimeout(timer);
      video.pause();
      resolve(fps);
    };
    const timer = window.setTimeout(() => finish(0), RATE_TIMEOUT_MS);
    const seen = (now, frame) => {
      times.push(frame.mediaTime);
      if (times.length < RATE_FRAMES) return video.requestVideoFrameCallback(seen);
      // The smallest step is one frame: a busy machine may skip frames, never halve one.
      const steps = times.slice(1).map((time, i) => time - times[i]).filter((step) => step > 0.001);
      return finish(steps.length ? Math.round(100 / Math.min(...steps)) / 100 : 0);
    };
    video.requestVideoFrameCallback(seen);
    video.play().catch(() => finish(0));
  });
}

/** Read a local file's width, height, duration and frame rate through a detached <video>; null when the
 * browser cannot. */
export function readMeta(url) {
  return new Promise((resolve) => {
    const video = document.createElement("video");
    video.muted = true;
    video.preload = "metadata";
    const done = (meta) => {
      video.removeAttribute("src");
      video.load();
      resolve(meta);
    };
    video.onloadedmetadata = async () => {
      const meta = {
        width: video.videoWidth,
        height: video.videoHeight,
        duration: Number.isFinite(video.duration) ? video.duration : 0,
      };
      meta.fps = await frameRate(video);
      done(meta);
    };
    // The browser cannot decode every container the server accepts; the server will judge those.
    video.onerror = () => done(null);
    video.src = url;
  });
}

/**
 * Whether a size choice fits a `width`×`height` video (the browser's display size, so square pixels,
 * upright): {ok, why} or {ok, dims}; unknown sizes are allowed. `box` is the config's `max_output`.
 */
export function sizeState(value, width, height, box) {
  if (!height) return { ok: true };
  const out = outputSize(width, height, sizeChoice(value), { box });
  return out.why ? { ok: false, why: out.why } : { ok: true, dims: fmt.dims(...out.size) };
}

export function sizeParams(params) {
  return { ...params, size: fmt.bytes(params.size), max: fmt.bytes(params.max) };
}

/** The drop zone's limits line: formats, size, length and frame size when the server names them, and the
 * owner's active-job limit (`activeLimit`, 0: none). */
export function limitsText(config, activeLimit = 0) {
  const parts = [t("drop.limits", { types: fmt.extensions(config.accepted), size: fmt.bytes(config.max_upload_bytes) })];
  if (config.max_duration_s) parts.push(t("drop.limits.duration", { time: fmt.duration(config.max_duration_s) }));
  if (config.max_width && config.max_height) parts.push(t("drop.limits.frame", { dims: fmt.dims(config.max_width, config.max_height) }));
  if (activeLimit) parts.push(t("drop.limits.active", { n: activeLimit }));
  return parts.join(" · ");
}
