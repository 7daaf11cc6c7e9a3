// `strata local --endpoint URL` on a separately started built-in emulator (standing in for
// LocalStack): it sets the bucket, queues and notification up there through the APIs, runs
// only the worker and the schedule, and an upload gets verified and indexed. Plus its usage errors.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "@strata/bucket/s3";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "@strata/emulator";
import { uploadDemoBlocks } from "@strata/local";
import { REPO_ROOT, STRATA_BIN } from "@strata/testkit/cli";
import { runProcess } from "@strata/testkit/process";

let emu: S3Emulator;
beforeAll(async () => {
  emu = await startS3Emulator();
});
afterAll(async () => {
  await emu?.stop();
});

describe("strata local --endpoint", () => {
  it("runs the pipeline on an existing S3 + SQS endpoint: an upload is verified and indexed", async () => {
    const child = spawn(
      process.execPath,
      [STRATA_BIN, "local", "--endpoint", emu.endpoint, "--http-port", "0", "--schedule-interval", "0"],
      { cwd: REPO_ROOT, env: { ...process.env, STRATA_LEASE_TTL: "1m" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => void (stdout += b.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.on("data", (b: Buffer) => {
          stderr += b.toString("utf8");
          if (stderr.includes("Ctrl-C stops")) resolve();
        });
        child.on("exit", () => reject(new Error(`strata local exited early:\n${stderr}`)));
      });
      expect(stderr).toContain(`export AWS_ENDPOINT_URL=${emu.endpoint}`);
      expect(stderr).toContain(`kept by ${emu.endpoint}`);
      const store = new S3Store({
        bucket: "strata-blocks",
        clientConfig: {
          endpoint: emu.endpoint,
          region: EMULATOR_REGION,
          credentials: EMULATOR_CREDENTIALS,
          forcePathStyle: true,
        },
      });
      const [meta] = await uploadDemoBlocks(store, { tenant: "byo", blocks: 1, series: 10 });
      const deadline = Date.now() + 30_000;
      while (!(await store.head("byo/bucket-index.json.gz")) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      await store.close();
      expect(await waitFor(() => stdout.includes('"event":"block-indexed"'))).toBe(true);
      expect(stdout).toContain(meta!.ulid);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
  }, 60_000);

  it("refuses a malformed URL and options that do not apply to an endpoint", async () => {
    const strata = (args: string[]) =>
      runProcess(process.execPath, [STRATA_BIN, "local", ...args], { cwd: REPO_ROOT, env: process.env });
    const bad = await strata(["--endpoint", "localhost:4566"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--endpoint: expected an http(s) URL");
    const both = await strata(["--endpoint", "http://127.0.0.1:1", "--data-dir", "/tmp/x"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("drop --data-dir");
  });
});

async function waitFor(ok: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return ok();
}
