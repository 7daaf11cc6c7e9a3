// Issue 12 through the real bindings and engines over a directory bucket: the re-sync sends
// unverified blocks to verification instead of indexing them, a re-uploaded quarantined block
// is verified again, `releaseQuarantine` (strata quarantine release) lifts a quarantine once
// the block passes, and a block with only repairable problems is repaired into a verified,
// indexed block before the original is marked for deletion.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@strata/bucket";
import { StoreBlockSource } from "@strata/bucket";
import { listAll } from "@strata/bucket";
import { serializeMeta } from "@strata/tsdb";
import { verifyBlock } from "@strata/verify";
import {
  JOB_FAILED_REASON,
  JobOutOfTimeError,
  bindPipeline,
  handleRecord,
  jsonLogger,
  pipelineLayout,
  repairedUlid,
  QUARANTINE_REASON,
  VERIFIED_FILE,
  VERIFY_REPORT_FILE,
  type Job,
  type WorkerDeps,
} from "@strata/pipeline";
import { releaseQuarantine } from "../src/quarantine.ts";
import { bucketStatus } from "../src/status.ts";
import { HOUR, writeStoreBlock } from "./store-blocks.ts";

const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let store: FsStore;
let deps: WorkerDeps;
const sent: Job[] = [];
const run = async (job: Job) =>
  (await handleRecord(JSON.stringify(job), deps, { messageId: `m-${job.type}` })).results[0]!;
const ids = async (tenant: string) => (await deps.index.blocks(tenant)).map((b) => b.meta.ulid).sort();
const exists = (tenant: string, block: string, file: string) =>
  readFile(join(dir, tenant, block, file)).then(
    () => true,
    () => false,
  );

