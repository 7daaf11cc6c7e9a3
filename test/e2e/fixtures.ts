// The end-to-end scenario of issue 7, built once per test file: twelve 2h blocks made by
// `promtool tsdb create-blocks-from openmetrics` for two tenants, and the final bucket state
// the pipeline must converge to, derived from the inputs alone (so the fault-free run and the
// run with injected faults are held to the same expectation).
//
// - Tenant A ("team-a"): an HA pair. One seeded OpenMetrics text over 6h (three 2h windows),
//   scraped by replicas r1 and r2: the same series with the same samples, except that each
//   replica misses a few whole series (a target only the other one reached). The blocks carry
//   the external labels {cluster="a", replica="r1|r2"} in a Thanos meta.json section. The
//   planner sees the pairs as overlapping blocks of one group and compacts each window
//   vertically with deduplication: three live 2h blocks holding the union of the replicas.
// - Tenant B ("team-b"): plain Prometheus blocks over 12h (six 2h windows), the second one
//   corrupted (a flipped byte inside a chunk). It is quarantined; of the five good blocks the
//   newest is held back by the planner, which makes the first 8h window due: w0+w2+w3 become
//   one block (with w1's gap), w4 and w5 stay.
import { readFile, writeFile, open } from "node:fs/promises";
import { join } from "node:path";
import { parseMeta, serializeMeta, type BlockMeta } from "@strata/tsdb";
import { generateOpenMetrics, JAN_2023_MS } from "@strata/testkit/openmetrics";
import { createBlocksFromOpenMetrics } from "@strata/testkit/promtool";
import type { TempDirs } from "@strata/testkit/tmp";
import { promtoolDumpDb } from "./dump.ts";

export const HOUR = 3_600_000;
export const TENANT_A = "team-a";
export const TENANT_B = "team-b";
export const REPLICA_LABEL = "replica";
/** Which of tenant B's six windows gets the corrupted block. */
export const CORRUPT_WINDOW = 1;

export interface InputBlock {
  tenant: string;
  ulid: string;
  dir: string;
  meta: BlockMeta;
  /** 0-based 2h window since the start of the data. */
  window: number;
  /** "r1" / "r2" for tenant A, "" for tenant B. */
  replica: string;
  corrupt: boolean;
}

export interface Expected {
  /** Per tenant: [minTime, maxTime) of every live (indexed, not deletion-marked) raw block, sorted. */
  liveRanges: Record<string, [number, number][]>;
  /** Per tenant: `promtool tsdb dump` lines of everything uploaded (good blocks only), replica pairs collapsed. */
  dumps: Record<string, string[]>;
  /** Uploaded blocks that must end with a deletion mark (compacted away). */
  markedForDeletion: string[];
  /** Uploaded blocks that must stay live as they are. */
  untouched: string[];
  /** The corrupted block: quarantined, never indexed. */
  quarantined: InputBlock;
  /** Tenant B's 8h output: the ranges of its sources, and the window it must fit in. */
  eightHour: { range: [number, number]; window: [number, number] };
}

export interface Scenario {
  /** Upload order: by window, then replica (as sidecars would ship them). */
  blocks: InputBlock[];
  expected: Expected;
}

/** FNV-1a 32 of a string: a stable, seed-free choice of which series a replica misses. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The series part of an OpenMetrics sample line (`metric{labels}`): everything before the value and timestamp. */
function seriesOf(line: string): string {
  const last = line.lastIndexOf(" ");
  return line.slice(0, line.lastIndexOf(" ", last - 1));
}

/** The text without the sample lines of series for which `drop` is true. */
export function withoutSeries(text: string, drop: (series: string) => boolean): string {
  return text
    .split("\n")
    .filter((l) => l.startsWith("#") || l === "" || !drop(seriesOf(l)))
    .join("\n");
}

/** Adds the Thanos section a sidecar would write (external labels, raw resolution), Thanos-style bytes. */
export async function addThanosLabels(dir: string, labels: Record<string, string>): Promise<BlockMeta> {
  const file = join(dir, "meta.json");
  const meta = parseMeta(await readFile(file));
  meta.thanos = { version: 1, labels, downsample: { resolution: 0 }, source: "sidecar" };
  await writeFile(file, serializeMeta(meta, { style: "thanos" }));
  return meta;
}

/**
 * Flips one byte inside the data of the block's first chunk: past the 8-byte segment header,
 * the chunk's length varint (1–2 bytes) and encoding byte, so the chunk's CRC32 no longer
 * matches (a `BadChecksum`, severity reject).
 */
export async function corruptFirstChunk(dir: string): Promise<void> {
  const f = await open(join(dir, "chunks", "000001"), "r+");
  try {
    const buf = Buffer.alloc(1);
    const at = 8 + 2 + 3;
    await f.read(buf, 0, 1, at);
    buf[0]! ^= 0xff;
    await f.write(buf, 0, 1, at);
  } finally {
    await f.close();
  }
}

function windowOf(meta: BlockMeta, start: number): number {
  return Math.floor((meta.minTime - start) / (2 * HOUR));
}

export async function promtoolBlocks(
  dir: string,
  name: string,
  text: string,
): Promise<{ ulid: string; dir: string; meta: BlockMeta }[]> {
  const om = join(dir, `${name}.om`);
  await writeFile(om, text);
  const made = await createBlocksFromOpenMetrics(om, join(dir, name));
  return made.map((b) => ({ ulid: b.ulid, dir: b.dir, meta: b.meta as unknown as BlockMeta }));
}

const SERIES = 30;
const INTERVAL_MS = 60_000;

