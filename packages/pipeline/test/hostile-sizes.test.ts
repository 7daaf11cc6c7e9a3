// Objects anyone may write are read with a cap, through the real bindings over a directory
// bucket: a meta.json of 3 MiB (the cap is 1 MiB) is quarantined with its real size in the
// reason, and no read of it returns more than the cap and one byte; a verification record of
// 20 MiB is not trusted and costs no more than its cap either.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore, type ObjectStore } from "@strata/bucket";
import { MAX_META_BYTES } from "@strata/tsdb";
import {
  VERIFIED_FILE,
  bindPipeline,
  handleRecord,
  jsonLogger,
  pipelineLayout,
  type WorkerDeps,
} from "@strata/pipeline";
import { writeStoreBlock } from "./store-blocks.ts";

const layout = pipelineLayout();
let dir: string;
let store: FsStore;
let deps: WorkerDeps;
/** The largest body a get returned, per key. */
const largest = new Map<string, number>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-hostile-sizes-"));
  store = new FsStore(dir);
  const counted: ObjectStore = Object.create(store);
  counted.get = async (key, range) => {
    const r = await store.get(key, range);
    if (r) largest.set(key, Math.max(largest.get(key) ?? 0, r.body.length));
    return r;
  };
  deps = bindPipeline({ store: counted, queue: { send: async () => undefined }, log: jsonLogger(() => undefined) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("hostile object sizes", () => {
  it("a 3 MiB meta.json is quarantined with its size, read no further than the cap", async () => {
    const m = await writeStoreBlock(store, "team-h", Date.UTC(2026, 0, 1), 1);
    const key = layout.metaKey("team-h", m.ulid);
    const text = new TextDecoder().decode((await store.get(key))!.body);
    const padded = text.replace(/}\s*$/, `, "padding": "${"x".repeat(3 << 20)}"}\n`);
    await store.put(key, padded);
    const r = await handleRecord(JSON.stringify({ version: 1, type: "verify", tenant: "team-h", block: m.ulid }), deps);
    expect(r.results[0]).toMatchObject({ status: "quarantined" });
    expect(r.results[0]!.reason).toMatch(/meta\.json too large.*found 314\d{4} bytes/);
    expect(largest.get(key)).toBeLessThanOrEqual(MAX_META_BYTES + 1);
  });

  it("a 20 MiB verification record is not trusted and is read no further than its cap", async () => {
    const m = await writeStoreBlock(store, "team-h", Date.UTC(2026, 0, 2), 2);
    const key = layout.blockFile("team-h", m.ulid, VERIFIED_FILE);
    await store.put(key, new Uint8Array(20 << 20).fill(0x20));
    const r = await handleRecord(JSON.stringify({ version: 1, type: "verify", tenant: "team-h", block: m.ulid }), deps);
    expect(r.results[0]!.status).toBe("done"); // verified in full, as without a record
    expect(largest.get(key)).toBeLessThanOrEqual((16 << 20) + 1);
  });
});
