// Downsampling against data made by the real promtool: expected 5m and 1h aggregates are
// computed here, independently and plainly, from the raw samples `promtool tsdb dump`
// prints, following Thanos' rules (T: pkg/compact/downsample/downsample.go), and compared
// with what `strata dump --aggregate …` reads back from the blocks `strata downsample`
// writes. A minimal decoder of the aggregate chunk layout (written from the reference,
// not using @strata/tsdb's chunk codecs) checks the bytes themselves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BlockReader, RESOLUTION_1H, RESOLUTION_5M } from "@strata/tsdb";
import { DirBlockSource } from "@strata/tsdb/node";
import { makePromtoolFixture, promtoolDump } from "@strata/testkit/promtool";
import { runStrataOk, runStrata, lastLine } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";

// ---- the plain model of Thanos' rules ---------------------------------------------------

interface S {
  t: number;
  v: number;
}
interface Win {
  t: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}
interface ModelChunk {
  windows: Win[];
  counter: S[];
}

const windowEnd = (t: number, r: number) => t - (t % r) + r - 1;

function chunkCount(mint: number, maxt: number, inRes: number, outRes: number, count: number): number {
  const maxSamples = Math.floor((maxt - mint) / outRes);
  const fullness = Math.min(1, count / ((maxt - mint) / inRes));
  const expected = Math.floor(maxSamples * fullness) + 1;
  let x = 1;
  while (Math.floor(expected / x) > 140) x++;
  return x;
}

/** The counter Thanos' float aggregator keeps: first value, then increases, a drop counting as a reset. */
function runningCounter(values: number[]): number[] {
  const out: number[] = [];
  let c = 0;
  values.forEach((v, i) => {
    c = i === 0 ? v : v < values[i - 1]! ? c + v : c + (v - values[i - 1]!);
    out.push(c);
  });
  return out;
}

/** Group (t, x) items by output window, stamping each window min(window end, last t). */
function byWindow<T extends { t: number }>(items: T[], res: number): { t: number; items: T[] }[] {
  const lastT = items[items.length - 1]!.t;
  const groups: { t: number; items: T[] }[] = [];
  for (const it of items) {
    const t = Math.min(windowEnd(it.t, res), lastT);
    if (groups.length && groups[groups.length - 1]!.t === t) groups[groups.length - 1]!.items.push(it);
    else groups.push({ t, items: [it] });
  }
  return groups;
}

function stats(values: number[]): Omit<Win, "t"> {
  let min = Number.MAX_VALUE;
  let max = -Number.MAX_VALUE;
  let sum = 0;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { count: values.length, sum, min, max };
}

function modelRaw(samples: S[], res: number): ModelChunk[] {
  if (samples.length === 0) return [];
  const n = samples.length;
  const batchSize = Math.floor(n / chunkCount(samples[0]!.t, samples[n - 1]!.t, 60_000, res, n)) + 1;
  const out: ModelChunk[] = [];
  for (let i = 0; i < n; ) {
    let j = Math.min(i + batchSize, n);
    while (j < n && samples[j]!.t <= windowEnd(samples[j - 1]!.t, res)) j++;
    const batch = samples.slice(i, j).filter((s) => !Number.isNaN(s.v));
    i = j;
    if (batch.length === 0) continue;
    const counter = runningCounter(batch.map((s) => s.v));
    const groups = byWindow(
      batch.map((s, k) => ({ ...s, c: counter[k]! })),
      res,
    );
    out.push({
      windows: groups.map((g) => ({ t: g.t, ...stats(g.items.map((x) => x.v)) })),
      counter: [
        batch[0]!,
        ...groups.map((g) => ({ t: g.t, v: g.items[g.items.length - 1]!.c })),
        { t: groups[groups.length - 1]!.t, v: batch[batch.length - 1]!.v },
      ],
    });
  }
  return out;
}

