// The files of a drop: several files, or every file inside dropped folders (one level of API per browser).

/** Every entry of a directory reader (readEntries answers in batches until an empty one). */
function readAll(reader) {
  return new Promise((resolve) => {
    const entries = [];
    const next = () =>
      reader.readEntries(
        (batch) => {
          if (!batch.length) return resolve(entries);
          entries.push(...batch);
          next();
        },
        () => resolve(entries),
      );
    next();
  });
}

/** The files under a FileSystemEntry, depth first, in name order. */
async function filesOf(entry) {
  if (entry.isFile) return new Promise((resolve) => entry.file((file) => resolve([file]), () => resolve([])));
  if (!entry.isDirectory) return [];
  const children = (await readAll(entry.createReader())).sort((a, b) => a.name.localeCompare(b.name));
  const nested = await Promise.all(children.map(filesOf));
  return nested.flat();
}

/** The dropped files (folders opened), or the plain file list when the browser gives no entries. */
export async function droppedFiles(transfer) {
  if (!transfer) return [];
  const entries = [...(transfer.items || [])]
    .filter((it) => it.kind === "file")
    .map((it) => it.webkitGetAsEntry?.())
    .filter(Boolean);
  if (!entries.length || entries.every((entry) => entry.isFile)) return [...(transfer.files || [])];
  return (await Promise.all(entries.map(filesOf))).flat();
}
