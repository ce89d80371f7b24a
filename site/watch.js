// The watch page of a share link (/w/<token>, issue 26): the title, the result playing, the before/after
// stills and a download button, in the viewer's language; GET /api/watch/<token> gives the signed links.

import { withParam } from "./api.js";
import { setupCompare } from "./compare.js";
import { lang, t, translate } from "./i18n.js";

const $ = (id) => document.getElementById(id);

function untilText(iso) {
  const options = { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" };
  return t("watch.until", { date: new Intl.DateTimeFormat(lang(), options).format(new Date(iso)) });
}

function show(shared) {
  document.title = t("watch.page.named", { name: shared.filename });
  $("watch-title").textContent = shared.filename;
  $("watch-title").removeAttribute("data-i18n");
  const video = $("watch-video");
  video.setAttribute("aria-label", t("watch.player", { name: shared.filename }));
  video.src = shared.result_url;
  const download = $("watch-download");
  download.href = withParam(shared.result_url, "download", "1");
  download.setAttribute("download", shared.filename);
  download.textContent = t("watch.download");
  download.setAttribute("aria-label", t("watch.download.label", { name: shared.filename }));
  $("watch-until").textContent = untilText(shared.expires_at);
  const figure = $("watch-compare");
  if (shared.preview_before_url && shared.preview_after_url) {
    const compare = setupCompare(figure);
    compare.translate();
    compare.load(shared);
    figure.hidden = false;
  }
  $("watch-body").hidden = false;
}

function refused() {
  $("watch-title").textContent = t("watch.page");
  $("watch-state").textContent = t("watch.invalid");
  $("watch-state").hidden = false;
}

async function start() {
  translate(document);
  const value = window.location.pathname.split("/").filter(Boolean).pop() || "";
  try {
    const response = await fetch(`/api/watch/${encodeURIComponent(value)}`, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    show(await response.json());
  } catch {
    refused();
  }
}

start();
