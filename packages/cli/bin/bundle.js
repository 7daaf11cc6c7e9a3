#!/usr/bin/env node
// Bundles the CLI for a fast start (the package's postinstall; `npm run bundle -w @strata/cli`
// after editing sources). esbuild splits it by dynamic import: one small entry holding the
// command table, one chunk per command, shared chunks for the libraries, so a command loads
// only its own code, as from the sources, without resolving and reading hundreds of files.
// The launcher (strata.js) runs the bundle only while manifest.json's inputs are all older
// than the build, and the sources otherwise. Plain JS: npm may run it under any Node.
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
// `--if-possible` (at install): a failure is a warning, never a failed `npm ci`.
const ifPossible = process.argv.includes("--if-possible");
const out = resolve(process.argv.slice(2).find((a) => !a.startsWith("--")) ?? join(pkg, "bin", "bundle"));

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  // Installed without dev dependencies: the launcher runs the sources.
  process.stderr.write("strata: esbuild is not installed; the CLI will run from its TypeScript sources\n");
  process.exit(0);
}

const builtAt = Date.now();
const tmp = `${out}.tmp-${process.pid}`;
await rm(tmp, { recursive: true, force: true });
let metafile;
try {
  ({ metafile } = await esbuild.build({
    entryPoints: { main: join(pkg, "src", "main.ts") },
    outdir: tmp,
    absWorkingDir: pkg,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    outExtension: { ".js": ".mjs" },
    // CommonJS dependencies (the AWS SDK's) call require.
    banner: {
      js: 'import { createRequire as __strataRequire } from "node:module"; const require = __strataRequire(import.meta.url);',
    },
    // fauxqs (the local runtime's emulator) reads files beside its own modules.
    external: ["fauxqs", "esbuild"],
    metafile: true,
    logLevel: "silent",
  }));
} catch (e) {
  await rm(tmp, { recursive: true, force: true });
  const first = e.errors?.[0];
  const where = first?.location ? `${first.location.file}:${first.location.line}: ` : "";
  process.stderr.write(
    `strata: could not bundle the CLI (${first ? where + first.text : e.message}); it runs from its TypeScript sources\n`,
  );
  process.exit(ifPossible ? 0 : 1);
}
// The repository's own files (the dependencies change only through npm, which rebuilds):
// the launcher checks their modification times against builtAt.
const inputs = Object.keys(metafile.inputs)
  .filter((f) => !f.split("/").includes("node_modules"))
  .map((f) => relative(out, join(pkg, f)));
await writeFile(join(tmp, "manifest.json"), `${JSON.stringify({ entry: "main.mjs", builtAt, inputs }, null, 1)}\n`);
await writeFile(join(tmp, ".gitignore"), "*\n");
await rm(out, { recursive: true, force: true });
await mkdir(dirname(out), { recursive: true });
await rename(tmp, out);
process.stderr.write(`strata: bundled ${inputs.length} source files into ${out}\n`);
