#!/usr/bin/env node
// The launcher of `strata` and `stratactl` (the same command; `stratactl` is the name no npm
// package has). Plain JS so any Node can read it: the CLI is TypeScript run by Node's type
// stripping, which needs Node >= 24, pinned by the repository's `node` dev dependency (npm
// scripts and npx put it first on PATH). Process-wide concerns live here, main.ts maps
// argv to an exit code.
import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import module from "node:module";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freshBundle } from "./fresh.js";

const self = realpathSync(fileURLToPath(import.meta.url));
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  // Run from outside the repository (npm link, npm install -g) under an older Node: hand over
  // to the repository's pinned Node when there is one.
  const pinned = pinnedNode(dirname(self));
  if (!pinned) {
    process.stderr.write(
      `strata: needs Node >= 24 (found ${process.version}); run it through npx or npm scripts in the repository\n`,
    );
    process.exit(2);
  }
  const child = spawn(pinned, [self, ...process.argv.slice(2)], { stdio: "inherit" });
  // Ctrl-C reaches the child from the terminal itself; a signal sent to this process alone is passed on.
  process.on("SIGINT", () => {});
  for (const sig of ["SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
} else {
  // A reader that stops early (`strata dump … | head`) is not an error: end quietly, as promtool does.
  process.stdout.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  process.stderr.on("error", () => {}); // nowhere left to report it
  // V8 code and stripped TypeScript cached across runs (in the OS temp dir): about a third of
  // the start-up of a command that loads its engines.
  module.enableCompileCache?.();
  // The bundle bin/bundle.js builds (at install) while it is newer than every source it holds;
  // else the sources. STRATA_CLI_BUNDLE names another bundle directory ("" = the sources).
  const bundle = freshBundle(process.env.STRATA_CLI_BUNDLE ?? join(dirname(self), "bundle"));
  const { main } = await import(bundle ?? "../src/main.ts");
  process.exitCode = await main(process.argv.slice(2));
}

/** node_modules/node/bin/node in this package's directory or an ancestor (the workspace root). */
function pinnedNode(dir) {
  for (let d = dir; ; d = dirname(d)) {
    const p = join(d, "node_modules", "node", "bin", "node");
    if (existsSync(p)) return p;
    if (dirname(d) === d) return undefined;
  }
}
