import { describe, expect, it } from "vitest";
import {
  BlockReader,
  BlockWriter,
  MemoryBlock,
  compareLabels,
  decodeXOR,
  encodeTombstones,
  parseMeta,
  rewriteBlock,
  Tombstones,
  type Label,
  type BlockMeta,
} from "../src/index.ts";
import { addXorSeries, mulberry32 as rng } from "@strata/testkit";

interface TestSeries {
  labels: Label[];
  ts: Float64Array;
  vs: Float64Array;
}

function makeSeries(n: number, seed: number): TestSeries[] {
  const r = rng(seed);
  const values = ["a", "b", "\u00e9t\u00e9", "\u{1F600}", "\uFF21", "z"];
  const out: TestSeries[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const labels: Label[] = [
      { name: "__name__", value: `m${Math.floor(r() * 5)}` },
      { name: "inst", value: values[Math.floor(r() * values.length)]! + Math.floor(r() * 50) },
    ];
    const key = JSON.stringify(labels);
    if (seen.has(key)) continue;
    seen.add(key);
    const len = 1 + Math.floor(r() * 400);
    const ts = new Float64Array(len);
    const vs = new Float64Array(len);
    let t = 1_700_000_000_000 + Math.floor(r() * 1000);
    for (let i = 0; i < len; i++) {
      t += 1 + Math.floor(r() * 30_000);
      ts[i] = t;
      vs[i] = r() < 0.1 ? NaN : Math.round(r() * 1e6) / 8;
    }
    out.push({ labels, ts, vs });
  }
  return out.sort((a, b) => compareLabels(a.labels, b.labels));
}

async function writeBlock(series: TestSeries[], sink: MemoryBlock, segmentSize?: number): Promise<BlockMeta> {
  const w = new BlockWriter(sink, { segmentSize });
  const { minTime: minT, maxTime: maxT } = await addXorSeries(w, series);
  const ulid = "01JABCDEFGHJKMNPQRSTVWXYZ0";
  const written = await w.finish({
    ulid,
    minTime: minT,
    maxTime: maxT,
    stats: {},
    compaction: { level: 1, sources: [ulid] },
    version: 1,
  });
  return written.meta;
}

async function readAllSamples(block: BlockReader): Promise<{ labels: Label[]; ts: number[]; bits: string[] }[]> {
  const out = [];
  for await (const s of block.series()) {
    const ts: number[] = [];
    const bits: string[] = [];
    for (const c of s.chunks) {
      const n = (c.chunk!.data[0]! << 8) | c.chunk!.data[1]!;
      const t = new Float64Array(n);
      const v = new Float64Array(n);
      decodeXOR(c.chunk!.data, t, v);
      expect(c.minTime).toBe(t[0]);
      expect(c.maxTime).toBe(t[n - 1]);
      for (let i = 0; i < n; i++) {
        if (s.deleted?.some((iv) => iv.mint <= t[i]! && t[i]! <= iv.maxt)) continue;
        ts.push(t[i]!);
        bits.push(Buffer.from(v.buffer, i * 8, 8).toString("hex"));
      }
    }
    out.push({ labels: s.labels, ts, bits });
  }
  return out;
}

function expected(series: TestSeries[]) {
  return series.map((s) => ({
    labels: s.labels,
    ts: [...s.ts],
    bits: [...s.ts].map((_, i) => Buffer.from(s.vs.buffer, i * 8, 8).toString("hex")),
  }));
}

