// `strata web` as a user runs it: the page and its API on a file:// bucket and over the S3
// emulator (`emu.env()`), stopped with SIGINT (exit 0); bad input one line with the CLI's
// exit codes. The API itself is tested in @strata/local (packages/local/test/web.test.ts).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FsStore, type ObjectStore } from "@strata/bucket";
import { S3Store } from "@strata/bucket/s3";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "@strata/emulator";
import { BlocksResponse, StatusResponse } from "@strata/local/web";
import { pipelineLayout } from "@strata/pipeline";
import { serializeMeta } from "@strata/tsdb";
import { REPO_ROOT, STRATA_BIN, runStrata } from "@strata/testkit/cli";
import { T0, meta } from "@strata/testkit/pipeline";

const dirs: string[] = [];
let emu: S3Emulator | undefined;
afterAll(async () => {
  await emu?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function fileBucket(): Promise<{ dir: string; store: ObjectStore }> {
  const dir = await mkdtemp(join(tmpdir(), "strata-web-cli-"));
  dirs.push(dir);
  return { dir, store: new FsStore(dir) };
}

/** One block of tenant team-a; returns its ULID. */
async function putBlock(store: ObjectStore): Promise<string> {
  const m = meta({ minTime: T0, maxTime: T0 + 7_200_000 });
  await store.put(pipelineLayout().metaKey("team-a", m.ulid), serializeMeta(m, { style: "thanos" }));
  return m.ulid;
}

/**
 * Runs `strata web <url> --port 0 …` until it prints its URL; returns the URL and a stop that resolves with the exit
 * code.
 */
async function serve(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [STRATA_BIN, "web", ...args, "--port", "0"], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = / at (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`strata web exited (${code}) before serving:\n${stderr}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGINT");
      return exited;
    },
  };
}

describe("strata web", () => {
  it("serves a file:// bucket's page and API until SIGINT, then exits 0", async () => {
    const { dir, store } = await fileBucket();
    const ulid = await putBlock(store);
    const s = await serve([`file://${dir}`, "--refresh", "5s"]);
    try {
      expect(await (await fetch(`${s.url}/`)).text()).toContain("/app.js");
      const status = StatusResponse.parse(await (await fetch(`${s.url}/api/status`)).json());
      expect([status.refreshSeconds, status.tenants.map((t) => t.tenant)]).toEqual([5, ["team-a"]]);
      const blocks = BlocksResponse.parse(await (await fetch(`${s.url}/api/tenants/team-a/blocks`)).json());
      expect(blocks.blocks.map((b) => [b.block, b.state])).toEqual([[ulid, "pending"]]);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it("serves an s3:// bucket through the emulator (the environment a user sets)", async () => {
    emu = await startS3Emulator({ buckets: ["web-cli"] });
    const store = new S3Store({
      bucket: "web-cli",
      clientConfig: { endpoint: emu.endpoint, credentials: EMULATOR_CREDENTIALS, region: EMULATOR_REGION },
    });
    const ulid = await putBlock(store);
    await store.close();
    const s = await serve(["s3://web-cli", "--tenant", "team-a"], emu.env());
    try {
      const blocks = BlocksResponse.parse(await (await fetch(`${s.url}/api/tenants/team-a/blocks`)).json());
      expect(blocks.blocks.map((b) => b.block)).toEqual([ulid]);
      expect((await fetch(`${s.url}/api/tenants/team-b/blocks`)).status).toBe(404);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it("bad input: one line, exit 2 for usage, exit 1 for an unknown tenant or a busy port", async () => {
    const { dir, store } = await fileBucket();
    await putBlock(store);
    const cases: [string[], number, RegExp][] = [
      [[], 2, /a bucket URL is required/],
      [["ftp://x"], 2, /invalid bucket URL/],
      [[`file://${dir}`, "--port", "99999"], 2, /--port: expected a port number/],
      [[`file://${dir}`, "--refresh", "0s"], 2, /--refresh: expected a duration/],
      [[`file://${dir}`, "--tenant", "__x"], 2, /--tenant: invalid tenant "__x"/],
      [[`file://${dir}`, "--tenant", "nobody", "--port", "0"], 1, /unknown tenant "nobody"/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runStrata(["web", ...args]);
      expect([args, r.code]).toEqual([args, code]);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (busy.address() as { port: number }).port;
      const r = await runStrata(["web", `file://${dir}`, "--port", String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
    } finally {
      busy.close();
    }
  });

  it("--help describes every option, with examples", async () => {
    const r = await runStrata(["web", "--help"]);
    expect(r.code).toBe(0);
    for (const o of ["--port", "--listen", "--tenant", "--refresh", "--replica-label"])
      expect(r.stdout).toMatch(new RegExp(`${o} <value>\\s+\\S`));
    expect(r.stdout).toContain("Examples:");
  });
});
