// Issue 15: the bucket's page in a real headless Chromium (Debian `chromium`, driven by
// puppeteer-core; no browser download). The bucket is the end-to-end scenario's (promtool
// blocks for two tenants, uploaded to the local runtime, settled: an HA pair deduplicated, a
// corrupted block quarantined, an 8h compaction). Both pages are loaded: `strata web` run as
// a user would (a child process on the runtime's S3 endpoint) and the runtime's own HTTP
// port, which also knows the queues. The bars in the DOM must be the blocks the API lists
// and the bucket holds, per tenant, with their levels and the quarantine; hovering shows a
// tooltip; clicking a block opens its meta.json and verify report. The screenshot is kept in
// test-artifacts/web.png.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { listAll, parseBlockKey } from "@strata/bucket";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, type LocalRuntime } from "@strata/local";
import { BlockDetailResponse, BlocksResponse, StatusResponse, type Blocks } from "@strata/local/web";
import { assertPromtool } from "@strata/testkit/promtool";
import { REPO_ROOT, STRATA_BIN } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";
import { REPLICA_LABEL, TENANT_A, TENANT_B, buildScenario, describeScenario, type Scenario } from "./fixtures.ts";
import { logTail, startE2eRuntime, uploadAndSettle } from "./runtime.ts";

/** Debian's chromium (`.ci/setup` installs it); never downloaded, and its absence fails the test. */
const CHROMIUM = process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACT = join(REPO_ROOT, "test-artifacts", "web.png");

const tmp = new TempDirs();
let sc: Scenario;
let rt: LocalRuntime | undefined;
let log: string[] = [];
let cli: ChildProcess | undefined;
let cliUrl = "";
let browser: Browser | undefined;

beforeAll(async () => {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`${CHROMIUM} is not installed: the page's browser test needs Debian's chromium (bash .ci/setup)`);
  }
  assertPromtool();
  // Chromium starts while promtool makes the blocks and the pipeline settles.
  const launching = puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"],
    defaultViewport: { width: 1400, height: 1000 },
  });
  sc = await buildScenario(tmp);
  ({ rt, log } = await startE2eRuntime({ http: { port: 0, refreshSeconds: 2 } }));
  await uploadAndSettle(rt, sc);
  browser = await launching;
  ({ child: cli, url: cliUrl } = await startStrataWeb(rt));
});

afterAll(async () => {
  await browser?.close();
  cli?.kill("SIGINT");
  await rt?.stop();
  await tmp.cleanup();
});

/**
 * `strata web s3://<bucket> --port 0 --replica-label replica` against the runtime's emulator; resolves with its URL.
 */
async function startStrataWeb(r: LocalRuntime): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [STRATA_BIN, "web", `s3://${r.bucket}`, "--port", "0", "--refresh", "2s", "--replica-label", REPLICA_LABEL],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: r.endpoint,
        AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
        AWS_REGION: EMULATOR_REGION,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`strata web printed no URL in 20 s:\n${stderr}`)), 20_000);
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`strata web exited (${code}):\n${stderr}`)));
  });
  return { child, url };
}

/** Block folders in the bucket, per tenant (every ULID directory with any object). */
async function bucketBlocks(r: LocalRuntime, tenant: string): Promise<string[]> {
  const ids = new Set<string>();
  for await (const o of listAll(r.s3, `${tenant}/`)) {
    const k = parseBlockKey(o.key, "");
    if (!("reason" in k) && k.tenant === tenant) ids.add(k.block.toUpperCase());
  }
  return [...ids].sort();
}

async function apiBlocks(base: string, tenant: string): Promise<Blocks> {
  return BlocksResponse.parse(await (await fetch(`${base}/api/tenants/${tenant}/blocks`)).json());
}

/** The bars of one tenant's section: ULID, state, level. */
async function bars(page: Page, tenant: string): Promise<{ ulid: string; state: string; level: string }[]> {
  return page.$$eval(`section.tenant[data-tenant="${tenant}"] .block`, (els) =>
    els.map((e) => ({
      ulid: e.getAttribute("data-ulid") ?? "",
      state: e.getAttribute("data-state") ?? "",
      level: e.getAttribute("data-level") ?? "",
    })),
  );
}

async function load(base: string): Promise<Page> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`${base}/`, { waitUntil: "load" });
  await page.waitForSelector("body[data-loaded]", { timeout: 15_000 });
  await page.waitForSelector(`section.tenant[data-tenant="${TENANT_B}"] .block`, { timeout: 15_000 });
  expect(errors, "no script error on the page").toEqual([]);
  return page;
}

