// The whole life of a bucket (issue 13): fifteen days of 2h blocks for two tenants, an
// independent model of Thanos' 5m/1h aggregates computed from the raw samples, and the reads
// the lifecycle test checks the bucket with. The first 14 days are aligned to the 14d range,
// so the fifteenth makes that window due.
import { BlockReader, AggrType, decodeAggrChunk, decodeXOR, labelsToString, Encoding } from "@strata/tsdb";
import { StoreBlockSource, BucketLayout, type ObjectStore } from "@strata/bucket";
import { generateOpenMetrics } from "@strata/testkit/openmetrics";
import type { TempDirs } from "@strata/testkit/tmp";
import { promtoolDumpDb } from "./dump.ts";
import {
  REPLICA_LABEL,
  addThanosLabels,
  corruptFirstChunk,
  fnv1a,
  promtoolBlocks,
  withoutSeries,
  type InputBlock,
} from "./fixtures.ts";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
const RANGE_14D = 14 * DAY;
/** The first 14d boundary after 2023-01-01 minus one range: data starts on a 14d window. */
export const START = Math.floor(1672531200000 / RANGE_14D) * RANGE_14D;
export const DAYS = 15;
export const LIFE_A = "life-a";
export const LIFE_B = "life-b";
/** Tenant B's corrupted window and the one uploaded meta.json first (2h windows since START). */
export const CORRUPT_WINDOW = 30;
export const META_FIRST_WINDOW = 41;

export interface LifeScenario {
  blocks: (InputBlock & { metaFirst: boolean })[];
  /** Per tenant, the deduplicated raw samples (`promtool tsdb dump` lines) of every good upload. */
  dumps: Record<string, string[]>;
}

const SERIES = 6;
const INTERVAL_MS = 120_000;
/** Plain numbers: aggregates compare exactly without NaN, infinities or overflow in the way. */
const FEATURES = {
  counterResets: true,
  specialValues: false,
  extremeFloats: false,
  exponentIntegers: false,
  gaps: false,
  jitter: false,
  unicode: false,
  escapes: false,
  goQuoting: false,
  metadata: false,
};

export async function buildLifeScenario(tmp: TempDirs): Promise<LifeScenario> {
  const dir = await tmp.make("e2e-life");
  const gen = (seed: number) =>
    generateOpenMetrics({
      seed,
      series: SERIES,
      startMs: START,
      durationMs: DAYS * DAY,
      intervalMs: INTERVAL_MS,
      features: FEATURES,
    }).text;
  const a = gen(9101);
  const r1 = await promtoolBlocks(
    dir,
    "life-a-r1",
    withoutSeries(a, (s) => fnv1a(s) % 5 === 0),
  );
  const r2 = await promtoolBlocks(
    dir,
    "life-a-r2",
    withoutSeries(a, (s) => fnv1a(s) % 5 === 1),
  );
  const b = await promtoolBlocks(dir, "life-b", gen(9102));
  const blocks: LifeScenario["blocks"] = [];
  const windowOf = (minTime: number) => Math.floor((minTime - START) / (2 * HOUR));
  for (const [replica, made] of [
    ["r1", r1],
    ["r2", r2],
  ] as const) {
    for (const blk of made) {
      const meta = await addThanosLabels(blk.dir, { cluster: "life", [REPLICA_LABEL]: replica });
      blocks.push({
        tenant: LIFE_A,
        ulid: blk.ulid,
        dir: blk.dir,
        meta,
        window: windowOf(meta.minTime),
        replica,
        corrupt: false,
        metaFirst: false,
      });
    }
  }
  for (const blk of b) {
    const window = windowOf(blk.meta.minTime);
    if (window === CORRUPT_WINDOW) await corruptFirstChunk(blk.dir);
    blocks.push({
      tenant: LIFE_B,
      ulid: blk.ulid,
      dir: blk.dir,
      meta: blk.meta,
      window,
      replica: "",
      corrupt: window === CORRUPT_WINDOW,
      metaFirst: window === META_FIRST_WINDOW,
    });
  }
  if (blocks.filter((x) => x.tenant === LIFE_B).length !== DAYS * 12)
    throw new Error(`expected ${DAYS * 12} blocks for ${LIFE_B}, promtool made ${b.length}`);
  blocks.sort((x, y) => x.window - y.window || x.tenant.localeCompare(y.tenant) || x.replica.localeCompare(y.replica));
  const [dumpA, dumpB] = await Promise.all([
    promtoolDumpDb(blocks.filter((x) => x.tenant === LIFE_A).map((x) => x.dir)),
    promtoolDumpDb(blocks.filter((x) => x.tenant === LIFE_B && !x.corrupt).map((x) => x.dir)),
  ]);
  return { blocks, dumps: { [LIFE_A]: dumpA, [LIFE_B]: dumpB } };
}

