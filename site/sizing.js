// The output-size rule of contract/sizing.py in the same exact integer arithmetic (no imports, so Node
// can run it too): tests/contract/test_sizing.py proves the page and the services agree.

/** n/d (positive integers) rounded to the nearest whole number, halves up. */
function roundHalfUp(n, d) {
  return Math.floor((2 * n + d) / (2 * d));
}

/** n/d rounded to the nearest even number, halves up, at least 2. */
function even(n, d) {
  return Math.max(2, roundHalfUp(n, 2 * d) * 2);
}

/**
 * Square-pixel size of stored width×height frames shown upright; `sar` is [num, den].
 * Wide pixels widen, tall pixels heighten (as the browser's videoWidth/videoHeight), then 90/270 swaps.
 */
export function displaySize(width, height, sar = [1, 1], rotation = 0) {
  const [num, den] = sar;
  let [w, h] = [width, height];
  if (num > den) w = roundHalfUp(width * num, den);
  else if (num < den) h = roundHalfUp(height * den, num);
  return rotation % 180 === 90 ? [h, w] : [w, h];
}

/**
 * Output size for a choice {scale} or {height}, as [width, height], or {why} when it is refused:
 * "size.too_small" (no upscale) or "size.too_big" (beyond `box` = [maxWidth, maxHeight], either way round).
 */
export function outputSize(width, height, choice, { sar = [1, 1], rotation = 0, box = null } = {}) {
  const [w, h] = displaySize(width, height, sar, rotation);
  let out;
  if (choice.height) {
    if (choice.height <= h) return { why: "size.too_small" };
    out = [even(choice.height * w, h), even(choice.height, 1)];
  } else {
    out = [even(w * choice.scale, 1), even(h * choice.scale, 1)];
  }
  if (box && (Math.max(...out) > Math.max(...box) || Math.min(...out) > Math.min(...box))) {
    return { why: "size.too_big" };
  }
  return { size: out };
}