describe("the bucket's page in headless Chromium", () => {
  it("`strata web`: the bars are the blocks the API lists and the bucket holds, levels and quarantine included; click opens the meta", async () => {
    onTestFailed(() => console.error(`blocks:\n${describeScenario(sc)}\nruntime log:\n${logTail(log)}`));
    const page = await load(cliUrl);
    const status = StatusResponse.parse(await (await fetch(`${cliUrl}/api/status`)).json());
    expect(status.tenants.map((t) => t.tenant)).toEqual([TENANT_A, TENANT_B]);
    expect(status.queues, "strata web on a bucket does not know the queues").toBeNull();

    for (const tenant of [TENANT_A, TENANT_B]) {
      const api = await apiBlocks(cliUrl, tenant);
      const dom = await bars(page, tenant);
      expect(dom.map((b) => b.ulid).sort(), `${tenant}: one bar per block the API lists`).toEqual(
        api.blocks.map((b) => b.block).sort(),
      );
      expect(dom.map((b) => b.ulid).sort(), `${tenant}: and per block folder in the bucket`).toEqual(
        await bucketBlocks(rt!, tenant),
      );
      const byId = new Map(api.blocks.map((b) => [b.block, b]));
      for (const b of dom) {
        const a = byId.get(b.ulid)!;
        expect([b.ulid, b.state, b.level], `${tenant}: a bar shows its block's state and level`).toEqual([
          b.ulid,
          a.state,
          String(a.level ?? ""),
        ]);
      }
    }
    // The scenario's outcome, as drawn: the corrupted block quarantined, team-b's 8h output at
    // level 2, team-a's six replica blocks marked for deletion beside three level-2 outputs.
    const b = await bars(page, TENANT_B);
    expect(b.filter((x) => x.state === "quarantined").map((x) => x.ulid)).toEqual([sc.expected.quarantined.ulid]);
    expect(b.filter((x) => x.level === "2" && x.state === "live")).toHaveLength(1);
    const a = await bars(page, TENANT_A);
    expect(a.filter((x) => x.state === "marked")).toHaveLength(6);
    expect(a.filter((x) => x.state === "live" && x.level === "2")).toHaveLength(3);
    // One row per group and resolution: team-a's replicas share theirs (replica label removed).
    expect(await page.$$eval(`section.tenant[data-tenant="${TENANT_A}"] .row`, (r) => r.length)).toBe(1);

    const q = `.block[data-ulid="${sc.expected.quarantined.ulid}"]`;
    await page.hover(q);
    await page.waitForSelector("#tooltip:not([hidden])");
    expect(await page.$eval("#tooltip", (e) => e.textContent)).toContain("quarantined");

    await page.click(q);
    await page.waitForFunction('document.querySelector("#panel-body pre") !== null', { timeout: 10_000 });
    const panel = await page.$eval("#panel", (e) => e.textContent ?? "");
    expect(panel).toContain("Verify report");
    expect(panel).toContain(`"ulid": "${sc.expected.quarantined.ulid}"`);
    expect(panel).toMatch(/BadChecksum|checksum/i);
    const detail = BlockDetailResponse.parse(
      await (await fetch(`${cliUrl}/api/tenants/${TENANT_B}/blocks/${sc.expected.quarantined.ulid}`)).json(),
    );
    expect(detail.verifyReport).toBeDefined();

    await page.mouse.move(0, 0); // the tooltip away: the artifact shows the page and the panel
    await mkdir(join(REPO_ROOT, "test-artifacts"), { recursive: true });
    await page.screenshot({ path: ARTIFACT as `${string}.png`, fullPage: true });
    await page.close();
  });

  it("the local runtime's own page (--http-port) shows the same blocks and the queue and DLQ depth", async () => {
    onTestFailed(() => console.error(`runtime log:\n${logTail(log)}`));
    expect(rt!.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await load(rt!.httpUrl!);
    await page.waitForFunction(
      '/jobs queue \\d+ · DLQ \\d+/.test(document.getElementById("queues")?.textContent ?? "")',
    );
    expect(await page.$eval("#queues", (e) => e.textContent)).toBe("jobs queue 0 · DLQ 0");
    for (const tenant of [TENANT_A, TENANT_B]) {
      const dom = await bars(page, tenant);
      expect(dom.map((x) => x.ulid).sort(), tenant).toEqual(
        (await apiBlocks(cliUrl, tenant)).blocks.map((x) => x.block).sort(),
      );
    }
    await page.close();
  });
});
