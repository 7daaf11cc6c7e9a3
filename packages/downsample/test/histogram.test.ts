import { beforeAll, describe, expect, it } from "vitest";
import {
  AggrType,
  BlockReader,
  BlockWriter,
  CounterResetHint,
  Encoding,
  MemoryBlock,
  RESOLUTION_1H,
  RESOLUTION_5M,
  STALE_NAN,
  compareStrings,
  decodeAggrChunk,
  decodeFloatHistogramChunk,
  decodeXOR,
  encodeFloatHistogramChunk,
  encodeHistogramChunk,
  encodeXOR,
  histogramChunkHeader,
  type ChunkToWrite,
  type FloatHistogram,
  type Histogram,
  type Labels,
  type Span,
} from "@strata/tsdb";
import { currentWindow, downsampleBlock } from "../src/index.ts";

// Expectations are computed here on plain bucket maps (index → count), independently of
// the engine's span arithmetic: reduce a schema by mapping indices, add maps, compare.

const T0 = 1_700_000_130_000; // not window aligned
const MIN = 60_000;

interface H {
  schema: number;
  count: number;
  sum: number;
  zero: number;
  pos: Map<number, number>;
  neg: Map<number, number>;
}

function spansOf(idx: number[]): Span[] {
  const out: Span[] = [];
  let last = 0;
  for (const i of idx) {
    if (out.length > 0 && i === last + 1) out[out.length - 1]!.length++;
    else out.push({ offset: out.length === 0 ? i : i - last - 1, length: 1 });
    last = i;
  }
  return out;
}

/** A histogram with the given positive buckets {index: count} (and negative ones). */
function mk(schema: number, pos: Record<number, number>, neg: Record<number, number> = {}, zero = 0, sum?: number): H {
  const p = new Map(Object.entries(pos).map(([k, v]) => [Number(k), v]));
  const n = new Map(Object.entries(neg).map(([k, v]) => [Number(k), v]));
  let count = zero;
  for (const v of p.values()) count += v;
  for (const v of n.values()) count += v;
  return { schema, count, sum: sum ?? count * 1.5, zero, pos: p, neg: n };
}

function toFloat(h: H, hint: number = CounterResetHint.Unknown): FloatHistogram {
  const pi = [...h.pos.keys()].sort((a, b) => a - b);
  const ni = [...h.neg.keys()].sort((a, b) => a - b);
  return {
    schema: h.schema,
    zeroThreshold: 0.001,
    zeroCount: h.zero,
    count: h.count,
    sum: h.sum,
    positiveSpans: spansOf(pi),
    negativeSpans: spansOf(ni),
    positiveBuckets: Float64Array.from(pi.map((i) => h.pos.get(i)!)),
    negativeBuckets: Float64Array.from(ni.map((i) => h.neg.get(i)!)),
    counterResetHint: hint as FloatHistogram["counterResetHint"],
  };
}

function stale(): FloatHistogram {
  return { ...toFloat(mk(0, {})), sum: STALE_NAN };
}

function reduce(h: H, schema: number): H {
  const m = (src: Map<number, number>) => {
    const out = new Map<number, number>();
    for (const [i, v] of src) {
      const j = ((i - 1) >> (h.schema - schema)) + 1;
      out.set(j, (out.get(j) ?? 0) + v);
    }
    return out;
  };
  return { ...h, schema, pos: m(h.pos), neg: m(h.neg) };
}

function combine(a: H, b: H, sign: number): H {
  const m = (x: Map<number, number>, y: Map<number, number>) => {
    const out = new Map(x);
    for (const [i, v] of y) out.set(i, (out.get(i) ?? 0) + sign * v);
    return out;
  };
  return {
    schema: a.schema,
    count: a.count + sign * b.count,
    sum: a.sum + sign * b.sum,
    zero: a.zero + sign * b.zero,
    pos: m(a.pos, b.pos),
    neg: m(a.neg, b.neg),
  };
}

/** Comparable form: non-empty buckets only. */
function norm(h: {
  schema: number;
  count: number;
  sum: number;
  zero: number;
  pos: Map<number, number>;
  neg: Map<number, number>;
}) {
  const clean = (m: Map<number, number>) => [...m].filter(([, v]) => v !== 0).sort((a, b) => a[0] - b[0]);
  return { schema: h.schema, count: h.count, sum: h.sum, zero: h.zero, pos: clean(h.pos), neg: clean(h.neg) };
}

