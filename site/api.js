// The backend's HTTP API (docs/architecture.md): config, jobs, cancel/delete and the upload.

/** An HTTP failure with the server's one-line reason. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail || "";
  }
}

async function detailOf(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch {
    return "";
  }
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  return response.json();
}

/** GET /api/config. */
export function config() {
  return getJson("/api/config");
}

/** GET /api/jobs, newest first. */
export function jobs() {
  return getJson("/api/jobs");
}

/** DELETE /api/jobs/{id}: cancels an active job (200 + job) or deletes a finished one (204 → null). */
export async function removeJob(id) {
  const response = await fetch(`/api/jobs/${encodeURIComponent(id)}`, { method: "DELETE" });
  if (response.status === 204) return null;
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  return response.json();
}

function parseDetail(text) {
  try {
    const body = JSON.parse(text);
    return typeof body.detail === "string" ? body.detail : "";
  } catch {
    return "";
  }
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
          reject(new ApiError(xhr.status, "unreadable answer"));
        }
      } else {
        reject(new ApiError(xhr.status, parseDetail(xhr.responseText)));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "")));
    xhr.addEventListener("abort", () => reject(new ApiError(-1, "")));
  });
  xhr.open("POST", "/api/jobs");
  xhr.setRequestHeader("Accept", "application/json");
  xhr.send(form);
  return { promise, abort: () => xhr.abort() };
}