/** Thanos' ApplyCounterResetsSeriesIterator, plainly: returns the totals and the last raw value. */
function applyResets(counter: S[]): { totals: S[]; lastV: number } {
  const totals: S[] = [];
  let lastT = 0;
  let lastV = 0;
  let total = 0;
  for (const s of counter) {
    if (Number.isNaN(s.v)) continue;
    if (totals.length === 0) {
      total = s.v;
    } else if (s.t > lastT) {
      total += s.v >= lastV ? s.v - lastV : s.v;
    } else {
      if (s.t === lastT) lastV = s.v;
      continue;
    }
    lastT = s.t;
    lastV = s.v;
    totals.push({ t: s.t, v: total });
  }
  return { totals, lastV };
}

function modelAggr(chunks: ModelChunk[], mint: number, maxt: number, inRes: number, outRes: number): ModelChunk[] {
  const numSamples = chunks.reduce((a, c) => a + c.windows.length, 0);
  const batchSize = Math.max(1, Math.floor(chunks.length / chunkCount(mint, maxt, inRes, outRes, numSamples)));
  const out: ModelChunk[] = [];
  for (let i = 0; i < chunks.length; i += batchSize) {
    const part = chunks.slice(i, i + batchSize);
    const wins = part.flatMap((c) => c.windows);
    const windows = byWindow(wins, outRes).map((g) => {
      const mins = stats(g.items.map((w) => w.min));
      const maxs = stats(g.items.map((w) => w.max));
      return {
        t: g.t,
        count: stats(g.items.map((w) => w.count)).sum,
        sum: stats(g.items.map((w) => w.sum)).sum,
        min: mins.min,
        max: maxs.max,
      };
    });
    const { totals, lastV } = applyResets(part.flatMap((c) => c.counter));
    const counter = runningCounter(totals.map((s) => s.v));
    const groups = byWindow(
      totals.map((s, k) => ({ t: s.t, c: counter[k]! })),
      outRes,
    );
    out.push({
      windows,
      counter: [
        totals[0]!,
        ...groups.map((g) => ({ t: g.t, v: g.items[g.items.length - 1]!.c })),
        { t: groups[groups.length - 1]!.t, v: lastV },
      ],
    });
  }
  return out;
}

// ---- reading dumps ---------------------------------------------------------------------

function parseValue(s: string): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  return Number(s);
}

/** Dump lines grouped by series labels, samples in order. */
function parseDump(lines: string[]): Map<string, S[]> {
  const out = new Map<string, S[]>();
  for (const l of lines) {
    const b = l.lastIndexOf(" ");
    const a = l.lastIndexOf(" ", b - 1);
    const key = l.slice(0, a);
    let arr = out.get(key);
    if (!arr) out.set(key, (arr = []));
    arr.push({ t: Number(l.slice(b + 1)), v: parseValue(l.slice(a + 1, b)) });
  }
  return out;
}

const AGGRS = ["count", "sum", "min", "max", "counter"] as const;
type AggrName = (typeof AGGRS)[number];

function expectedSeries(chunks: ModelChunk[], a: AggrName): S[] {
  if (a === "counter") return chunks.flatMap((c) => c.counter);
  return chunks.flatMap((c) => c.windows.map((w) => ({ t: w.t, v: w[a] })));
}

const dumped = new Map<string, Record<AggrName, Map<string, S[]>>>();
async function strataAggregates(blockDir: string): Promise<Record<AggrName, Map<string, S[]>>> {
  const cached = dumped.get(blockDir);
  if (cached) return cached;
  const out = {} as Record<AggrName, Map<string, S[]>>;
  dumped.set(blockDir, out);
  for (const a of AGGRS) {
    const r = await runStrataOk(["dump", blockDir, "--aggregate", a]);
    out[a] = parseDump(r.stdout.split("\n").filter((l) => l !== ""));
  }
  return out;
}

