// Client-side checks of a chosen file and of the output sizes it allows (the server checks again).

import * as fmt from "./format.js";
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

/**
 * Whether a size choice fits a `width`×`height` video (the browser's display size, so square pixels,
 * upright): {ok, why} or {ok, dims}; unknown sizes are allowed. `box` is the config's `max_output`.
 */
export function sizeState(value, width, height, box) {
  if (!height) return { ok: true };
  const out = outputSize(width, height, sizeChoice(value), { box });
  return out.why ? { ok: false, why: out.why } : { ok: true, dims: fmt.dims(...out.size) };
}
