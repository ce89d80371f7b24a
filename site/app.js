// Page entry: language, config, the upload form and the polled jobs list.

import * as api from "./api.js";
import { lang, setLang, setMessages, t, translate } from "./i18n.js";
import { JobsView } from "./jobs.js";
import { Notifier, titleFor } from "./notify.js";
import { initStrength } from "./strength.js";
import { UploadForm } from "./upload.js";
import { UsageView } from "./usage.js";

const POLL_ACTIVE_MS = 1000;
const POLL_RETRY_MS = 3000;
const CONFIG_RETRY_MS = 3000;
const MESSAGES_RETRY_MS = 5000;

const announcer = document.getElementById("announcer");

/** Say `text` through the polite live region (cleared first so a repeat is read again). */
function announce(text) {
  if (!text) return;
  announcer.textContent = "";
  window.setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

const notifier = new Notifier(document.getElementById("notify"));

const jobsView = new JobsView({
  onEnded: (job) => notifier.ended(job),
  listEl: document.getElementById("jobs"),
  stateEl: document.getElementById("jobs-state"),
  countEl: document.getElementById("jobs-count"),
  template: document.getElementById("job-template"),
  announce,
  onChange: () => schedule(0),
  // A finished job updates the measured speeds behind the time estimate.
  onFinished: () => loadConfig(),
  onRerun: (job) => form.setAgain(job),
});

const form = new UploadForm({
  announce,
  onUploaded: (job, first) => {
    jobsView.upsert(job);
    // The first job of a submit is shown and focused; the rest of the batch must not pull focus around.
    if (first) jobsView.reveal(job.id);
    schedule(0);
  },
  onShow: (id) => jobsView.reveal(id),
});

let timer = null;
// The models of the last config, for the strength control's per-model descriptions (site/strength.js).
let strengthModels = [];
initStrength(() => strengthModels);

// Storage use (GET /api/usage): asked again when the jobs change, else at most every USAGE_EVERY_MS.
const usageView = new UsageView(document.getElementById("jobs-usage"));
const USAGE_EVERY_MS = 30_000;
let usageKey = "";
let usageAt = 0;

async function refreshUsage(jobs) {
  const key = jobs.map((job) => `${job.id}:${job.status}`).join(",");
  if (key === usageKey && Date.now() - usageAt < USAGE_EVERY_MS) return;
  usageKey = key;
  usageAt = Date.now();
  try {
    const usage = await api.usage();
    usageView.show(usage);
    form.setUsage(usage);
  } catch {
    usageKey = ""; // try again at the next poll
  }
}

/** Poll /api/jobs after `delay` ms; keeps polling every second while a job is queued or running. */
function schedule(delay) {
  window.clearTimeout(timer);
  timer = window.setTimeout(poll, delay);
}

// Integrated mode (config.auth.mode): the list waits for the studio's token instead of calling without one.
let integrated = false;
let started = false;

async function poll() {
  if (integrated && !api.hasToken()) {
    jobsView.setWaiting(true);
    return;
  }
  try {
    const jobs = await api.jobs();
    jobsView.show(jobs);
    form.setJobs(jobs);
    document.title = titleFor(jobs, t("page.title"));
    refreshUsage(jobs);
    // Files waiting for a slot need to see it free: the list is asked again while any wait.
    if (jobsView.anyActive()) schedule(POLL_ACTIVE_MS);
    else if (form.sender.held) schedule(POLL_RETRY_MS);
  } catch (error) {
    if (error.status === 401) {
      // The token expired (or none came yet): ask the studio for a fresh one; onMessage polls again.
      api.setToken(null);
      jobsView.setWaiting(true);
      askForToken();
      return;
    }
    jobsView.setOffline(true);
    schedule(POLL_RETRY_MS);
  }
}

// Origins allowed to hand the page a token (config.auth.embed_origins); none until the config arrives.
let embedOrigins = [];

/** The embedding studio posts {type: "vsr-token", token}: API calls then carry it as a Bearer header. */
function onMessage(event) {
  if (!embedOrigins.includes(event.origin)) return;
  const data = event.data;
  if (!data || data.type !== "vsr-token" || typeof data.token !== "string") return;
  api.setToken(data.token);
  jobsView.setWaiting(false);
  schedule(0);
}

window.addEventListener("message", onMessage);

/** Tell the embedding studio the page can take a token now (the message carries nothing secret). */
function askForToken() {
  if (window.parent === window) return;
  for (const origin of embedOrigins) window.parent.postMessage({ type: "vsr-ready" }, origin);
}

function announceReady(auth) {
  embedOrigins = auth?.embed_origins || [];
  askForToken();
}

async function loadConfig() {
  try {
    const config = await api.config();
    integrated = config.auth?.mode === "integrated";
    if (!embedOrigins.length) announceReady(config.auth);
    if (!started) {
      started = true;
      schedule(0);
    }
    jobsView.models = config.models;
    form.setConfig(config);
    strengthModels = config.models;
    jobsView.translate();
  } catch {
    jobsView.setOffline(true);
    window.setTimeout(loadConfig, CONFIG_RETRY_MS);
  }
}

/** The server's sentences by code; until they arrive, reasons show in the server's English. */
async function loadMessages() {
  try {
    setMessages(await api.messages());
    form.translate();
    jobsView.translate();
  } catch {
    window.setTimeout(loadMessages, MESSAGES_RETRY_MS);
  }
}

function applyLanguage() {
  translate(document);
  document.getElementById("lang-switch").lang = lang() === "ru" ? "en" : "ru";
  form.translate();
  jobsView.translate();
  usageView.render();
  notifier.render();
  document.title = titleFor(jobsView.jobs, t("page.title"));
}

document.getElementById("lang-switch").addEventListener("click", () => {
  setLang(lang() === "ru" ? "en" : "ru");
  applyLanguage();
  announce(t("page.title"));
});

// Leaving during an upload loses it (a resumable one can be resumed by picking the file again): ask first.
window.addEventListener("beforeunload", (event) => {
  if (!form.sender.busy) return;
  event.preventDefault();
  event.returnValue = "";
});

// A finished job elsewhere (another tab, the API) shows up when the user comes back.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") schedule(0);
});

applyLanguage();
loadMessages();
loadConfig(); // then the first poll, once the identity mode is known
