// A reader that stops early (`strata dump <block> | head -1`) ends the command quietly with
// exit 0, as promtool does: no stack, no error line. The launcher handles it once, for every
// command: here stdout is a pipe whose reading end is closed after the first chunk, or
// before anything was written.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBenchBlock } from "@strata/testkit";
import { REPO_ROOT, STRATA_BIN } from "@strata/testkit/cli";

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Bytes read from stdout before it was closed. */
  read: number;
}

/** Runs `strata <args…>` and closes its stdout after the first chunk (or at once: `closeAt` 0). */
function runClosingStdout(args: string[], closeAt: "first-chunk" | "start"): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STRATA_BIN, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let read = 0;
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    if (closeAt === "start") child.stdout.destroy();
    else
      child.stdout.once("data", (b: Buffer) => {
        read = b.length;
        child.stdout.destroy();
      });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr, read }));
  });
}

describe("stdout closed early", () => {
  let parent: string;
  let block: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), "strata-epipe-"));
    // 400 series × 480 samples: ~15 MB of dump output, far more than a pipe holds.
    block = await makeBenchBlock(parent, 200, 480);
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it("strata dump | head -1: exit 0, nothing on stderr", async () => {
    const r = await runClosingStdout(["dump", block], "first-chunk");
    expect(r.read).toBeGreaterThan(0);
    expect(r.stderr).toBe("");
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  });

  it("a command whose stdout is closed before it writes: exit 0, nothing on stderr", async () => {
    const r = await runClosingStdout(["inspect", block], "start");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("strata --help with stdout closed: exit 0, nothing on stderr", async () => {
    const r = await runClosingStdout(["--help"], "start");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
