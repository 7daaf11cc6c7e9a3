/**
 * The bucket index at 1k, 10k and 100k blocks per tenant (issue 17's targets):
 *  - one update (a compaction's: an output added, three inputs marked) in CPU milliseconds,
 *    warm (the worker has read the tenant's index before; another writer changed it since)
 *    and cold (a fresh worker). Target: ≤ 300 ms at 100k.
 *  - planning a tenant (`blocks()`, what plan, retention and compact jobs read) by a cold
 *    worker: objects read, and CPU. Target: ≤ 100 GETs at 100k.
 * On a local directory bucket (FsStore), so the figures are the work's, not a network's.
 * Medians of 5 rounds.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { emit, markBaseline, type BenchResult } from "@strata/bench";
import {
  BucketIndexUpdater,
  FsStore,
  blockFromMeta,
  emptyIndex,
  encodeIndex,
  normalizeIndex,
  type IndexBlock,
  type ObjectStore,
} from "@strata/bucket";
import { newUlid, serializeMeta, type BlockMeta } from "@strata/tsdb";
import { StoreBucketIndex, pipelineLayout } from "../src/index.ts";

const layout = pipelineLayout();
const H2 = 7_200_000;
const ROUNDS = 5;
const UPDATE_TARGET_MS = 300;
const PLAN_TARGET_GETS = 100;
const NEW_SINCE_CACHE = 50;

function meta(i: number): BlockMeta {
  const minTime = 1_600_000_000_000 + i * H2;
  const rand = new Uint8Array(10);
  for (let k = 0; k < 4; k++) rand[k] = (i >> (8 * k)) & 255;
  const ulid = newUlid(minTime + H2, rand);
  return {
    ulid,
    minTime,
    maxTime: minTime + H2,
    stats: { numSamples: 123_456_789n, numSeries: 50_000n, numChunks: 1_000_000n },
    compaction: { level: 1 + (i % 4), sources: [ulid] },
    version: 1,
    thanos: {
      labels: { cluster: "eu-west-1", replica: `r${i % 2}`, tenant_id: "team-a" },
      source: "receive",
      downsample: { resolution: 0 },
      segment_files: ["000001"],
      files: [
        { rel_path: "chunks/000001", size_bytes: 536_870_912 },
        { rel_path: "index", size_bytes: 23_456_789 },
        { rel_path: "meta.json" },
      ],
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
// A full collection before each measured step, so it pays for its own garbage only, not for
// what the set-up (and the "other writer" in this same process) left behind.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const cpuMs = async (fn: () => Promise<unknown>) => {
  gc();
  const c = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
};

function counting(store: ObjectStore): ObjectStore & { gets: number } {
  const c = Object.assign(Object.create(store) as ObjectStore, { gets: 0 });
  c.get = (...a: Parameters<ObjectStore["get"]>) => {
    c.gets++;
    return store.get(...a);
  };
  return c;
}

markBaseline();
const dir = await mkdtemp(join(tmpdir(), "strata-index-bench-"));
const results: BenchResult[] = [];
try {
  const store = new FsStore(dir);
  for (const n of [1_000, 10_000, 100_000]) {
    const tenant = `t${n}`;
    const metas = Array.from({ length: n + NEW_SINCE_CACHE }, (_, i) => meta(i));
    const idx = emptyIndex();
    idx.blocks = metas.slice(0, n).map((m) => blockFromMeta(m, 1_600_000_000));
    await store.put(layout.indexKey(tenant), encodeIndex(normalizeIndex(idx)));
    const entry = (i: number): IndexBlock => blockFromMeta(meta(10_000_000 + i), 1_700_000_000);

    // One update, as a compaction's: add its output, mark its three inputs.
    const other = new BucketIndexUpdater(store, { layout });
    const warm = new BucketIndexUpdater(store, { layout });
    await warm.read(tenant);
    const warmMs: number[] = [];
    const coldMs: number[] = [];
    let k = 0;
    for (let r = 0; r < ROUNDS; r++) {
      await other.apply(tenant, { add: [entry(k++)] }); // another writer since: the warm worker decodes one new entry
      const inputs = metas.slice(3 * r, 3 * r + 3).map((m) => ({ block_id: m.ulid, deletion_time: 1_700_000_000 }));
      warmMs.push(await cpuMs(() => warm.apply(tenant, { add: [entry(k++)], mark: inputs })));
      const cold = new BucketIndexUpdater(store, { layout });
      coldMs.push(await cpuMs(() => cold.apply(tenant, { add: [entry(k++)] })));
    }
    const w = median(warmMs);
    const c = median(coldMs);
    process.stderr.write(
      `index update at ${n} blocks: warm ${w.toFixed(0)} ms CPU, cold ${c.toFixed(0)} ms` +
        (n === 100_000 ? ` (target ≤ ${UPDATE_TARGET_MS} ms warm${w > UPDATE_TARGET_MS ? ": MISSED" : ""})` : "") +
        "\n",
    );
    results.push({
      name: `index update, ${n / 1000}k blocks (warm; cold ${c.toFixed(0)} ms)`,
      samples: 0,
      bytes: 0,
      seconds: w / 1000,
      target: n === 100_000 ? `≤ ${UPDATE_TARGET_MS} ms CPU` : undefined,
    });

    // Planning by a cold worker: a cache object written by an earlier planning, and metas
    // of blocks indexed since (their meta.json only; nothing else is read).
    const texts: Record<string, string> = {};
    for (const m of metas.slice(0, n)) texts[m.ulid] = serializeMeta(m, { style: "thanos" });
    await store.put(layout.metaCacheKey(tenant), gzipSync(JSON.stringify({ version: 1, metas: texts }), { level: 1 }));
    const fresh = metas.slice(n);
    for (const m of fresh) await store.put(layout.metaKey(tenant, m.ulid), serializeMeta(m, { style: "thanos" }));
    await other.apply(tenant, { add: fresh.map((m) => blockFromMeta(m, 1_700_000_000)) });
    const c2 = counting(store);
    let live = 0;
    const t0 = performance.now();
    const planMs = await cpuMs(async () => {
      live = (await new StoreBucketIndex(c2, layout).blocks(tenant)).length;
    });
    const wall = (performance.now() - t0) / 1000;
    process.stderr.write(
      `planning a ${n}-block tenant, cold: ${c2.gets} GETs (target ≤ ${PLAN_TARGET_GETS}${c2.gets > PLAN_TARGET_GETS ? ": MISSED" : ""}), ` +
        `${planMs.toFixed(0)} ms CPU, ${live} live blocks\n`,
    );
    results.push({
      name: `plan a ${n / 1000}k-block tenant, cold: ${c2.gets} GETs`,
      samples: 0,
      bytes: 0,
      seconds: wall,
      target: n === 100_000 ? `≤ ${PLAN_TARGET_GETS} GETs` : undefined,
    });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
emit(results);
