// `strata upload`'s operation over a directory bucket: which local folders are blocks, the
// upload order (meta.json last), the byte events, and every block it refuses (fails
// verification, different meta.json already there, tombstones, a meta naming another block).
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore, type ObjectStore } from "@strata/bucket";
import { DirBlockSink } from "@strata/tsdb/node";
import { findLocalBlocks, uploadBlocks, type UploadEvent } from "@strata/pipeline/operations";
import { HOUR, T0, blockUlid, writeBlock } from "./ops-blocks.ts";

let root: string;
let local: string;
const A = blockUlid(T0, 1);
const B = blockUlid(T0 + 2 * HOUR, 2);
const BAD = blockUlid(T0 + 4 * HOUR, 3);

async function makeBlock(parent: string, ulid: string, minT: number): Promise<string> {
  const sink = new DirBlockSink(parent, ulid);
  await writeBlock(sink, ulid, { minT });
  return sink.commit();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "strata-upload-"));
  local = join(root, "data");
  await mkdir(local);
  await makeBlock(local, A, T0);
  await makeBlock(local, B, T0 + 2 * HOUR);
  const bad = await makeBlock(local, BAD, T0 + 4 * HOUR);
  const seg = join(bad, "chunks", "000001");
  const bytes = Buffer.from(await readFile(seg));
  bytes[200]! ^= 0xff;
  await writeFile(seg, bytes);
  // What else a Prometheus data directory holds: not blocks.
  await mkdir(join(local, "wal"));
  await mkdir(join(local, "chunks_head"));
  await mkdir(join(local, `${blockUlid(T0, 9)}.tmp-for-creation`));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function bucket(): Promise<ObjectStore> {
  return new FsStore(await mkdtemp(join(root, "bucket-")));
}

describe("findLocalBlocks", () => {
  it("finds the ULID folders with a meta.json, or the block itself", async () => {
    const all = await findLocalBlocks(local);
    expect(all.blocks.map((b) => b.ulid)).toEqual([A, B, BAD]);
    expect(all.problems).toEqual([]);
    expect(all.blocks[0]!.bytes).toBeGreaterThan(1000);
    expect((await findLocalBlocks(join(local, A))).blocks.map((b) => b.ulid)).toEqual([A]);
    const some = await findLocalBlocks(local, [B.toLowerCase(), blockUlid(T0, 42)]);
    expect(some.blocks.map((b) => b.ulid)).toEqual([B]);
    expect(some.problems).toEqual([
      `${local}: no block ${blockUlid(T0, 42)} here (no folder ${blockUlid(T0, 42)} with a meta.json)`,
    ]);
  });

  it("reports a ULID folder without meta.json", async () => {
    const d = await mkdtemp(join(root, "partial-"));
    await mkdir(join(d, A));
    const r = await findLocalBlocks(d);
    expect(r.blocks).toEqual([]);
    expect(r.problems[0]).toMatch(/no meta\.json \(an incomplete block\)/);
  });
});

describe("uploadBlocks", () => {
  it("uploads verified blocks with meta.json last, skips what is there, refuses a broken block", async () => {
    const store = await bucket();
    const found = await findLocalBlocks(local);
    const events: UploadEvent[] = [];
    const order: string[] = [];
    const put = store.createWriter.bind(store);
    store.createWriter = (key, o) => (order.push(key), put(key, o));
    const out = await uploadBlocks(store, {
      tenant: "team-a",
      blocks: found.blocks,
      verify: true,
      onEvent: (e) => events.push(e),
    });
    expect(out.map((o) => [o.block, o.status, o.ok])).toEqual([
      [A, "uploaded", true],
      [B, "uploaded", true],
      [BAD, "failed", false],
    ]);
    expect(out[2]!.message).toMatch(/^fails verification, not uploaded: chunks\/000001@\d+: \w+ \[reject\]/);
    expect(order.filter((k) => k.includes(A))).toEqual([
      `team-a/${A}/chunks/000001`,
      `team-a/${A}/index`,
      `team-a/${A}/meta.json`,
    ]);
    const sent = events
      .filter((e) => e.type === "bytes" && e.block === A)
      .reduce((n, e) => n + (e as { bytes: number }).bytes, 0);
    expect(sent).toBe(found.blocks[0]!.bytes);
    expect(events.map((e) => e.type).filter((t) => t !== "bytes")).toEqual([
      "verifying",
      "uploading",
      "done",
      "verifying",
      "uploading",
      "done",
      "verifying",
      "done",
    ]);
    expect(await store.head(`team-a/${BAD}/meta.json`)).toBeUndefined();

    const again = await uploadBlocks(store, { tenant: "team-a", blocks: found.blocks.slice(0, 1), verify: true });
    expect(again[0]).toMatchObject({ status: "skipped", ok: true });
    expect(again[0]!.message).toMatch(/already in the bucket with the same meta\.json/);

    await store.put(`team-a/${B}/meta.json`, "{}");
    const clash = await uploadBlocks(store, { tenant: "team-a", blocks: [found.blocks[1]!], verify: true });
    expect(clash[0]).toMatchObject({ status: "failed", ok: false });
    expect(clash[0]!.message).toMatch(/exists with a different meta\.json; not overwritten$/);

    const unchecked = await uploadBlocks(store, { tenant: "", blocks: [found.blocks[2]!], verify: false });
    expect(unchecked[0]).toMatchObject({ status: "uploaded", ok: true });
    expect(await store.head(`${BAD}/meta.json`)).toBeDefined();
  });

  it("refuses a block with tombstones and one whose meta.json names another block", async () => {
    const d = await mkdtemp(join(root, "odd-"));
    const t = await makeBlock(d, A, T0);
    await writeFile(join(t, "tombstones"), Buffer.alloc(40, 1));
    const other = await makeBlock(d, B, T0);
    const meta = JSON.parse(await readFile(join(other, "meta.json"), "utf8"));
    await writeFile(join(other, "meta.json"), JSON.stringify({ ...meta, ulid: A }));
    const found = await findLocalBlocks(d);
    const out = await uploadBlocks(await bucket(), { tenant: "t", blocks: found.blocks, verify: true });
    expect(out[0]!.message).toMatch(/^has tombstones/);
    expect(out[1]!.message).toMatch(/names block .*, not its folder$/);
    expect(out.every((o) => !o.ok)).toBe(true);
  });

  it("takes a block folder of any name by its meta.json's ULID, and refuses a meta.json that does not parse", async () => {
    const d = await mkdtemp(join(root, "named-"));
    const made = await makeBlock(d, A, T0);
    const named = join(d, "my-block");
    await rename(made, named);
    const found = await findLocalBlocks(named);
    expect(found.blocks.map((b) => b.ulid)).toEqual([A]);
    const store = await bucket();
    expect((await uploadBlocks(store, { tenant: "t", blocks: found.blocks, verify: true }))[0]!.status).toBe(
      "uploaded",
    );
    await writeFile(join(named, "meta.json"), "{");
    const broken = await findLocalBlocks(named);
    expect(broken.blocks.map((b) => b.ulid)).toEqual(["my-block"]);
    const out = await uploadBlocks(store, { tenant: "t", blocks: broken.blocks, verify: true });
    expect(out[0]).toMatchObject({ status: "failed", ok: false });
    expect(out[0]!.message).toMatch(/meta\.json.*not valid JSON/);
  });
});
