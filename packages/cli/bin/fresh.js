// Which code the launcher runs: the bundle bin/bundle.js built, while it is newer than every
// source file it holds (its manifest lists them), else the TypeScript sources. Plain JS, tiny:
// it runs before anything else on every start.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The URL of the entry of the bundle in `dir`, if it was built after its sources' last change. */
export function freshBundle(dir) {
  if (!dir) return undefined;
  try {
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    for (const f of m.inputs) if (statSync(join(dir, f)).mtimeMs > m.builtAt) return undefined;
    return pathToFileURL(join(dir, m.entry)).href;
  } catch {
    return undefined; // no bundle, or a source gone
  }
}