/** Compare sample lists exactly (NaN equals NaN), reporting the first difference. */
function sameSamples(actual: S[] | undefined, expected: S[]): string {
  if (!actual) return "series missing";
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const x = actual[i];
    const y = expected[i];
    if (!x || !y || x.t !== y.t || !Object.is(x.v, y.v)) {
      return `sample ${i}: got ${x ? `${x.v}@${x.t}` : "nothing"}, expected ${y ? `${y.v}@${y.t}` : "nothing"} (${actual.length} vs ${expected.length} samples)`;
    }
  }
  return "";
}

// ---- fixture ---------------------------------------------------------------------------

const tmp = new TempDirs();
let raw: Map<string, S[]>;
let rawBlock: string;
let block5m: string;
let block1h: string;
let model5m: Map<string, ModelChunk[]>;
let model1h: Map<string, ModelChunk[]>;

beforeAll(async () => {
  // One 60h block (blocks are cut at multiples of --max-block-duration, so start on one).
  const span = 1000 * 3_600_000;
  const startMs = Math.ceil(1672531200000 / span) * span + 17 * 60_000;
  const fx = await makePromtoolFixture(tmp, {
    label: "downsample",
    seed: 7,
    series: 24,
    startMs,
    durationMs: 60 * 3_600_000,
    intervalMs: 30_000,
    maxBlockDuration: "1000h",
    features: {
      counterResets: true,
      gaps: true,
      specialValues: true,
      jitter: true,
      extremeFloats: false,
      unicode: false,
      goQuoting: false,
      escapes: false,
    },
  });
  expect(fx.blocks).toHaveLength(1);
  rawBlock = fx.blocks[0]!.dir;
  raw = parseDump(await promtoolDump(rawBlock));
  const out = await tmp.make("downsample-out");
  block5m = lastLine((await runStrataOk(["downsample", rawBlock, "--resolution", "5m", "--out", out])).stdout);
  block1h = lastLine((await runStrataOk(["downsample", block5m, "--resolution", "1h", "--out", out])).stdout);

  model5m = new Map();
  model1h = new Map();
  for (const [key, samples] of raw) {
    const m5 = modelRaw(samples, RESOLUTION_5M);
    model5m.set(key, m5);
    if (m5.length)
      model1h.set(
        key,
        modelAggr(m5, m5[0]!.windows[0]!.t, m5[m5.length - 1]!.windows.at(-1)!.t, RESOLUTION_5M, RESOLUTION_1H),
      );
  }
}, 240_000);

afterAll(() => tmp.cleanup());

