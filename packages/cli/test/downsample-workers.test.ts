// `strata downsample` with more worker threads than the block has batches for must still exit:
// a worker never given a batch once kept the process alive (Node re-refs a worker that comes
// online after an unref).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeBenchBlock } from "@strata/testkit";
import { REPO_ROOT, STRATA_BIN } from "@strata/testkit/cli";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; timedOut: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [STRATA_BIN, ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b) => (stderr += b));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, timedOut: signal === "SIGKILL", stderr });
    });
  });
}

describe("strata downsample --workers", () => {
  it("exits when a worker thread was never given a batch", async () => {
    const dir = await mkdtemp(join(tmpdir(), "strata-ds-workers-"));
    dirs.push(dir);
    const block = await makeBenchBlock(dir, 50, 2000);
    for (const workers of ["2", "3"]) {
      const out = join(dir, `out-${workers}`);
      const r = await run(["downsample", block, "--resolution", "5m", "--workers", workers, "--out", out], 30_000);
      expect(r.timedOut, `--workers ${workers} did not exit within 30 s`).toBe(false);
      expect(r.code, r.stderr).toBe(0);
    }
  });
});