describe("block writer → reader", () => {
  it("round-trips series, chunks and stats, across several segments", async () => {
    const series = makeSeries(300, 1);
    const mem = new MemoryBlock("mem");
    const meta = await writeBlock(series, mem, 64 * 1024);
    expect((await mem.listChunkFiles()).length).toBeGreaterThan(1);
    const block = await BlockReader.open(mem);
    expect(block.meta.ulid).toBe(meta.ulid);
    expect(await readAllSamples(block)).toEqual(expected(series));
    const samples = series.reduce((a, s) => a + s.ts.length, 0);
    expect(block.meta.stats.numSamples).toBe(BigInt(samples));
    expect(block.meta.stats.numFloatSamples).toBe(BigInt(samples));
    expect(block.meta.stats.numSeries).toBe(BigInt(series.length));
    expect(block.meta.stats.numChunks).toBe(BigInt(series.reduce((a, s) => a + Math.ceil(s.ts.length / 120), 0)));
    // meta.json is Prometheus-style: tab-indented, no trailing newline, re-parseable.
    const text = new TextDecoder().decode(mem.files.get("meta.json")!);
    expect(text.startsWith('{\n\t"ulid"')).toBe(true);
    expect(text.endsWith("}")).toBe(true);
    expect(parseMeta(text).stats.numSamples).toBe(BigInt(samples));
    expect([...mem.files.get("tombstones")!]).toEqual([0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0]);
  });

  it("open closes every handle it took when the index or a chunk file is broken", async () => {
    const series = makeSeries(20, 3);
    for (const broken of ["index", "chunks/000001"]) {
      const mem = new MemoryBlock("mem");
      await writeBlock(series, mem, 64 * 1024);
      const bytes = mem.files.get(broken)!;
      // A wrong magic number: the index's or the segment's first check fails.
      bytes[0] = bytes[0]! ^ 0xff;
      let open = 0;
      const counting = {
        name: mem.name,
        listChunkFiles: () => mem.listChunkFiles(),
        open: async (rel: string) => counted(await mem.open(rel)),
        tryOpen: async (rel: string) => {
          const src = await mem.tryOpen(rel);
          return src && counted(src);
        },
      };
      const counted = <T extends { close?(): Promise<void> }>(src: T): T => {
        open++;
        return Object.assign(Object.create(src) as T, { close: async () => void open-- });
      };
      await expect(BlockReader.open(counting)).rejects.toThrow(broken === "index" ? /index/ : /chunks/);
      expect(open).toBe(0);
    }
  });

  it("rewrite copies chunks byte for byte, and re-encoding gives identical bytes for our own chunks", async () => {
    const series = makeSeries(50, 2);
    const src = new MemoryBlock("src");
    await writeBlock(series, src);
    for (const reencode of [false, true]) {
      const dst = new MemoryBlock("dst");
      const out = await rewriteBlock(await BlockReader.open(src), dst, {
        reencode,
        ulid: "01JAAAAAAAAAAAAAAAAAAAAAAA",
      });
      expect(out.meta.ulid).toBe("01JAAAAAAAAAAAAAAAAAAAAAAA");
      expect(dst.files.get("index")).toEqual(src.files.get("index"));
      expect(dst.files.get("chunks/000001")).toEqual(src.files.get("chunks/000001"));
    }
  });

  it("rewrite applies tombstones and writes empty ones", async () => {
    const series = makeSeries(20, 3);
    const src = new MemoryBlock("src");
    await writeBlock(series, src);
    // Delete the middle third of every series' time range.
    const tomb = new Tombstones();
    const reader = await BlockReader.open(src);
    const cut: Map<string, [number, number]> = new Map();
    for await (const s of reader.series({ withChunks: false })) {
      const ser = series.find((x) => compareLabels(x.labels, s.labels) === 0)!;
      const a = ser.ts[Math.floor(ser.ts.length / 3)]!;
      const b = ser.ts[Math.floor((2 * ser.ts.length) / 3)]!;
      tomb.add(s.id, { mint: a, maxt: b });
      cut.set(JSON.stringify(s.labels), [a, b]);
    }
    src.files.set("tombstones", encodeTombstones(tomb));
    const dst = new MemoryBlock("dst");
    await rewriteBlock(await BlockReader.open(src), dst);
    const got = await readAllSamples(await BlockReader.open(dst));
    const want = expected(series)
      .map((s) => {
        const [a, b] = cut.get(JSON.stringify(s.labels))!;
        const keep = s.ts.map((t) => t < a || t > b);
        return { labels: s.labels, ts: s.ts.filter((_, i) => keep[i]), bits: s.bits.filter((_, i) => keep[i]) };
      })
      .filter((s) => s.ts.length > 0);
    expect(got).toEqual(want);
    expect([...dst.files.get("tombstones")!]).toEqual([0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0]);
  });
});
