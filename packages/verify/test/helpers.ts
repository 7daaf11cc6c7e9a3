/** Test fixtures: small healthy blocks written with BlockWriter into memory, and byte-editing helpers. */
import {
  BlockWriter,
  Encoding,
  MemoryBlock,
  compareStrings,
  encodeXOR,
  newUlid,
  type BlockMeta,
  type ChunkToWrite,
  type Labels,
} from "@strata/tsdb";

export const T0 = 1_700_000_000_000;
export const STEP = 15_000;

export interface FixtureSeries {
  labels: Labels;
  chunks: ChunkToWrite[];
}

/** XOR chunk with `n` samples from time `t0`, one per STEP. */
export function xorChunk(t0: number, n: number, v0 = 1): ChunkToWrite {
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = t0 + i * STEP;
    vs[i] = v0 + i;
  }
  return { minTime: ts[0]!, maxTime: ts[n - 1]!, chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 0, n) } };
}

/** `count` series `{__name__="m", i="NNN", job="j"}` with `chunks` chunks of 10 samples each. */
export function defaultSeries(count = 5, chunks = 2): FixtureSeries[] {
  const out: FixtureSeries[] = [];
  for (let s = 0; s < count; s++) {
    const cs: ChunkToWrite[] = [];
    for (let c = 0; c < chunks; c++) cs.push(xorChunk(T0 + c * 10 * STEP, 10, s * 100 + c));
    out.push({
      labels: [
        { name: "__name__", value: "m" },
        { name: "i", value: String(s).padStart(3, "0") },
        { name: "job", value: "j" },
      ],
      chunks: cs,
    });
  }
  return out;
}

export interface BuildOptions {
  series?: FixtureSeries[];
  thanos?: boolean;
  minTime?: number;
  maxTime?: number;
  ulid?: string;
}

/** Write a block into memory; returns the block and its meta as written. */
export async function buildBlock(
  opts: BuildOptions = {},
): Promise<{ block: MemoryBlock; meta: BlockMeta; ulid: string }> {
  const series = opts.series ?? defaultSeries();
  const ulid = opts.ulid ?? newUlid();
  const block = new MemoryBlock(ulid);
  const w = new BlockWriter(block);
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) syms.add(l.name).add(l.value);
  await w.addSymbols([...syms].sort(compareStrings));
  for (const s of series) await w.addSeries(s.labels, s.chunks);
  let maxT = -Infinity;
  let minT = Infinity;
  for (const s of series)
    for (const c of s.chunks) (maxT = Math.max(maxT, c.maxTime)), (minT = Math.min(minT, c.minTime));
  const meta: BlockMeta = {
    ulid,
    minTime: opts.minTime ?? minT,
    maxTime: opts.maxTime ?? maxT + 1,
    stats: {},
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    ...(opts.thanos ? { thanos: { labels: { replica: "a" }, downsample: { resolution: 0 }, source: "sidecar" } } : {}),
  };
  const written = await w.finish(meta);
  return { block, meta: written.meta, ulid };
}

/** A copy of a memory block (files copied), so edits leave the original alone. */
export function cloneBlock(b: MemoryBlock, name = b.name): MemoryBlock {
  const c = new MemoryBlock(name);
  for (const [k, v] of b.files) c.files.set(k, v.slice());
  return c;
}

export function be32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
export function putBe32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
export function be64(b: Uint8Array, at: number): number {
  return be32(b, at) * 4294967296 + be32(b, at + 4);
}
