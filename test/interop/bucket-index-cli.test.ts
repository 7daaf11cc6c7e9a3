// `strata index rebuild|show` on promtool-made blocks in a directory bucket and in S3 over
// the emulator (fauxqs behind the conditional-write proxy), through the real CLI process.
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELETION_MARK_FILE } from "@strata/tsdb";
import { DirBlockSource } from "@strata/tsdb/node";
import { BucketLayout, FsStore, StoreBlockSource, uploadBlock, writeMarker, type ObjectStore } from "@strata/bucket";
import { S3Store } from "@strata/bucket/s3";
import { startS3Emulator, EMULATOR_CREDENTIALS, EMULATOR_REGION, type S3Emulator } from "@strata/emulator";
import { assertPromtool, makePromtoolFixture, type PromtoolFixture } from "@strata/testkit/promtool";
import { runProcess } from "@strata/testkit/process";
import { REPO_ROOT, STRATA_BIN } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";

const tmp = new TempDirs();
let fx: PromtoolFixture;
let emu: S3Emulator;
const layout = new BucketLayout();

function strata(args: string[], env: Record<string, string> = {}) {
  return runProcess(process.execPath, [STRATA_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
}

/** The fixture's three blocks. */
function fixtureBlocks() {
  const [b0, b1, b2] = fx.blocks;
  if (!b0 || !b1 || !b2) throw new Error(`the fixture has ${fx.blocks.length} blocks, not 3`);
  return [b0, b1, b2] as const;
}

/** Two blocks for tenant team-a (one marked for deletion), one Thanos-style at the bucket root. */
async function populate(store: ObjectStore): Promise<void> {
  const [b0, b1, b2] = fixtureBlocks();
  await uploadBlock(store, layout, "team-a", b0.ulid, new DirBlockSource(b0.dir), { partSize: 5 << 20 });
  await uploadBlock(store, layout, "team-a", b1.ulid, new DirBlockSource(b1.dir), { partSize: 5 << 20 });
  await uploadBlock(store, layout, layout.rootTenant, b2.ulid, new DirBlockSource(b2.dir), { partSize: 5 << 20 });
  await writeMarker(store, layout, "team-a", b1.ulid, DELETION_MARK_FILE, {
    id: b1.ulid,
    version: 1,
    deletion_time: 1_700_000_000,
  });
  await store.put(`team-a/${"01HFAY3VMA1D6NYKSJAA6WSXP3"}/index`, "partial upload"); // no meta.json
}

beforeAll(async () => {
  assertPromtool();
  fx = await makePromtoolFixture(tmp, { series: 30, seed: 11, label: "bucket-index" });
  expect(fx.blocks.length).toBe(3);
  emu = await startS3Emulator({ buckets: ["strata-cli"] });
});

afterAll(async () => {
  await emu?.stop();
  await tmp.cleanup();
});

async function checkRebuildAndShow(url: string, env: Record<string, string> = {}, full = true): Promise<void> {
  const [b0, b1, b2] = fixtureBlocks();
  const r = await strata(["index", "rebuild", url], env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`__root__: 1 blocks, 0 deletion marks`);
  expect(r.stdout).toContain(`team-a: 2 blocks, 1 deletion marks`);
  expect(r.stdout).toContain("skipped partial block 01HFAY3VMA1D6NYKSJAA6WSXP3");
  // Nothing is indexed on its meta.json alone: each block was verified in place first.
  for (const b of [b0, b1, b2]) expect(r.stdout).toContain(`verified and indexed ${b.ulid}`);

  const show = await strata(["index", "show", url, "--tenant", "team-a", "--json"], env);
  expect(show.code).toBe(0);
  const idx = JSON.parse(show.stdout);
  expect(idx.version).toBe(2);
  expect(idx.blocks.map((b: { block_id: string }) => b.block_id).sort()).toEqual([b0.ulid, b1.ulid].sort());
  const e0 = idx.blocks.find((b: { block_id: string }) => b.block_id === b0.ulid);
  expect([e0.min_time, e0.max_time]).toEqual([b0.meta.minTime, b0.meta.maxTime]);
  expect(e0.compaction_level).toBe(1);
  expect(Math.abs(e0.uploaded_at - Date.now() / 1000)).toBeLessThan(600);
  expect(idx.block_deletion_marks).toEqual([{ block_id: b1.ulid, deletion_time: 1_700_000_000 }]);

  if (!full) return;
  const table = await strata(["index", "show", url, "--tenant", "__root__"], env);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/^tenant __root__: version 2, 1 blocks/);
  expect(table.stdout).toContain(b2.ulid);

  const one = await strata(["index", "rebuild", url, "--tenant", "team-a"], env);
  expect(one.stdout.trim().split("\n")[0]).toMatch(/^team-a: 2 blocks/);
  expect(one.stdout, "admitted blocks are not verified again").not.toContain("verified and indexed");
}

describe("strata index", () => {
  it("rebuilds and shows the index of a directory bucket", async () => {
    const dir = await tmp.make("fs-bucket");
    const store = new FsStore(dir);
    await populate(store);
    await checkRebuildAndShow(pathToFileURL(dir).href);
    // A block uploaded to the bucket reads back in place, identical to the original files.
    const b0 = fx.blocks[0]!;
    const src = new StoreBlockSource(store, layout.blockPrefix("team-a", b0.ulid));
    const idx = await src.open("index");
    const orig = await new DirBlockSource(b0.dir).open("index");
    expect(Buffer.compare(await idx.read(0, idx.size), await orig.read(0, orig.size))).toBe(0);
    await orig.close?.();
  });

  it("rebuilds and shows the index of an S3 bucket, endpoint from AWS_ENDPOINT_URL_S3", async () => {
    const store = new S3Store({
      bucket: "strata-cli",
      clientConfig: { endpoint: emu.endpoint, credentials: EMULATOR_CREDENTIALS, region: EMULATOR_REGION },
    });
    await populate(store);
    await store.close();
    await checkRebuildAndShow("s3://strata-cli", emu.env(), false);
  });

  it("reports bad URLs, missing indexes and corrupted indexes on one line", async () => {
    const bad = await strata(["index", "rebuild", "ftp://x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^strata index: invalid bucket URL "ftp:\/\/x": unknown scheme/);
    const dir = await tmp.make("empty-bucket");
    const url = pathToFileURL(dir).href;
    const none = await strata(["index", "show", url, "--tenant", "nobody"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("nobody/bucket-index.json.gz: no bucket index");
    await new FsStore(dir).put("t/bucket-index.json.gz", "garbage");
    const corrupt = await strata(["index", "show", url, "--tenant", "t"]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/t\/bucket-index.json.gz: bucket index corrupted: not gzip data/);
  });
});