// --- the aggregates, computed plainly from raw samples ---------------------------------

/** count, sum, min, max of one window. */
export type Agg = [count: number, sum: number, min: number, max: number];

/** `{labels}` → window index (floor(t / res)) → aggregates, from `promtool tsdb dump` lines within [minT, maxT). */
export function modelAggregates(
  dump: readonly string[],
  res: number,
  minT: number,
  maxT: number,
): Map<string, Map<number, Agg>> {
  const out = new Map<string, Map<number, Agg>>();
  for (const line of dump) {
    const end = line.lastIndexOf(" ");
    const mid = line.lastIndexOf(" ", end - 1);
    const t = Number(line.slice(end + 1));
    if (t < minT || t >= maxT) continue;
    const v = Number(line.slice(mid + 1, end));
    const key = line.slice(0, mid);
    let series = out.get(key);
    if (!series) out.set(key, (series = new Map()));
    const w = Math.floor(t / res);
    const a = series.get(w);
    if (!a) series.set(w, [1, v, v, v]);
    else {
      a[0]++;
      a[1] += v;
      a[2] = Math.min(a[2], v);
      a[3] = Math.max(a[3], v);
    }
  }
  return out;
}

/** The same, read from a downsampled block's aggregate chunks (count, sum, min, max). */
export async function blockAggregates(
  store: ObjectStore,
  tenant: string,
  block: string,
  res: number,
): Promise<Map<string, Map<number, Agg>>> {
  const reader = await BlockReader.open(new StoreBlockSource(store, new BucketLayout().blockPrefix(tenant, block)));
  const out = new Map<string, Map<number, Agg>>();
  const ts = new Float64Array(1 << 16);
  const vs = new Float64Array(1 << 16);
  try {
    for await (const s of reader.series()) {
      const series = new Map<number, Agg>();
      out.set(labelsToString(s.labels), series);
      for (const c of s.chunks) {
        if (c.chunk?.encoding !== Encoding.Aggr)
          throw new Error(
            `${block}: ${labelsToString(s.labels)} has a chunk of encoding ${c.chunk?.encoding}, not an aggregate`,
          );
        const parts = decodeAggrChunk(c.chunk.data);
        const cols: Map<number, number>[] = [AggrType.Count, AggrType.Sum, AggrType.Min, AggrType.Max].map((k) => {
          const m = new Map<number, number>();
          const p = parts[k];
          if (!p) return m;
          const n = decodeXOR(p.data, ts, vs);
          for (let i = 0; i < n; i++) m.set(Math.floor(ts[i]! / res), vs[i]!);
          return m;
        });
        // A coarser window can be split over two output chunks (batches follow the input's
        // chunk boundaries, as in Thanos): its parts add up.
        for (const [w, count] of cols[0]!) {
          const part: Agg = [count, cols[1]!.get(w) ?? NaN, cols[2]!.get(w) ?? NaN, cols[3]!.get(w) ?? NaN];
          const prev = series.get(w);
          series.set(
            w,
            prev
              ? [prev[0] + part[0], prev[1] + part[1], Math.min(prev[2], part[2]), Math.max(prev[3], part[3])]
              : part,
          );
        }
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** Differences between two aggregate maps (sums compared with a relative tolerance of 1e-9), at most `max` lines. */
export function diffAggregates(
  expected: Map<string, Map<number, Agg>>,
  actual: Map<string, Map<number, Agg>>,
  max = 10,
): string[] {
  const out: string[] = [];
  const close = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  for (const [k, e] of expected) {
    const a = actual.get(k);
    if (!a) {
      out.push(`${k}: missing`);
      continue;
    }
    for (const [w, ev] of e) {
      const av = a.get(w);
      if (!av || !ev.every((x, i) => close(x, av[i]!)))
        out.push(`${k} window ${w}: expected ${ev.join(",")}, found ${av?.join(",") ?? "nothing"}`);
      if (out.length >= max) return out;
    }
    if (a.size !== e.size) out.push(`${k}: ${a.size} windows, expected ${e.size}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) out.push(`${k}: not expected`);
  return out.slice(0, max);
}
