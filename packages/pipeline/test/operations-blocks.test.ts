// The operator's block operations over a directory bucket with real blocks: the listing
// `strata ls` prints (sizes, marks, quarantine reasons, index membership, broken metas),
// its filters and orders, and `strata mark` / `strata unmark` (both marker copies, the
// bucket index, the last-copy refusal by the planner's coverage rule).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BucketIndexUpdater, FsStore, StoreBlockSink, listAll } from "@strata/bucket";
import { pipelineLayout } from "@strata/pipeline";
import {
  filterBlocks,
  listBucketBlocks,
  markBlocks,
  rebuildIndex,
  sortBlocks,
  unmarkBlocks,
  type BlockRow,
} from "@strata/pipeline/operations";
import { HOUR, T0, blockUlid, writeBlock, type BlockSpec } from "./ops-blocks.ts";

const layout = pipelineLayout();
let dir: string;
let store: FsStore;
const A = blockUlid(T0, 1);
const B = blockUlid(T0 + 2 * HOUR, 2);
const C = blockUlid(T0, 3); // level 2: A and B compacted
const Q = blockUlid(T0 + 4 * HOUR, 4); // quarantined
const X = blockUlid(T0 + 6 * HOUR, 5); // meta.json does not parse
const P = blockUlid(T0 + 8 * HOUR, 6); // partial: no meta.json
const R = blockUlid(T0, 7); // root tenant, no index

async function put(tenant: string, ulid: string, spec: BlockSpec): Promise<void> {
  const sink = new StoreBlockSink(store, layout.blockPrefix(tenant, ulid));
  await writeBlock(sink, ulid, spec);
  await sink.commit();
}

const keys = async (prefix: string) => {
  const out: string[] = [];
  for await (const o of listAll(store, prefix)) out.push(o.key);
  return out;
};
const row = async (tenant: string, block: string): Promise<BlockRow> =>
  (await listBucketBlocks(store, { tenant })).blocks.find((b) => b.block === block)!;