async function flipChunkByte(tenant: string, block: string): Promise<Buffer> {
  const seg = join(dir, tenant, block, "chunks", "000001");
  const original = await readFile(seg);
  const bytes = Buffer.from(original);
  bytes[200]! ^= 0xff;
  await writeFile(seg, bytes);
  return original;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-admission-"));
  store = new FsStore(dir);
  deps = bindPipeline({ store, queue: { send: async (j) => void sent.push(j) }, log: jsonLogger(() => undefined) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("admission over a directory bucket", () => {
  it("the re-sync indexes no block whose verify has not passed; it sends them to verification", async () => {
    const a = await writeStoreBlock(store, "t", T0, 1);
    const b = await writeStoreBlock(store, "t", T0 + 2 * HOUR, 2);
    expect((await run({ version: 1, type: "verify", tenant: "t", block: a.ulid })).status).toBe("done");
    expect(await exists("t", a.ulid, VERIFIED_FILE)).toBe(true);
    sent.length = 0;
    expect((await run({ version: 1, type: "index-sync", tenant: "t" })).status).toBe("done");
    expect(await ids("t")).toEqual([a.ulid]);
    expect(sent).toEqual([
      { version: 1, type: "verify", tenant: "t", block: b.ulid },
      { version: 1, type: "plan", tenant: "t" },
    ]);
    // An index that cannot be read is rebuilt from the records alone.
    await writeFile(join(dir, "t", "bucket-index.json.gz"), "not gzip");
    await deps.index.rebuild("t");
    expect(await ids("t")).toEqual([a.ulid]);
  });

  it("a quarantined block re-uploaded with good files is verified again and indexed", async () => {
    const m = await writeStoreBlock(store, "t", T0 + 4 * HOUR, 3);
    const good = await flipChunkByte("t", m.ulid);
    expect((await run({ version: 1, type: "verify", tenant: "t", block: m.ulid })).status).toBe("quarantined");
    expect((await run({ version: 1, type: "verify", tenant: "t", block: m.ulid })).status).toBe("skipped");
    // The operator uploads the block again: chunks, index, then meta.json (newer than the report).
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(join(dir, "t", m.ulid, "chunks", "000001"), good);
    await store.put(pipelineLayout().metaKey("t", m.ulid), serializeMeta(m, { style: "thanos" }));
    expect((await run({ version: 1, type: "verify", tenant: "t", block: m.ulid })).status).toBe("done");
    expect(await ids("t")).toContain(m.ulid);
    expect(await exists("t", m.ulid, "no-compact-mark.json")).toBe(false);
    expect(await exists("t", "markers", `${m.ulid}-no-compact-mark.json`)).toBe(false);
    expect(await exists("t", m.ulid, VERIFY_REPORT_FILE)).toBe(false);
  });

  it("releaseQuarantine re-verifies in place: refuses while broken, lifts the marks and indexes once it passes", async () => {
    const m = await writeStoreBlock(store, "r", T0, 4);
    const good = await flipChunkByte("r", m.ulid);
    expect((await run({ version: 1, type: "verify", tenant: "r", block: m.ulid })).status).toBe("quarantined");
    const still = await releaseQuarantine(store, { tenant: "r", block: m.ulid });
    expect(still).toMatchObject({ status: "still-broken", reason: expect.stringContaining("chunks/000001") });
    expect(await exists("r", m.ulid, "no-compact-mark.json")).toBe(true);
    await writeFile(join(dir, "r", m.ulid, "chunks", "000001"), good); // fixed in place
    expect(await releaseQuarantine(store, { tenant: "r", block: m.ulid })).toEqual({
      status: "released",
      block: m.ulid,
    });
    expect(await ids("r")).toEqual([m.ulid]);
    expect(await exists("r", m.ulid, "no-compact-mark.json")).toBe(false);
    expect(await releaseQuarantine(store, { tenant: "r", block: m.ulid })).toMatchObject({ status: "not-quarantined" });
  });

  it("a meta.json over the size cap is quarantined unparsed (MetaTooLarge); a raised cap (STRATA_MAX_META_BYTES) admits it everywhere", async () => {
    const m = await writeStoreBlock(store, "big", T0, 6);
    const padded = serializeMeta(m, { style: "thanos" }) + " ".repeat(2 << 20);
    await store.put(pipelineLayout().metaKey("big", m.ulid), padded);
    expect(await run({ version: 1, type: "verify", tenant: "big", block: m.ulid })).toMatchObject({
      status: "quarantined",
      reason: expect.stringContaining("MetaTooLarge"),
    });
    const roomy = bindPipeline({
      store,
      queue: { send: async () => undefined },
      log: jsonLogger(() => undefined),
      engine: { maxMetaBytes: 4 << 20 },
    });
    expect(
      await releaseQuarantine(store, { tenant: "big", block: m.ulid }, { engine: { maxMetaBytes: 4 << 20 } }),
    ).toEqual({ status: "released", block: m.ulid });
    expect((await roomy.index.blocks("big")).map((b) => b.meta.ulid)).toEqual([m.ulid]);
  });

  it("a compaction that runs out of time stops itself, deletes its partial output, and counts the attempt", async () => {
    const inputs = [];
    for (let i = 0; i < 5; i++) inputs.push(await writeStoreBlock(store, "o", T0 + 2 * i * HOUR, 20 + i));
    sent.length = 0;
    for (const m of inputs)
      expect((await run({ version: 1, type: "verify", tenant: "o", block: m.ulid })).status).toBe("done");
    const compact = sent.find((j) => j.type === "compact")!;
    expect(compact).toBeDefined();
    // One second left of the invocation: less than the stop margin, so the engine stops at its first write.
    const err = await handleRecord(JSON.stringify(compact), deps, {
      messageId: "late",
      deadline: Date.now() + 1_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobOutOfTimeError);
    const dirs = new Set<string>();
    for await (const o of listAll(store, "o/")) dirs.add(o.key.split("/")[1]!);
    expect([...dirs].filter((d) => /^[0-9A-Z]{26}$/.test(d)).sort()).toEqual(inputs.map((m) => m.ulid).sort()); // no partial output
    const attempt = (await deps.leases.listAttempts("o"))[0]!;
    expect(attempt.record).toMatchObject({ attempts: 1, errors: [expect.stringContaining("out of time")] });
    expect((await deps.index.blocks("o")).every((b) => b.deletionTime === undefined)).toBe(true);
    // With time to spare it runs.
    expect(
      (await handleRecord(JSON.stringify(compact), deps, { messageId: "on-time", deadline: Date.now() + 900_000 }))
        .results[0]!.status,
    ).toBe("done");
    expect(await deps.leases.listAttempts("o")).toEqual([]);
  });

  it("strata status lists refused plans (no-compact marks other than quarantine) and jobs that are failing", async () => {
    const m = await writeStoreBlock(store, "s", T0, 8);
    await deps.storage.markNoCompact(
      { tenant: "s", block: m.ulid },
      {
        id: m.ulid,
        version: 1,
        no_compact_time: 1,
        reason: JOB_FAILED_REASON,
        details: "3 attempts failed: attempt 1: boom",
      },
    );
    await deps.leases.writeAttempts("s", "compact-abc", {
      version: 1,
      attempts: 2,
      errors: ["attempt 1: out of memory"],
      job: `compact merge ${m.ulid}`,
      blocks: [m.ulid],
      first_time: 1,
      last_time: 2,
    });
    const st = (await bucketStatus(store, { tenant: "s" }))[0]!;
    expect(st.refused).toEqual([
      { block: m.ulid, reason: JOB_FAILED_REASON, details: "3 attempts failed: attempt 1: boom" },
    ]);
    expect(st.failing).toEqual([{ job: `compact merge ${m.ulid}`, attempts: 2, errors: ["attempt 1: out of memory"] }]);
    expect(st.quarantined).toEqual([]);
  });

  it("a block whose only problem is repairable (wrong stats) is repaired; the original goes after the repaired block is indexed", async () => {
    const m = await writeStoreBlock(store, "p", T0, 5);
    await store.put(
      pipelineLayout().metaKey("p", m.ulid),
      serializeMeta({ ...m, stats: { ...m.stats, numSamples: 7n } }, { style: "thanos" }),
    );
    const r = await run({ version: 1, type: "verify", tenant: "p", block: m.ulid });
    expect(r).toMatchObject({ status: "done", reason: `repaired into ${repairedUlid(m.ulid)}` });
    const fixed = repairedUlid(m.ulid);
    expect(await ids("p")).toEqual([fixed]);
    const live = await deps.index.blocks("p");
    expect(live[0]!.deletionTime).toBeUndefined();
    const original = await deps.storage.readMarkers({ tenant: "p", block: m.ulid });
    expect(original.noCompact?.reason).toBe(QUARANTINE_REASON);
    expect(original.deletion?.details).toContain(`repaired into ${fixed}`);
    // The repaired block passes every check, and holds the original's samples.
    const report = await verifyBlock(new StoreBlockSource(store, pipelineLayout().blockPrefix("p", fixed)), {
      expectedUlid: fixed,
    });
    expect(report.problems.filter((p) => p.severity !== "warn")).toEqual([]);
    expect(live[0]!.meta.stats.numSamples).toBe(1440n);
    expect(await exists("p", fixed, VERIFIED_FILE)).toBe(true);
  });
});