function fromFloat(f: FloatHistogram): H {
  const m = (spans: readonly Span[], b: Float64Array) => {
    const out = new Map<number, number>();
    let idx = 0;
    let k = 0;
    for (const s of spans) {
      idx += s.offset;
      for (let j = 0; j < s.length; j++) out.set(idx++, b[k++]!);
    }
    return out;
  };
  return {
    schema: f.schema,
    count: f.count,
    sum: f.sum,
    zero: f.zeroCount,
    pos: m(f.positiveSpans, f.positiveBuckets),
    neg: m(f.negativeSpans, f.negativeBuckets),
  };
}

type Raw = { t: number; h: H; chunk: number; gauge?: boolean };

/** Per window (stamped as Thanos stamps them): count, sum and the counter at its end. */
function expected(raw: Raw[], res: number, resetAt: (i: number) => boolean) {
  const schema = Math.min(...raw.map((r) => r.h.schema));
  const hs = raw.map((r) => reduce(r.h, schema));
  const lastT = raw[raw.length - 1]!.t;
  const out = new Map<number, { n: number; sum: H; counter: H }>();
  let counter = hs[0]!;
  for (let i = 0; i < hs.length; i++) {
    if (i > 0)
      counter = resetAt(i) ? combine(counter, hs[i]!, 1) : combine(counter, combine(hs[i]!, hs[i - 1]!, -1), 1);
    const w = Math.min(currentWindow(raw[i]!.t, res), lastT);
    const cur = out.get(w);
    out.set(w, { n: (cur?.n ?? 0) + 1, sum: cur ? combine(cur.sum, hs[i]!, 1) : hs[i]!, counter });
  }
  return out;
}

async function makeBlock(series: { labels: Labels; chunks: ChunkToWrite[] }[]): Promise<MemoryBlock> {
  const b = new MemoryBlock("in");
  const w = new BlockWriter(b);
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) syms.add(l.name).add(l.value);
  await w.addSymbols([...syms].sort(compareStrings));
  for (const s of series) await w.addSeries(s.labels, s.chunks);
  await w.finish({
    ulid: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    minTime: T0,
    maxTime: T0 + 200 * MIN,
    stats: {},
    compaction: { level: 2, sources: ["01HAAAAAAAAAAAAAAAAAAAAAAA"] },
    version: 1,
  });
  return b;
}

function histChunk(samples: { t: number; h: FloatHistogram }[], int: boolean, hint?: number): ChunkToWrite {
  const data = int
    ? encodeHistogramChunk(
        samples.map((s) => ({
          t: s.t,
          h: {
            ...s.h,
            positiveBuckets: Array.from(s.h.positiveBuckets),
            negativeBuckets: Array.from(s.h.negativeBuckets),
          } as Histogram,
        })),
        hint as Histogram["counterResetHint"] | undefined,
      )
    : encodeFloatHistogramChunk(samples, hint as FloatHistogram["counterResetHint"] | undefined);
  return {
    minTime: samples[0]!.t,
    maxTime: samples[samples.length - 1]!.t,
    chunk: { encoding: int ? Encoding.Histogram : Encoding.FloatHistogram, data },
  };
}

interface OutChunk {
  minTime: number;
  maxTime: number;
  count?: [number, number][];
  sum?: { t: number; h: FloatHistogram }[];
  counter?: { t: number; h: FloatHistogram }[];
  headers: (number | undefined)[];
  present: boolean[];
}

async function readOut(b: MemoryBlock): Promise<Map<string, OutChunk[]>> {
  const r = await BlockReader.open(b);
  const out = new Map<string, OutChunk[]>();
  for await (const s of r.series()) {
    out.set(
      s.labels.map((l) => l.value).join(","),
      s.chunks.map((c) => {
        expect(c.chunk!.encoding).toBe(Encoding.Aggr);
        const p = decodeAggrChunk(c.chunk!.data);
        const o: OutChunk = {
          minTime: c.minTime,
          maxTime: c.maxTime,
          headers: [],
          present: p.map((x) => x !== undefined),
        };
        if (p[AggrType.Count]) {
          const ts = new Float64Array(1000);
          const vs = new Float64Array(1000);
          const n = decodeXOR(p[AggrType.Count]!.data, ts, vs);
          o.count = Array.from({ length: n }, (_, i) => [ts[i], vs[i]] as [number, number]);
        }
        for (const k of [AggrType.Sum, AggrType.Counter] as const) {
          const sub = p[k];
          if (!sub || sub.encoding !== Encoding.FloatHistogram) continue;
          o.headers[k] = histogramChunkHeader(sub.data).counterResetHint;
          if (k === AggrType.Sum) o.sum = decodeFloatHistogramChunk(sub.data);
          else o.counter = decodeFloatHistogramChunk(sub.data);
        }
        return o;
      }),
    );
  }
  await r.close();
  return out;
}

