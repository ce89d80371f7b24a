// The form's choices remembered across visits (localStorage), with upscaling on by default.

const STORE_KEY = "vsr.choices";

/** What a first visit starts with: upscaling on (a picked file can be sent at once), description off. */
export const DEFAULTS = Object.freeze({
  enhance: true,
  describe: false,
  model: null, // the config's default_model
  size: "scale:2",
  describeLang: null, // the page language when the server offers it
});

/** The remembered choices over the defaults (the defaults alone when storage is off or holds junk). */
export function loadChoices() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}");
    if (!saved || typeof saved !== "object") return { ...DEFAULTS };
    const choices = { ...DEFAULTS };
    for (const [key, value] of Object.entries(DEFAULTS)) {
      const kept = saved[key];
      if (kept === undefined) continue;
      if (typeof value === "boolean" ? typeof kept === "boolean" : typeof kept === "string") choices[key] = kept;
    }
    return choices;
  } catch {
    return { ...DEFAULTS };
  }
}

/** Remember `choices` (silently not when storage is off: the page works the same, only forgets). */
export function saveChoices(choices) {
  try {
    const kept = Object.fromEntries(Object.keys(DEFAULTS).map((key) => [key, choices[key]]));
    window.localStorage.setItem(STORE_KEY, JSON.stringify(kept));
  } catch {
    // Private mode or a full storage: nothing to do.
  }
}
