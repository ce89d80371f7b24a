// Resumable uploads with tus-js-client (site/vendor/tus.min.js, a classic script: window.tus), same shape as
// api.upload: {promise, abort}. A reload or a dropped connection resumes from the server's offset.

import { ApiError, activeLimit, authHeaders, job } from "./api.js";

// Retries after a dropped connection or a restarting backend: about half a minute in all.
const RETRY_DELAYS_MS = [0, 1000, 2000, 4000, 8000, 15000];
// Parts of this size are PATCHed one after another, so a proxy never holds a whole video in a request.
const CHUNK_BYTES = 8 * 1024 * 1024;

/** Whether this page can upload resumably to `url` (tus loaded, the server names its endpoint). */
export function resumable(url) {
  return Boolean(url && window.tus?.isSupported);
}

function failure(error) {
  const response = error?.originalResponse;
  if (!response) return new ApiError(0);
  let problem = {};
  try {
    problem = JSON.parse(response.getBody() || "{}");
  } catch {
    // not JSON (a proxy's page): the status alone says it
  }
  return new ApiError(response.getStatus(), problem);
}

/**
 * Upload `file` with the job `fields` as tus metadata; resolves to the created job. An upload of the same
 * file (name, type, size, date) begun before a reload is found in localStorage and resumed.
 */
export function resumableUpload(url, file, fields, onProgress) {
  let upload = null;
  let jobId = null;
  let aborted = false;
  let rejectNow = null;
  const promise = new Promise((resolve, reject) => {
    rejectNow = reject;
    const metadata = { filename: file.name, filetype: file.type || "application/octet-stream" };
    for (const [name, value] of Object.entries(fields)) {
      if (value !== undefined && value !== null) metadata[name] = String(value);
    }
    upload = new window.tus.Upload(file, {
      endpoint: url,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS_MS,
      metadata,
      headers: authHeaders(),
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => onProgress(sent, total),
      onAfterResponse: (request, response) => {
        jobId = response.getHeader("Upload-Job") || jobId;
      },
      onError: (error) => {
        const refused = failure(error);
        // A refused file (not a video, over a limit) would be refused again: it is dropped here and on the
        // server, never offered for resume. A lost connection, a server error or the active-job limit (whose
        // upload the server keeps to finish later) stay resumable.
        // 409 (another offset) and 423 (another writer holds it) are not about the file: it stays too.
        const aboutTheFile = refused.status >= 400 && refused.status < 500 && ![409, 423].includes(refused.status);
        if (aboutTheFile && !activeLimit(refused)) dropRefused(upload);
        reject(refused);
      },
      onSuccess: () => {
        if (jobId) return job(jobId).then(resolve, reject);
        // Every byte was already there (a quota refused the last one and kept the upload): an empty PATCH
        // at the full length finishes it now that there may be room (docs/api.md, tus).
        finish(upload.url, file.size).then((made) => job(made).then(resolve, reject), reject);
      },
    });
    upload.findPreviousUploads().then((previous) => {
      if (aborted) return;
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  });
  const abort = () => {
    aborted = true;
    // true: also terminate the upload on the server (DELETE), so its bytes go at once.
    upload?.abort(true).catch(() => {});
    rejectNow(new ApiError(-1));
  };
  return { promise, abort };
}

/** Forget a refused upload in this browser's list of unfinished ones (by the file's fingerprint:
 * tus-js-client's public findPreviousUploads). The server already removed its bytes when it refused them
 * (backend/api/routes/uploads.py), so no DELETE is sent (it would only answer 404). */
async function dropRefused(upload) {
  await upload.abort(false).catch(() => {});
  const previous = await upload.findPreviousUploads().catch(() => []);
  await Promise.all(previous.map((entry) => forget(entry.urlStorageKey)));
}

/** The empty PATCH that finishes a complete upload a quota had kept; resolves to its job's id. */
async function finish(url, size) {
  const response = await fetch(url, {
    method: "PATCH",
    headers: authHeaders({
      "Tus-Resumable": "1.0.0",
      "Upload-Offset": String(size),
      "Content-Type": "application/offset+octet-stream",
    }),
  });
  const made = response.headers.get("Upload-Job");
  if (response.ok && made) return made;
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    // not JSON: the status alone says it
  }
  throw new ApiError(response.status, problem);
}

/** Uploads begun here and not finished (kept by tus in localStorage): [{name, size, key}]. */
export async function unfinished() {
  const storage = window.tus?.defaultOptions?.urlStorage;
  if (!storage?.findAllUploads) return [];
  const found = await storage.findAllUploads().catch(() => []);
  return found.map((entry) => ({ name: entry.metadata?.filename || "", size: entry.size || 0, key: entry.urlStorageKey }));
}

/** Forget an unfinished upload (the server's copy expires through the janitor). */
export async function forget(key) {
  await window.tus?.defaultOptions?.urlStorage?.removeUpload(key).catch(() => {});
}