// Counter histogram: an integer chunk at schema 1, a float chunk at schema 0 (the batch
// minimum) holding a stale marker, then a reset into a schema-1 integer chunk.
const STEP = 4 * MIN;
const counterRaw: Raw[] = [];
for (let i = 0; i < 6; i++)
  counterRaw.push({ t: T0 + i * STEP, chunk: 0, h: mk(1, { 1: 1 + i, 2: 2 * i, 5: i }, { 1: i }, i) });
for (let i = 6; i < 11; i++)
  counterRaw.push({ t: T0 + i * STEP, chunk: 1, h: mk(0, { 1: 3 + 3 * i, 3: i }, { 1: i }, i) });
for (let i = 11; i < 17; i++) counterRaw.push({ t: T0 + i * STEP, chunk: 2, h: mk(1, { 2: i - 10, 4: 1 }, {}, 0) });
const STALE_AT = T0 + 10 * STEP + 2 * MIN; // ends the second chunk

// Gauge histogram going up and down, two float chunks with a schema change.
const gaugeRaw: Raw[] = [];
for (let i = 0; i < 14; i++) {
  const v = 10 + ((i * 7) % 5) - (i % 3);
  gaugeRaw.push({
    t: T0 + i * MIN,
    chunk: i < 7 ? 0 : 1,
    gauge: true,
    h: mk(i < 7 ? 2 : 1, { 0: v, 3: (i % 4) + 1 }, {}, 1),
  });
}

