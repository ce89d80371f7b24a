// The form's event wiring: picker, drop zone, remove buttons, remembered switches and choices, submit.

import { saveChoices } from "./choices.js";
import { droppedFiles } from "./drops.js";
import { showUnfinished } from "./picks.js";

const $ = (id) => document.getElementById(id);

/** Wire every control of #upload-form to `form` (an UploadForm). */
export function bindForm(form) {
  $("file").addEventListener("change", (event) => {
    form.add([...event.target.files]);
    event.target.value = "";
  });
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("drop-over");
    });
  }
  drop.addEventListener("dragleave", (event) => {
    if (!drop.contains(event.relatedTarget)) drop.classList.remove("drop-over");
  });
  drop.addEventListener("drop", async (event) => {
    event.preventDefault();
    drop.classList.remove("drop-over");
    form.add(await droppedFiles(event.dataTransfer));
  });
  // A file dropped beside the zone must not navigate away from the page.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());
  $("add-files").addEventListener("click", () => $("file").click());
  $("remove-file").addEventListener("click", () => {
    form.clearFiles();
    $("file").focus();
  });
  $("picked-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-index]");
    if (!button) return;
    form.removeAt(Number(button.dataset.index));
  });
  const remember = () => {
    Object.assign(form.choices, { enhance: $("enhance").checked, describe: $("describe").checked });
    saveChoices(form.choices);
    form.render();
  };
  $("enhance").addEventListener("change", remember);
  $("describe").addEventListener("change", remember);
  for (const [id, key] of [["describe-langs", "describeLang"], ["models", "model"], ["sizes", "size"]]) {
    $(id).addEventListener("change", (event) => {
      form.choices[key] = event.target.value;
      remember();
    });
  }
  $("rerun-cancel").addEventListener("click", () => {
    const id = form.again?.id;
    form.setAgain(null);
    form.onShow?.(id);
  });
  $("quick").addEventListener("click", () => form.send({ quick: true }));
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    form.send();
  });
}
