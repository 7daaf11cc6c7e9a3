// Local blocks for the bucket-tool tests (`strata upload|ls|mark|unmark`): a folder shaped like
// a Prometheus data directory with two 2h blocks, the level-2 block that holds both, and a
// block whose chunk segment is corrupt (its verification fails).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BlockWriter, compareLabels, newUlid, type Label } from "@strata/tsdb";
import { DirBlockSink } from "@strata/tsdb/node";
import { addXorSeries } from "@strata/testkit";

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2026, 0, 1);

export interface Fixture {
  dir: string;
  /** 2h from T0, and 2h after it. */
  a: string;
  b: string;
  /** Level 2, sources a and b, T0 to T0 + 4h: covers both. */
  c: string;
  /** Corrupt chunks: fails verification. */
  bad: string;
}

async function block(
  parent: string,
  ulid: string,
  minT: number,
  hours: number,
  compaction: { level: number; sources: string[] },
): Promise<string> {
  const sink = new DirBlockSink(parent, ulid);
  const n = (hours * HOUR) / 15_000;
  const series = [0, 1, 2].map((i) => {
    const labels: Label[] = [
      { name: "__name__", value: "up" },
      { name: "instance", value: `host-${i}` },
    ];
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    for (let j = 0; j < n; j++) (ts[j] = minT + j * 15_000), (vs[j] = j);
    return { labels, ts, vs };
  });
  series.sort((x, y) => compareLabels(x.labels, y.labels));
  const w = new BlockWriter(sink);
  const { minTime, maxTime } = await addXorSeries(w, series);
  await w.finish({
    ulid,
    minTime,
    maxTime,
    stats: {},
    compaction,
    version: 1,
    thanos: { labels: { cluster: "eu1" }, source: "sidecar", downsample: { resolution: 0 } },
  });
  return sink.commit();
}

export async function makeFixture(parent: string): Promise<Fixture> {
  const dir = join(parent, "data");
  await mkdir(dir, { recursive: true });
  const id = (t: number, seed: number) => newUlid(t + 2 * HOUR, new Uint8Array(10).fill(seed));
  const a = id(T0, 1);
  const b = id(T0 + 2 * HOUR, 2);
  const c = id(T0, 3);
  const bad = id(T0 + 4 * HOUR, 4);
  await block(dir, a, T0, 2, { level: 1, sources: [a] });
  await block(dir, b, T0 + 2 * HOUR, 2, { level: 1, sources: [b] });
  await block(dir, c, T0, 4, { level: 2, sources: [a, b].sort() });
  const badDir = await block(dir, bad, T0 + 4 * HOUR, 2, { level: 1, sources: [bad] });
  const seg = join(badDir, "chunks", "000001");
  const bytes = Buffer.from(await readFile(seg));
  bytes[200]! ^= 0xff;
  await writeFile(seg, bytes);
  await mkdir(join(dir, "wal"));
  return { dir, a, b, c, bad };
}
