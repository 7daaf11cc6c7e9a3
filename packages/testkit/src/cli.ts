// Runs the strata CLI the way a user would (`node packages/cli/bin/strata.js`),
// with the same Node binary vitest runs under (Node 24 from the `node` npm
// package when started through npm scripts / npx), from the repository root.
// The CLI is a process to spawn, not a module to import: testkit does not depend on @strata/cli.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess, type ProcessResult } from "./process.ts";

/**
 * Absolute path of the repository root (this file is packages/testkit/src/cli.ts; a bundle would move import.meta.url,
 * so bundled benches pass STRATA_CLI).
 */
export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/**
 * The CLI entry point; STRATA_CLI may point elsewhere (e.g. a stand-in used to check the harness itself, or the bundle
 * `npm run bench` builds).
 */
export const STRATA_BIN = process.env.STRATA_CLI ?? join(REPO_ROOT, "packages", "cli", "bin", "strata.js");

export interface StrataResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Spawns `strata <args…>` (`env` added to this process's: an emulator's `emu.env()`); never throws on a non-zero exit
 * (tests assert on `code`).
 */
export async function runStrata(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<StrataResult> {
  const r: ProcessResult = await runProcess(process.execPath, [STRATA_BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** Like runStrata but throws with stderr when the command fails. */
export async function runStrataOk(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<StrataResult> {
  const r = await runStrata(args, opts);
  if (r.code !== 0) {
    throw new Error(`strata ${args.join(" ")} failed (exit ${r.code}):\n${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r;
}

/** The last non-empty line of a command's stdout (rewrite prints the new block dir there). */
export function lastLine(stdout: string): string {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  return lines.length ? lines[lines.length - 1]!.trim() : "";
}
