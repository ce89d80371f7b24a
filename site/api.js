// The backend's HTTP API (docs/api.md): config, messages, jobs, cancel/delete and the upload.

import { reasonText } from "./i18n.js";

/** An HTTP failure with the server's reason: its catalogue `code` and `params`, and its English `detail`. */
export class ApiError extends Error {
  constructor(status, problem = {}) {
    const detail = typeof problem.detail === "string" ? problem.detail : "";
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.code = typeof problem.code === "string" ? problem.code : null;
    this.params = problem.params && typeof problem.params === "object" ? problem.params : {};
  }

  /** The reason in the page's language now (the English detail when the code is unknown). */
  get text() {
    return reasonText(this.code, this.params, this.detail);
  }
}

/** Whether `error` is the server's active-job limit (the file waits for a slot rather than failing). */
export function activeLimit(error) {
  return error?.status === 429 && (error.code === "quota.active_jobs" || error.code === "quota.upload_kept");
}

/** The error body {detail, code, params} of a failed reply ({} when it is not JSON). */
function problemOf(text) {
  try {
    const body = JSON.parse(text);
    return body && typeof body === "object" ? body : {};
  } catch {
    return {};
  }
}

async function failure(response) {
  return new ApiError(response.status, problemOf(await response.text().catch(() => "")));
}

// Integrated mode: the platform's JWT, handed over by the embedding studio (app.js); sent as a Bearer header.
let token = null;

/** Use `value` as the Bearer token of every API call from now on (null: back to the owner cookie). */
export function setToken(value) {
  token = typeof value === "string" && value ? value : null;
}

/** Whether a token was handed over. */
export function hasToken() {
  return token !== null;
}

/** The Authorization header of API calls made outside this module (the resumable upload), or none. */
export function authHeaders(extra = {}) {
  return headers(extra);
}

function headers(extra = {}) {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** `url` with `name=value` added to its query (media URLs may already carry a signature). */
export function withParam(url, name, value) {
  return `${url}${url.includes("?") ? "&" : "?"}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}

async function getJson(url) {
  const response = await fetch(url, { headers: headers({ Accept: "application/json" }), cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** GET /api/config. */
export function config() {
  return getJson("/api/config");
}

/** GET /api/messages: the server's sentences by code, {code: {en, ru}}. */
export function messages() {
  return getJson("/api/messages");
}

/** GET /api/usage: the caller's stored bytes and active jobs against the quotas (0: no limit). */
export function usage() {
  return getJson("/api/usage");
}

/** GET /api/jobs/{id}. */
export function job(id) {
  return getJson(`/api/jobs/${encodeURIComponent(id)}`);
}

/** GET /api/jobs, newest first. */
export function jobs() {
  return getJson("/api/jobs");
}

/** DELETE /api/jobs/{id}: cancels an active job (200 + job) or deletes a finished one (204 → null). */
export async function removeJob(id) {
  const response = await fetch(`/api/jobs/${encodeURIComponent(id)}`, { method: "DELETE", headers: headers() });
  if (response.status === 204) return null;
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** POST /api/jobs/{id}/share: signed links to a finished result that work without credentials until expires_at. */
export async function share(id) {
  const response = await fetch(`/api/jobs/${encodeURIComponent(id)}/share`, {
    method: "POST",
    headers: headers({ Accept: "application/json" }),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** POST /api/jobs/{id}/rerun: the job's kept original again with `options` (a new queued job). */
export async function rerun(id, options) {
  const response = await fetch(`/api/jobs/${encodeURIComponent(id)}/rerun`, {
    method: "POST",
    headers: headers({ Accept: "application/json", "Content-Type": "application/json" }),
    body: JSON.stringify(options),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/**
 * POST /api/jobs as multipart with XMLHttpRequest, because fetch reports no upload progress.
 * Returns {promise, abort}; onProgress(sentBytes, totalBytes) is called as bytes leave.
 */
export function upload(file, fields, onProgress) {
  const form = new FormData();
  form.append("file", file, file.name);
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) form.append(name, String(value));
  }
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.upload.addEventListener("progress", (event) => {
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201 || xhr.status === 200) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError(xhr.status, { detail: "unreadable answer" }));
        }
      } else {
        reject(new ApiError(xhr.status, problemOf(xhr.responseText)));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0)));
    xhr.addEventListener("abort", () => reject(new ApiError(-1)));
  });
  xhr.open("POST", "/api/jobs");
  for (const [name, value] of Object.entries(headers({ Accept: "application/json" }))) {
    xhr.setRequestHeader(name, value);
  }
  xhr.send(form);
  return { promise, abort: () => xhr.abort() };
}
