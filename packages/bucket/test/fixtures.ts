// Small blocks and meta.json files for the bucket tests.
import {
  BlockReader,
  BlockWriter,
  compareLabels,
  serializeMeta,
  type BlockMeta,
  type BlockSink,
  type BlockSource,
  type Label,
} from "@strata/tsdb";
import { addXorSeries, mulberry32 as rng } from "@strata/testkit";

export { mulberry32 as rng } from "@strata/testkit";

/** Writes a block of `n` random series into `sink`; returns its meta. */
export async function writeTestBlock(
  sink: BlockSink,
  ulid: string,
  n = 50,
  seed = 1,
  segmentSize?: number,
): Promise<BlockMeta> {
  const r = rng(seed);
  const series: { labels: Label[]; ts: Float64Array; vs: Float64Array }[] = [];
  for (let i = 0; i < n; i++) {
    const len = 50 + Math.floor(r() * 300);
    const ts = new Float64Array(len);
    const vs = new Float64Array(len);
    let t = 1_700_000_000_000;
    for (let j = 0; j < len; j++) {
      t += 15_000;
      ts[j] = t;
      vs[j] = Math.round(r() * 1e6) / 8;
    }
    series.push({
      labels: [
        { name: "__name__", value: `m${i % 7}` },
        { name: "i", value: String(i) },
      ],
      ts,
      vs,
    });
  }
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  const w = new BlockWriter(sink, { segmentSize });
  const { minTime: minT, maxTime: maxT } = await addXorSeries(w, series);
  const written = await w.finish({
    ulid,
    minTime: minT,
    maxTime: maxT,
    stats: {},
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    thanos: { labels: { cluster: "eu1" }, source: "sidecar", downsample: { resolution: 0 } },
  });
  return written.meta;
}

/** Every series of a block as one comparable string per series. */
export async function blockDigest(src: BlockSource): Promise<string[]> {
  const b = await BlockReader.open(src);
  const out: string[] = [];
  for await (const s of b.series()) {
    out.push(
      JSON.stringify(s.labels) +
        s.chunks.map((c) => `${c.minTime}-${c.maxTime}:${Buffer.from(c.chunk!.data).toString("base64")}`).join(","),
    );
  }
  return out;
}

/** A meta.json for a block that exists only as its meta (enough for index tests). */
export function metaJson(
  ulid: string,
  minTime: number,
  opts: { level?: number; shard?: string; ooo?: boolean; segments?: number } = {},
): string {
  const meta: BlockMeta = {
    ulid,
    minTime,
    maxTime: minTime + 7_200_000,
    stats: { numSeries: 1n },
    compaction: { level: opts.level ?? 1, sources: [ulid], hints: opts.ooo ? ["from-out-of-order"] : undefined },
    version: 1,
    thanos: {
      labels: opts.shard ? { __compactor_shard_id__: opts.shard, tenant: "t" } : { tenant: "t" },
      source: "compactor",
      downsample: { resolution: 0 },
      segment_files: Array.from({ length: opts.segments ?? 1 }, (_, i) => String(i + 1).padStart(6, "0")),
    },
  };
  return serializeMeta(meta, { style: "thanos" });
}

/** A deterministic ULID for test block `i` (time part fixed, random part from i). */
export function testUlid(i: number, time = "01HFAY3VMA"): string {
  const A = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let s = "";
  let n = i;
  for (let k = 0; k < 16; k++) {
    s = A[n % 32] + s;
    n = Math.floor(n / 32);
  }
  return time + s;
}