describe("native histogram downsampling", () => {
  let m5: MemoryBlock;
  let five: Map<string, OutChunk[]>;
  let sharedMatches = false;

  beforeAll(async () => {
    const counterChunks: ChunkToWrite[] = [];
    for (const c of [0, 1, 2]) {
      const samples = counterRaw.filter((r) => r.chunk === c).map((r) => ({ t: r.t, h: toFloat(r.h) }));
      if (c === 1) samples.push({ t: STALE_AT, h: stale() });
      counterChunks.push(histChunk(samples, c !== 1, c === 2 ? CounterResetHint.Reset : undefined));
    }
    const gaugeChunks = [0, 1].map((c) =>
      histChunk(
        gaugeRaw.filter((r) => r.chunk === c).map((r) => ({ t: r.t, h: toFloat(r.h, CounterResetHint.Gauge) })),
        false,
        CounterResetHint.Gauge,
      ),
    );
    // Floats then histograms in one series: two runs.
    const fts = Float64Array.from({ length: 10 }, (_, i) => T0 + i * MIN);
    const fvs = Float64Array.from({ length: 10 }, (_, i) => i * 2);
    const mixed: ChunkToWrite[] = [
      { minTime: fts[0]!, maxTime: fts[9]!, chunk: { encoding: Encoding.XOR, data: encodeXOR(fts, fvs, 0, 10) } },
      histChunk(
        counterRaw.slice(0, 6).map((r) => ({ t: r.t + 20 * MIN, h: toFloat(r.h) })),
        true,
      ),
    ];
    const input = await makeBlock([
      { labels: [{ name: "__name__", value: "counter" }], chunks: counterChunks },
      { labels: [{ name: "__name__", value: "gauge" }], chunks: gaugeChunks },
      { labels: [{ name: "__name__", value: "mixed" }], chunks: mixed },
    ]);
    m5 = new MemoryBlock("m5");
    await downsampleBlock(input, m5, { resolution: RESOLUTION_5M, workers: 0 });
    five = await readOut(m5);
    // A worker (tiny batches: one series each) writes the same bytes.
    const shared = new MemoryBlock("m5w");
    await downsampleBlock(input, shared, { resolution: RESOLUTION_5M, workers: 1, batchBytes: 64 });
    sharedMatches = [...m5.files].every(([k, v]) => k === "meta.json" || Buffer.compare(v, shared.files.get(k)!) === 0);
  });

  function check(got: OutChunk, exp: ReturnType<typeof expected>) {
    const ws = [...exp.keys()];
    expect(got.present).toEqual([true, true, false, false, true]);
    expect(got.minTime).toBe(ws[0]);
    expect(got.maxTime).toBe(ws[ws.length - 1]);
    expect(got.count).toEqual(ws.map((w) => [w, exp.get(w)!.n]));
    expect(got.sum!.map((s) => s.t)).toEqual(ws);
    expect(got.sum!.map((s) => norm(fromFloat(s.h)))).toEqual(ws.map((w) => norm(exp.get(w)!.sum)));
    expect(got.counter!.map((s) => s.t)).toEqual(ws);
    expect(got.counter!.map((s) => norm(fromFloat(s.h)))).toEqual(ws.map((w) => norm(exp.get(w)!.counter)));
    expect(got.headers[AggrType.Sum]).toBe(CounterResetHint.Gauge);
  }

  it("writes the same bytes with a worker thread", () => {
    expect(sharedMatches).toBe(true);
  });

  it("counter histograms: count, sum and the reset-adjusted counter at the batch's minimum schema", () => {
    const chunks = five.get("counter")!;
    expect(chunks).toHaveLength(1);
    // The reset is the first sample of the third chunk (a schema increase counts as one too).
    const exp = expected(counterRaw, RESOLUTION_5M, (i) => i === 11);
    check(chunks[0]!, exp);
    expect(chunks[0]!.sum!.every((s) => s.h.schema === 0)).toBe(true);
    expect(chunks[0]!.headers[AggrType.Counter]).toBe(CounterResetHint.NotReset);
    // Stale markers are not counted.
    expect(chunks[0]!.count!.reduce((a, [, n]) => a + n, 0)).toBe(counterRaw.length);
  });

  it("gauge histograms: no reset detection, gauge sub-chunks", () => {
    const chunks = five.get("gauge")!;
    expect(chunks).toHaveLength(1);
    // As in Thanos: the schema-2 samples, reduced to the batch's schema 1, lose their gauge
    // hint (Go's CopyToSchema keeps none), so they go through reset detection, and their
    // original schema being higher than the previous sample's counts as a reset.
    const resetAt = (i: number) => i < 7;
    check(chunks[0]!, expected(gaugeRaw, RESOLUTION_5M, resetAt));
    expect(chunks[0]!.headers[AggrType.Counter]).toBe(CounterResetHint.Gauge);
  });

  it("a series switching from floats to histograms is downsampled run by run", () => {
    const chunks = five.get("mixed")!;
    expect(chunks).toHaveLength(2);
    expect(chunks[0]!.present).toEqual([true, true, true, true, true]);
    expect(chunks[0]!.count!.reduce((a, [, n]) => a + n, 0)).toBe(10);
    const raw = counterRaw.slice(0, 6).map((r) => ({ ...r, t: r.t + 20 * MIN }));
    check(
      chunks[1]!,
      expected(raw, RESOLUTION_5M, () => false),
    );
  });

  it("5m → 1h: counts add up, sums add up per hour, the counter carries on", async () => {
    const h1 = new MemoryBlock("h1");
    await downsampleBlock(m5, h1, { resolution: RESOLUTION_1H });
    const hour = await readOut(h1);
    const c = hour.get("counter")![0]!;
    const exp = expected(counterRaw, RESOLUTION_1H, (i) => i === 11);
    check(c, exp);
    const g = hour.get("gauge")![0]!;
    expect(g.count!.reduce((a, [, n]) => a + n, 0)).toBe(gaugeRaw.length);
    expect(g.headers[AggrType.Counter]).toBe(CounterResetHint.Gauge);
  });

  it("refuses histograms with custom buckets with a clear error", async () => {
    const nhcb: FloatHistogram = {
      ...toFloat(mk(0, { 0: 1, 1: 2 })),
      schema: -53,
      zeroThreshold: 0,
      zeroCount: 0,
      count: 3,
      customValues: [1, 2],
    };
    const input = await makeBlock([
      { labels: [{ name: "__name__", value: "nhcb" }], chunks: [histChunk([{ t: T0, h: nhcb }], false)] },
    ]);
    await expect(downsampleBlock(input, new MemoryBlock("o"), { resolution: RESOLUTION_5M })).rejects.toThrow(
      /series \{__name__="nhcb"\}.*custom buckets/,
    );
  });
});