describe("strata downsample on promtool blocks", () => {
  it("the fixture exercises resets inside windows, across chunks, gaps and NaN", () => {
    let resets = 0;
    let nan = 0;
    let multiChunk = 0;
    for (const [key, s] of raw) {
      for (let i = 1; i < s.length; i++) if (s[i]!.v < s[i - 1]!.v && key.includes("_total")) resets++;
      nan += s.filter((x) => Number.isNaN(x.v)).length;
      if ((model5m.get(key) ?? []).length > 1) multiChunk++;
    }
    expect(resets).toBeGreaterThan(5);
    expect(nan).toBeGreaterThan(0);
    expect(multiChunk).toBeGreaterThan(5);
  });

  it("5m aggregates equal the independently computed ones", async () => {
    const got = await strataAggregates(block5m);
    let checked = 0;
    for (const a of AGGRS) {
      for (const [key, chunks] of model5m) {
        const exp = expectedSeries(chunks, a);
        if (exp.length === 0) continue;
        expect(sameSamples(got[a].get(key), exp), `${a} of ${key}`).toBe("");
        checked += exp.length;
      }
      expect(got[a].size).toBe([...model5m.values()].filter((c) => c.length > 0).length);
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it("1h aggregates (from our 5m block) equal the independently computed ones", async () => {
    const got = await strataAggregates(block1h);
    for (const a of AGGRS) {
      for (const [key, chunks] of model1h)
        expect(sameSamples(got[a].get(key), expectedSeries(chunks, a)), `${a} of ${key}`).toBe("");
    }
  });

  it("increase() over the counter aggregate equals increase() over the raw samples", async () => {
    for (const block of [block5m, block1h]) {
      const counters = (await strataAggregates(block)).counter;
      let series = 0;
      for (const [key, s] of raw) {
        if (!key.includes("_total")) continue;
        const vals = s.filter((x) => !Number.isNaN(x.v));
        if (vals.length < 2) continue;
        let rawIncrease = 0;
        for (let i = 1; i < vals.length; i++)
          rawIncrease += vals[i]!.v >= vals[i - 1]!.v ? vals[i]!.v - vals[i - 1]!.v : vals[i]!.v;
        const { totals } = applyResets(counters.get(key)!);
        const inc = totals[totals.length - 1]!.v - totals[0]!.v;
        // Totals are sums of doubles in a different order (some counters sit near 2^53):
        // equal up to rounding relative to the operands.
        const tol = (scale: number) => 1e-12 * Math.max(1, Math.abs(scale), Math.abs(totals[totals.length - 1]!.v));
        expect(Math.abs(inc - rawIncrease), key).toBeLessThanOrEqual(tol(vals[0]!.v));
        // Every window's running total is the raw increase up to that window's end.
        const first = vals[0]!;
        for (const tot of totals) {
          let upTo = first.v;
          for (let i = 1; i < vals.length && vals[i]!.t <= tot.t; i++)
            upTo += vals[i]!.v >= vals[i - 1]!.v ? vals[i]!.v - vals[i - 1]!.v : vals[i]!.v;
          expect(Math.abs(tot.v - upTo), `${key} @${tot.t}`).toBeLessThanOrEqual(tol(upTo));
        }
        series++;
      }
      expect(series).toBeGreaterThan(3);
    }
  });

  it("writes Thanos' output meta", async () => {
    const rawMeta = JSON.parse(await readFile(join(rawBlock, "meta.json"), "utf8"));
    for (const [dir, res] of [
      [block5m, RESOLUTION_5M],
      [block1h, RESOLUTION_1H],
    ] as const) {
      const m = JSON.parse(await readFile(join(dir, "meta.json"), "utf8"));
      expect(m.ulid).not.toBe(rawMeta.ulid);
      expect([m.minTime, m.maxTime]).toEqual([rawMeta.minTime, rawMeta.maxTime]);
      expect(m.compaction).toEqual(rawMeta.compaction);
      expect(m.thanos.downsample).toEqual({ resolution: res });
      expect(m.thanos.source).toBe("compactor");
      const model = res === RESOLUTION_5M ? model5m : model1h;
      const chunks = [...model.values()].flat();
      expect(m.stats.numChunks).toBe(chunks.length);
      expect(m.stats.numSamples).toBe(chunks.reduce((a, c) => a + c.windows.length, 0));
      expect(m.stats.numSeries).toBe([...model.values()].filter((c) => c.length).length);
    }
  });

  it("refuses a target resolution not coarser than the block's", async () => {
    const r = await runStrata(["downsample", block5m, "--resolution", "5m", "--out", await tmp.make("x")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot downsample to 300000/);
    const u = await runStrata(["downsample", block5m, "--resolution", "10m", "--out", "/tmp"]);
    expect(u.code).toBe(2);
  });
});

// ---- independent decoder of the aggregate chunk layout ---------------------------------

/** MSB-first bit reader. */
class Bits {
  private pos = 0;
  private readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  bit(): number {
    const v = (this.b[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }
  bits(n: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 1n) | BigInt(this.bit());
    return v;
  }
  uvarint(): bigint {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = this.bits(8);
      v |= (byte & 0x7fn) << shift;
      if (byte < 0x80n) return v;
    }
  }
}

const f64 = (bits: bigint) => new Float64Array(new BigUint64Array([bits]).buffer)[0]!;

/** Prometheus XOR chunk, straight from the layout: BE16 count, varint t0, 64-bit v0, uvarint Δt1, then dod + XOR. */
function decodeXorPlain(data: Uint8Array): S[] {
  const n = (data[0]! << 8) | data[1]!;
  const r = new Bits(data.subarray(2));
  const out: S[] = [];
  let t = 0n;
  let delta = 0n;
  let vb = 0n;
  let lead = 0n;
  let trail = 0n;
  for (let i = 0; i < n; i++) {
    if (i === 0) {
      const u = r.uvarint();
      t = u & 1n ? -(u >> 1n) - 1n : u >> 1n;
      vb = r.bits(64);
    } else {
      if (i === 1) {
        delta = r.uvarint();
      } else {
        let sz = 0;
        if (r.bit()) sz = r.bit() ? (r.bit() ? (r.bit() ? 64 : 20) : 17) : 14;
        let dod = sz ? r.bits(sz) : 0n;
        if (sz && sz < 64 && dod > 1n << BigInt(sz - 1)) dod -= 1n << BigInt(sz);
        if (sz === 64) dod = BigInt.asIntN(64, dod);
        delta += dod;
      }
      t += delta;
      if (r.bit()) {
        if (r.bit()) {
          lead = r.bits(5);
          let sig = r.bits(6);
          if (sig === 0n) sig = 64n;
          trail = 64n - lead - sig;
        }
        vb ^= r.bits(Number(64n - lead - trail)) << trail;
      }
    }
    out.push({ t: Number(t), v: f64(vb) });
  }
  return out;
}

/** The aggregate chunk: five entries of uvarint(len) [+ encoding byte + len bytes]. */
function splitAggr(data: Uint8Array): ({ enc: number; data: Uint8Array } | undefined)[] {
  const parts: ({ enc: number; data: Uint8Array } | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < 5; i++) {
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const b = data[at++]!;
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (len === 0) parts.push(undefined);
    else {
      parts.push({ enc: data[at]!, data: data.subarray(at + 1, at + 1 + len) });
      at += 1 + len;
    }
  }
  expect(at).toBe(data.length);
  return parts;
}

describe("aggregate chunk bytes, read by a minimal independent decoder", () => {
  it("hold count, sum, min, max, counter as XOR sub-chunks with the model's values", async () => {
    for (const [dir, model] of [
      [block5m, model5m],
      [block1h, model1h],
    ] as const) {
      const r = await BlockReader.open(new DirBlockSource(dir));
      let chunks = 0;
      try {
        for await (const s of r.series()) {
          const key = "{" + s.labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ") + "}";
          const exp = model.get(key)!;
          expect(exp, key).toBeDefined();
          expect(s.chunks.length).toBe(exp.length);
          s.chunks.forEach((c, i) => {
            expect(c.chunk!.encoding).toBe(0xff);
            const parts = splitAggr(c.chunk!.data);
            const decoded = parts.map((p) => {
              expect(p?.enc).toBe(1);
              return decodeXorPlain(p!.data);
            });
            const m = exp[i]!;
            expect([c.minTime, c.maxTime]).toEqual([m.windows[0]!.t, m.windows[m.windows.length - 1]!.t]);
            AGGRS.slice(0, 4).forEach((a, k) => {
              expect(
                sameSamples(
                  decoded[k],
                  m.windows.map((w) => ({ t: w.t, v: w[a as "count"] })),
                ),
                `${a} ${key} chunk ${i}`,
              ).toBe("");
            });
            expect(sameSamples(decoded[4], m.counter), `counter ${key} chunk ${i}`).toBe("");
            chunks++;
          });
        }
      } finally {
        await r.close();
      }
      expect(chunks).toBeGreaterThan(20);
    }
  });
});