/** Builds the twelve blocks and the expected final state (five promtool runs, 1–3 s). */
export async function buildScenario(tmp: TempDirs): Promise<Scenario> {
  const dir = await tmp.make("e2e-fixture");
  const start = JAN_2023_MS; // a multiple of 2h: promtool's windows are the planner's windows

  // Tenant A: one text, two replicas each missing about one series in seven.
  const a = generateOpenMetrics({
    seed: 7001,
    series: SERIES,
    startMs: start,
    durationMs: 6 * HOUR,
    intervalMs: INTERVAL_MS,
  });
  const r1 = await promtoolBlocks(
    dir,
    "a-r1",
    withoutSeries(a.text, (s) => fnv1a(s) % 7 === 0),
  );
  const r2 = await promtoolBlocks(
    dir,
    "a-r2",
    withoutSeries(a.text, (s) => fnv1a(s) % 7 === 1),
  );
  // Tenant B: six windows.
  const b = generateOpenMetrics({
    seed: 7002,
    series: SERIES,
    startMs: start,
    durationMs: 12 * HOUR,
    intervalMs: INTERVAL_MS,
  });
  const bBlocks = await promtoolBlocks(dir, "b", b.text);

  if (r1.length !== 3 || r2.length !== 3)
    throw new Error(`expected 3 blocks per replica, promtool made ${r1.length} and ${r2.length}`);
  if (bBlocks.length !== 6) throw new Error(`expected 6 blocks for tenant B, promtool made ${bBlocks.length}`);

  const blocks: InputBlock[] = [];
  for (const [replica, made] of [
    ["r1", r1],
    ["r2", r2],
  ] as const) {
    for (const blk of made) {
      const meta = await addThanosLabels(blk.dir, { cluster: "a", [REPLICA_LABEL]: replica });
      blocks.push({
        tenant: TENANT_A,
        ulid: blk.ulid,
        dir: blk.dir,
        meta,
        window: windowOf(meta, start),
        replica,
        corrupt: false,
      });
    }
  }
  for (const blk of bBlocks) {
    const window = windowOf(blk.meta, start);
    if (window === CORRUPT_WINDOW) await corruptFirstChunk(blk.dir);
    blocks.push({
      tenant: TENANT_B,
      ulid: blk.ulid,
      dir: blk.dir,
      meta: blk.meta,
      window,
      replica: "",
      corrupt: window === CORRUPT_WINDOW,
    });
  }
  for (const [i, w] of [...r1, ...r2].map((x) => windowOf(x.meta, start)).entries()) {
    if (w !== i % 3) throw new Error(`tenant A block ${i} is in window ${w}, expected ${i % 3}`);
  }
  blocks.sort((x, y) => x.window - y.window || x.tenant.localeCompare(y.tenant) || x.replica.localeCompare(y.replica));

  const aBlocks = blocks.filter((x) => x.tenant === TENANT_A);
  const bGood = blocks.filter((x) => x.tenant === TENANT_B && !x.corrupt);
  const quarantined = blocks.find((x) => x.corrupt)!;
  const bw = (w: number) => bGood.find((x) => x.window === w)!;

  const aRanges: [number, number][] = [0, 1, 2].map((w) => {
    const pair = aBlocks.filter((x) => x.window === w);
    return [Math.min(...pair.map((x) => x.meta.minTime)), Math.max(...pair.map((x) => x.meta.maxTime))];
  });
  const eight: [number, number] = [bw(0).meta.minTime, bw(3).meta.maxTime];
  const bRanges: [number, number][] = [
    eight,
    [bw(4).meta.minTime, bw(4).meta.maxTime],
    [bw(5).meta.minTime, bw(5).meta.maxTime],
  ];

  // promtool's querier merges overlapping blocks sample by sample (equal timestamps once), which
  // is exactly the deduplicated union of the replicas.
  const [dumpA, dumpB] = await Promise.all([
    promtoolDumpDb(aBlocks.map((x) => x.dir)),
    promtoolDumpDb(bGood.map((x) => x.dir)),
  ]);
  const r1Samples = aBlocks
    .filter((x) => x.replica === "r1")
    .reduce((s, x) => s + Number(x.meta.stats.numSamples ?? 0), 0);
  const r2Samples = aBlocks
    .filter((x) => x.replica === "r2")
    .reduce((s, x) => s + Number(x.meta.stats.numSamples ?? 0), 0);
  if (!(dumpA.length > r1Samples && dumpA.length > r2Samples && dumpA.length < r1Samples + r2Samples)) {
    throw new Error(
      `tenant A's union (${dumpA.length} samples) must exceed either replica (${r1Samples}, ${r2Samples}) and be less than both together`,
    );
  }
  const bSamples = bGood.reduce((s, x) => s + Number(x.meta.stats.numSamples ?? 0), 0);
  if (dumpB.length !== bSamples) throw new Error(`tenant B's dump has ${dumpB.length} samples, its metas ${bSamples}`);

  return {
    blocks,
    expected: {
      liveRanges: { [TENANT_A]: aRanges, [TENANT_B]: bRanges },
      dumps: { [TENANT_A]: dumpA, [TENANT_B]: dumpB },
      markedForDeletion: [...aBlocks, bw(0), bw(2), bw(3)].map((x) => x.ulid).sort(),
      untouched: [bw(4).ulid, bw(5).ulid].sort(),
      quarantined,
      eightHour: { range: eight, window: [start, start + 8 * HOUR] },
    },
  };
}

/** One line per uploaded block (tenant, replica, window, ULID), to read a failing run's log by. */
export function describeScenario(sc: Scenario): string {
  return sc.blocks
    .map((b) => `${b.tenant}${b.replica ? "/" + b.replica : ""} w${b.window} ${b.ulid}${b.corrupt ? " (corrupt)" : ""}`)
    .join("\n");
}
