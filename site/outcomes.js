// What became of each upload of a submit, in the page's language, with a link to each created job.

import * as fmt from "./format.js";
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

export function renderMessage(form) {
  const box = $("upload-message");
  box.hidden = form.results.length === 0;
  if (!form.results.length) return;
  const failed = form.results.some((r) => r.kind === "error");
  box.className = `message ${failed ? "message-error" : "message-ok"}`;
  const lines = [];
  for (const result of form.results) {
    const params = { ...result.params };
    if (params.max !== undefined) params.max = fmt.bytes(params.max);
    const p = document.createElement("p");
    let text = t(result.key, params);
    if (result.kind === "error" && result.key !== "upload.aborted") text = t("upload.err.named", { name: params.name, text });
    p.textContent = text;
    if (result.jobId) {
      const link = Object.assign(document.createElement("a"), { href: `#job-${result.jobId}`, textContent: t("upload.show") });
      link.setAttribute("aria-label", t("upload.show.label", { name: result.params.name }));
      link.addEventListener("click", (event) => {
        event.preventDefault();
        form.onShow?.(result.jobId);
      });
      p.append(" ", link);
    }
    lines.push(p);
    const detail = result.error?.text;
    if (detail) lines.push(Object.assign(document.createElement("p"), { className: "message-detail", textContent: t("upload.err.detail", { detail }) }));
  }
  box.replaceChildren(...lines);
}


/** The result line of a failed upload: the heading by status (or quota), the server's reason kept aside. */
export function refusal(error, name, config) {
  const status = error.status;
  if (status === -1) return { kind: "error", key: "upload.aborted", params: { name } };
  if (status === 0) return { kind: "error", key: "upload.err.network", params: { name } };
  const known = [413, 415, 422, 429, 507].includes(status);
  // A quota refusal is about this creator's own limit, not the server's: its own heading.
  const quota = typeof error.code === "string" && error.code.startsWith("quota.");
  return {
    kind: "error",
    key: quota ? "upload.err.quota" : known ? `upload.err.${status}` : "upload.err.other",
    params: { name, status, max: config?.max_upload_bytes ?? 0 },
    error, // its reason is rendered in the page's language at each render
  };
}