const indexMarks = async (tenant: string) =>
  (await new BucketIndexUpdater(store, { layout }).read(tenant))?.index.block_deletion_marks ?? [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-ops-blocks-"));
  store = new FsStore(dir);
  await put("team-a", A, { minT: T0, seed: 1 });
  await put("team-a", B, { minT: T0 + 2 * HOUR, seed: 2 });
  await put("team-a", C, { minT: T0, hours: 4, seed: 3, level: 2, sources: [A, B].sort() });
  await put("team-a", Q, { minT: T0 + 4 * HOUR, seed: 4, labels: { cluster: "b" } });
  const seg = join(dir, "team-a", Q, "chunks", "000001");
  const bytes = Buffer.from(await readFile(seg));
  bytes[200]! ^= 0xff;
  await writeFile(seg, bytes);
  await store.put(`team-a/${X}/meta.json`, "{not json");
  await store.put(`team-a/${X}/index`, "x");
  await store.put(`team-a/${P}/index`, "partial upload");
  await put("", R, { minT: T0, seed: 7 });
  // A ULID-shaped top-level folder of block folders is a tenant shape, never a root block.
  await store.put(`${blockUlid(T0, 9)}/${blockUlid(T0, 10)}/meta.json`, "{}");
  const r = await rebuildIndex(store, "team-a");
  expect(r.quarantined.map((q) => q.block)).toEqual([Q]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("listBucketBlocks", () => {
  it("lists every block with its meta, size, marks, quarantine reason and index membership", async () => {
    const all = await listBucketBlocks(store);
    expect(all.tenants).toEqual(["", "team-a"]);
    expect(all.notes).toEqual(['tenant "": no bucket index']);
    expect(all.blocks.map((b) => `${b.tenant}/${b.block}`)).toEqual(
      [`/${R}`, ...[A, B, C, Q, X, P].sort().map((b) => `team-a/${b}`)].sort((a, b) => (a < b ? -1 : 1)),
    );
    const a = all.blocks.find((b) => b.block === A)!;
    const sizes = (await Promise.all((await keys(`team-a/${A}/`)).map((k) => store.head(k)))).map((h) => h!.size);
    expect(a).toMatchObject({
      tenant: "team-a",
      minTime: T0,
      level: 1,
      resolution: 0,
      labels: { cluster: "a" },
      series: 3,
      samples: 3 * 480,
      indexed: true,
      verified: true,
      marks: {},
      sizeBytes: sizes.reduce((x, y) => x + y, 0),
      objects: sizes.length,
    });
    expect(a.problem).toBeUndefined();
    const c = all.blocks.find((b) => b.block === C)!;
    expect([c.level, c.maxTime! - c.minTime!]).toEqual([2, 4 * HOUR - 15_000 + 1]);
    const q = all.blocks.find((b) => b.block === Q)!;
    expect(q.indexed).toBe(false);
    expect(q.marks.noCompact?.reason).toBe("strata-verify-failed");
    expect(q.marks.quarantine?.reason).toMatch(/^chunks\/000001@\d+: \w+ \[reject\]/);
    expect(all.blocks.find((b) => b.block === X)!.problem).toMatch(/meta\.json/);
    expect(all.blocks.find((b) => b.block === P)!.problem).toMatch(/^no meta\.json/);
    expect(all.blocks.find((b) => b.block === R)).toMatchObject({ tenant: "", indexed: false, level: 1 });
  });

  it("lists one tenant, and nothing for a tenant that has no blocks", async () => {
    expect((await listBucketBlocks(store, { tenant: "team-a" })).blocks).toHaveLength(6);
    expect(await listBucketBlocks(store, { tenant: "nobody" })).toEqual({ blocks: [], tenants: [], notes: [] });
  });

  it("orders tenants by their UTF-8 bytes, as the bucket lists them (not by UTF-16 units)", async () => {
    // U+FFFD is EF BF BD in UTF-8, U+10000 is F0 90 80 80: UTF-16 would put the astral one first.
    const astral = "t-\u{10000}";
    const bmp = "t-\uFFFD";
    await store.put(`${astral}/${A}/meta.json`, "{}");
    await store.put(`${bmp}/${A}/meta.json`, "{}");
    try {
      const tenants = (await listBucketBlocks(store)).tenants.filter((t) => t.startsWith("t-"));
      expect(tenants).toEqual([bmp, astral]);
    } finally {
      await rm(join(dir, astral), { recursive: true, force: true });
      await rm(join(dir, bmp), { recursive: true, force: true });
    }
  });

  it("reads an unreadable bucket index and unreadable or oversized markers as notes, never as a crash", async () => {
    const d = await mkdtemp(join(tmpdir(), "strata-ops-bad-"));
    const s = new FsStore(d);
    const id = blockUlid(T0, 11);
    const sink = new StoreBlockSink(s, layout.blockPrefix("t", id));
    await writeBlock(sink, id, { minT: T0 });
    await sink.commit();
    const shard = blockUlid(T0, 12);
    const shardSink = new StoreBlockSink(s, layout.blockPrefix("t", shard));
    await writeBlock(shardSink, shard, { minT: T0, labels: { cluster: "a", __compactor_shard_id__: "1_of_2" } });
    await shardSink.commit();
    await s.put(`t/${blockUlid(T0, 13)}/meta.json`, (await s.get(`t/${shard}/meta.json`))!.body);
    await s.put("t/bucket-index.json.gz", "garbage");
    await s.put(`t/${id}/deletion-mark.json`, "{}");
    await s.put(`t/${id}/no-compact-mark.json`, "x".repeat(70_000));
    const l = await listBucketBlocks(s, { tenant: "t" });
    expect(l.notes[0]).toMatch(/bucket index unreadable/);
    expect(l.blocks[0]!.indexed).toBe(false);
    expect(l.blocks[0]!.marks.unreadable?.map((u) => u.file)).toEqual(["deletion-mark.json", "no-compact-mark.json"]);
    expect(l.blocks[0]!.marks.unreadable?.[1]?.problem).toMatch(/over the 65536-byte limit/);
    expect(l.blocks.find((b) => b.block === shard)).toMatchObject({ shard: "1_of_2", labels: { cluster: "a" } });
    expect(l.blocks.find((b) => b.block === blockUlid(T0, 13))!.problem).toMatch(
      /^meta\.json names block .*, not its folder/,
    );
    // A quarantine whose report is gone still shows the mark's details as its reason.
    await s.put(
      `t/${shard}/no-compact-mark.json`,
      `{"id":"${shard}","version":1,"details":"IndexCorrupt at 12","no_compact_time":1,"reason":"strata-verify-failed"}`,
    );
    const q = (await listBucketBlocks(s, { tenant: "t" })).blocks.find((b) => b.block === shard)!;
    expect(q.marks.quarantine).toEqual({ reason: "IndexCorrupt at 12", problems: 0 });
    await rm(d, { recursive: true, force: true });
  });
});

describe("filterBlocks and sortBlocks", () => {
  it("filter on level, resolution, block time and marks; sort by time, size, level, ulid", async () => {
    const rows = (await listBucketBlocks(store, { tenant: "team-a" })).blocks;
    const ids = (rs: BlockRow[]) => rs.map((r) => r.block);
    expect(ids(filterBlocks(rows, { level: 2 }))).toEqual([C]);
    expect(ids(filterBlocks(rows, { resolution: 300_000 }))).toEqual([]);
    expect(ids(filterBlocks(rows, { sinceMs: T0 + 3 * HOUR })).sort()).toEqual([B, C, Q].sort());
    expect(ids(filterBlocks(rows, { marked: "quarantine" }))).toEqual([Q]);
    expect(ids(filterBlocks(rows, { marked: "no-compact" }))).toEqual([Q]);
    expect(ids(filterBlocks(rows, { marked: "any" }))).toEqual([Q]);
    expect(ids(filterBlocks(rows, { marked: "deletion" }))).toEqual([]);
    expect(ids(filterBlocks(rows, { marked: "no-downsample" }))).toEqual([]);
    expect(filterBlocks(rows, { marked: "none" })).toHaveLength(5);
    const byTime = ids(sortBlocks(rows, "time"));
    expect(byTime.slice(0, 2).sort()).toEqual([A, C].sort());
    expect(byTime.slice(2, 4)).toEqual([B, Q]);
    expect(byTime.slice(4).sort()).toEqual([X, P].sort()); // no usable meta: last
    expect(ids(sortBlocks(rows, "level"))[3]).toBe(C);
    expect(ids(sortBlocks(rows, "ulid"))).toEqual([...ids(rows)].sort());
    const bySize = sortBlocks(rows, "size");
    expect(bySize[0]!.block).toBe(C);
    expect(bySize.map((r) => r.sizeBytes)).toEqual([...rows.map((r) => r.sizeBytes)].sort((a, b) => b - a));
  });
});

describe("markBlocks / unmarkBlocks", () => {
  it("refuses the last copy of a range, marks a covered block in both places and the index, idempotently", async () => {
    const [c] = await markBlocks(store, { tenant: "team-a", blocks: [C], kind: "deletion" });
    expect(c).toMatchObject({ status: "refused", ok: false });
    expect(c!.message).toMatch(
      /^last copy of 2026-01-01T00:00:00Z\.\.2026-01-01T03:59:45\.001Z \(raw, \{cluster="a"\}\)/,
    );
    expect(await keys(`team-a/${C}/deletion`)).toEqual([]);

    const [a] = await markBlocks(store, {
      tenant: "team-a",
      blocks: [A],
      kind: "deletion",
      now: () => 1_800_000_000_000,
    });
    expect(a).toMatchObject({ status: "marked", ok: true });
    expect(a!.message).toMatch(/bucket index updated$/);
    expect(await keys(`team-a/markers/${A}`)).toEqual([`team-a/markers/${A}-deletion-mark.json`]);
    const body = `{"id":"${A}","version":1,"deletion_time":1800000000}`;
    expect(new TextDecoder().decode((await store.get(`team-a/${A}/deletion-mark.json`))!.body)).toBe(body);
    expect(await indexMarks("team-a")).toEqual([{ block_id: A, deletion_time: 1_800_000_000 }]);
    expect((await row("team-a", A)).marks.deletion).toEqual({ time: 1_800_000_000 });

    const [again] = await markBlocks(store, { tenant: "team-a", blocks: [A], kind: "deletion" });
    expect(again).toMatchObject({ status: "already-marked", ok: true });
    // A lost mirror is restored from the copy next to the block.
    await store.delete(`team-a/markers/${A}-deletion-mark.json`);
    const [restored] = await markBlocks(store, { tenant: "team-a", blocks: [A], kind: "deletion" });
    expect(restored!.message).toMatch(/restored/);
    expect((await store.get(`team-a/markers/${A}-deletion-mark.json`))?.body).toBeDefined();

    const [differs] = await markBlocks(store, { tenant: "team-a", blocks: [A], kind: "deletion", details: "why" });
    expect(differs).toMatchObject({ status: "differs", ok: false });
    const [replaced] = await markBlocks(store, {
      tenant: "team-a",
      blocks: [A],
      kind: "deletion",
      details: "why",
      force: true,
      now: () => 1_900_000_000_000,
    });
    expect(replaced).toMatchObject({ status: "replaced", ok: true });
    expect(await indexMarks("team-a")).toEqual([{ block_id: A, deletion_time: 1_900_000_000 }]);

    // With A going, B is still covered by C; C then holds the only copy, marked or not in the same call.
    const [b, c2] = await markBlocks(store, { tenant: "team-a", blocks: [B, C], kind: "deletion" });
    expect(b).toMatchObject({ status: "marked" });
    expect(c2).toMatchObject({ status: "refused" });

    const [ua] = await unmarkBlocks(store, { tenant: "team-a", blocks: [A], kind: "deletion" });
    expect(ua).toMatchObject({
      status: "unmarked",
      ok: true,
      keys: [`team-a/${A}/deletion-mark.json`, `team-a/markers/${A}-deletion-mark.json`],
    });
    expect(await indexMarks("team-a")).toEqual([expect.objectContaining({ block_id: B })]);
    const [ua2] = await unmarkBlocks(store, { tenant: "team-a", blocks: [A], kind: "deletion" });
    expect(ua2).toMatchObject({ status: "not-marked", ok: true });
    await unmarkBlocks(store, { tenant: "team-a", blocks: [B], kind: "deletion" });
    expect(await indexMarks("team-a")).toEqual([]);
  });

  it("writes no-compact and no-downsample marks with their mirrors; a dry run writes nothing", async () => {
    const dry = await markBlocks(store, { tenant: "team-a", blocks: [B], kind: "no-compact", dryRun: true });
    expect(dry[0]).toMatchObject({ status: "would-mark", ok: true });
    expect(dry[0]!.message).toMatch(/reason "manual"/);
    expect(await keys(`team-a/${B}/no-compact`)).toEqual([]);

    const [nc] = await markBlocks(store, { tenant: "team-a", blocks: [B], kind: "no-compact", details: "looking" });
    expect(nc).toMatchObject({ status: "marked" });
    expect((await row("team-a", B)).marks.noCompact).toMatchObject({ reason: "manual", details: "looking" });
    const [other] = await markBlocks(store, { tenant: "team-a", blocks: [B], kind: "no-compact", reason: "other" });
    expect(other).toMatchObject({ status: "differs", ok: false });
    const [same] = await markBlocks(store, { tenant: "team-a", blocks: [B], kind: "no-compact" });
    expect(same).toMatchObject({ status: "already-marked", ok: true });

    const [nd] = await markBlocks(store, { tenant: "team-a", blocks: [B], kind: "no-downsample" });
    expect(nd).toMatchObject({ status: "marked" });
    expect((await row("team-a", B)).marks.noDownsample).toMatchObject({ reason: "manual" });
    expect(await keys(`team-a/markers/${B}`)).toEqual([
      `team-a/markers/${B}-no-compact-mark.json`,
      `team-a/markers/${B}-no-downsample-mark.json`,
    ]);
    const dryUn = await unmarkBlocks(store, { tenant: "team-a", blocks: [B], kind: "no-downsample", dryRun: true });
    expect(dryUn[0]).toMatchObject({ status: "would-unmark" });
    for (const kind of ["no-compact", "no-downsample"] as const)
      expect((await unmarkBlocks(store, { tenant: "team-a", blocks: [B], kind }))[0]).toMatchObject({
        status: "unmarked",
      });
    expect(await keys(`team-a/markers/${B}`)).toEqual([]);
    expect((await row("team-a", B)).marks).toEqual({});
  });

  it("reports a missing block, refuses a block without meta.json and a quarantine unless forced", async () => {
    const missing = blockUlid(T0, 42);
    for (const r of [
      await markBlocks(store, { tenant: "team-a", blocks: [missing], kind: "no-compact" }),
      await unmarkBlocks(store, { tenant: "team-a", blocks: [missing], kind: "no-compact" }),
    ])
      expect(r[0]).toMatchObject({ status: "not-found", ok: false });

    const [p] = await markBlocks(store, { tenant: "team-a", blocks: [P], kind: "deletion" });
    expect(p).toMatchObject({ status: "refused" });
    expect(p!.message).toMatch(/^no meta\.json .*--force/);
    expect(
      (await markBlocks(store, { tenant: "team-a", blocks: [P], kind: "deletion", force: true }))[0],
    ).toMatchObject({
      status: "marked",
    });
    expect((await unmarkBlocks(store, { tenant: "team-a", blocks: [P], kind: "deletion" }))[0]).toMatchObject({
      status: "refused",
    });
    expect(
      (await unmarkBlocks(store, { tenant: "team-a", blocks: [P], kind: "deletion", force: true }))[0],
    ).toMatchObject({ status: "unmarked" });

    // A broken meta.json cannot show that another block holds the data.
    const [x] = await markBlocks(store, { tenant: "team-a", blocks: [X], kind: "deletion" });
    expect(x).toMatchObject({ status: "refused" });
    expect(x!.message).toMatch(/last copy/);

    const [q] = await unmarkBlocks(store, { tenant: "team-a", blocks: [Q], kind: "no-compact" });
    expect(q).toMatchObject({ status: "refused", ok: false });
    expect(q!.message).toMatch(/strata quarantine release/);
  });

  it("marks a block of a tenant without a bucket index, and replaces an unreadable mark only when forced", async () => {
    const [r] = await markBlocks(store, { tenant: "", blocks: [R], kind: "deletion", force: true });
    expect(r!.message).toMatch(/no bucket index yet/);
    expect(await keys(`markers/`)).toEqual([`markers/${R}-deletion-mark.json`]);
    expect(await store.head("bucket-index.json.gz")).toBeUndefined();
    await store.put(`${R}/no-compact-mark.json`, "{");
    const [bad] = await markBlocks(store, { tenant: "", blocks: [R], kind: "no-compact" });
    expect(bad).toMatchObject({ status: "differs" });
    expect(bad!.message).toMatch(/unreadable no-compact-mark\.json.*does not parse/);
    const [fixed] = await markBlocks(store, { tenant: "", blocks: [R], kind: "no-compact", force: true });
    expect(fixed).toMatchObject({ status: "replaced" });
  });
});
