// Native histogram chunks written by a real Prometheus (Debian 2.42): we remote-write
// integer and float histograms (counters and gauges, with bucket layouts that change,
// a counter reset and stale markers) into a fresh server, let its head cut 5-minute
// blocks, and check that (1) our decoders read back exactly the values sent and
// (2) our encoders, given the samples sent for each chunk, write the very bytes
// Prometheus wrote (up to the extra trailing zero byte of pre-3.0 writers).
// Recipe: /work/shared/reference/prometheus-written-fixtures.md.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  crc32c,
  STALE_NAN,
  floatHi,
  floatLo,
  isStaleNaN,
  decodeHistogramChunk,
  encodeHistogramChunk,
  decodeFloatHistogramChunk,
  encodeFloatHistogramChunk,
  histogramChunkHeader,
  spanIndices,
  CounterResetHint,
  type FloatHistogram,
  type Histogram,
  type Span,
} from "@strata/tsdb";
import { PROMETHEUS, freePort } from "@strata/testkit/prometheus";
import { listBlocks, type BlockInfo } from "@strata/testkit/promtool";
import { assertExecutable } from "@strata/testkit/process";
import { TempDirs } from "@strata/testkit/tmp";

const T0 = Date.UTC(2024, 0, 1); // aligned to the 5-minute block range
const STEP = 15_000;
const N = 120; // 30 minutes per series

// ---- The data: series k has its samples at T0 + i·STEP + k, so a chunk's times name its series. ----

type Sent = { kind: "int"; h: Histogram } | { kind: "float"; h: FloatHistogram } | { kind: "stale" };

interface SeriesDef {
  name: string;
  k: number;
  float: boolean;
  gauge: boolean;
  sample(i: number): Sent | undefined;
}

const sp = (...a: [number, number][]): Span[] => a.map(([offset, length]) => ({ offset, length }));

function intHist(
  i: number,
  schema: number,
  zt: number,
  ps: Span[],
  ns: Span[],
  count: (j: number) => number,
  hint: CounterResetHint,
): Sent {
  const pb = spanIndices(ps).map((idx) => count(idx));
  const nb = spanIndices(ns).map((idx) => count(idx + 7));
  const zeroCount = Math.floor(count(3) / 3);
  const total = zeroCount + pb.reduce((a, b) => a + b, 0) + nb.reduce((a, b) => a + b, 0);
  return {
    kind: "int",
    h: {
      schema,
      zeroThreshold: zt,
      zeroCount,
      count: total,
      sum: i * 1.5 - 7.25,
      positiveSpans: ps,
      negativeSpans: ns,
      positiveBuckets: pb,
      negativeBuckets: nb,
      counterResetHint: hint,
    },
  };
}

function floatHist(
  i: number,
  schema: number,
  zt: number,
  ps: Span[],
  ns: Span[],
  count: (j: number) => number,
  hint: CounterResetHint,
): Sent {
  const pb = Float64Array.from(spanIndices(ps), (idx) => count(idx));
  const nb = Float64Array.from(spanIndices(ns), (idx) => count(idx + 7));
  const zeroCount = count(3) / 2;
  // Same summation order as Prometheus' validation: negative, positive, then the zero bucket.
  const total = nb.reduce((a, b) => a + b, 0) + pb.reduce((a, b) => a + b, 0) + zeroCount;
  return {
    kind: "float",
    h: {
      schema,
      zeroThreshold: zt,
      zeroCount,
      count: total,
      sum: i * 0.75 + 0.125,
      positiveSpans: ps,
      negativeSpans: ns,
      positiveBuckets: pb,
      negativeBuckets: nb,
      counterResetHint: hint,
    },
  };
}

const SERIES: SeriesDef[] = [
  {
    // Integer counter: buckets appear (also through non-canonical spans), a counter reset, a stale marker.
    name: "strata_hist_counter",
    k: 1,
    float: false,
    gauge: false,
    sample(i) {
      if (i === 90) return { kind: "stale" };
      if (i === 91) return undefined;
      // Counts per bucket index, growing with i (a counter), restarting at step 65.
      const c = (idx: number): number => ((Math.abs(idx) % 7) + 1) * (i < 65 ? i : i - 65) + 1;
      let ps: Span[];
      if (i < 10) ps = sp([0, 3], [2, 1]);
      else if (i < 20)
        ps = sp([0, 2], [0, 1], [2, 1], [1, 1]); // adds bucket 7, offset-0 split kept verbatim
      else if (i < 30) ps = sp([0, 3], [2, 1], [1, 2]);
      else ps = sp([-3, 1], [2, 3], [2, 1], [1, 2]);
      const ns = i < 25 ? sp([0, 2]) : sp([0, 2], [2, 1]);
      return intHist(i, 3, 2 ** -128, ps, ns, c, CounterResetHint.Unknown);
    },
  },
  {
    // Integer gauge: buckets come and go both ways, counts go up and down.
    name: "strata_hist_gauge",
    k: 2,
    float: false,
    gauge: true,
    sample(i) {
      const c = (idx: number): number => 10 + ((i * 7 + Math.abs(idx) * 3) % 13);
      const m = i % 10;
      const ps = m < 3 ? sp([0, 3]) : m < 6 ? sp([1, 4]) : sp([0, 1], [3, 1], [1, 1]);
      const ns = i % 7 < 3 ? [] : sp([-2, 3]);
      return intHist(i, 0, 0.001, ps, ns, c, CounterResetHint.Gauge);
    },
  },
  {
    // Float counter with fractional counts, growing layout, a stale marker.
    name: "strata_fhist_counter",
    k: 3,
    float: true,
    gauge: false,
    sample(i) {
      if (i === 70) return { kind: "stale" };
      if (i === 71 || i === 72) return undefined;
      const c = (idx: number): number => 0.25 * ((Math.abs(idx) % 7) + 1) * i + 0.5;
      const ps = i < 8 ? sp([0, 2]) : i < 30 ? sp([0, 2], [1, 1]) : sp([-2, 1], [1, 2], [1, 1]);
      const ns = i < 50 ? [] : sp([2, 1]);
      return floatHist(i, -2, 0, ps, ns, c, CounterResetHint.Unknown);
    },
  },
  {
    // Float gauge at the finest schema.
    name: "strata_fhist_gauge",
    k: 4,
    float: true,
    gauge: true,
    sample(i) {
      const c = (idx: number): number => 0.5 * ((i * 5 + Math.abs(idx) * 11) % 17);
      const m = i % 6;
      const ps = m < 2 ? sp([100, 2]) : m < 4 ? sp([101, 3]) : sp([99, 1], [2, 1]);
      const ns = m === 5 ? sp([-40, 2]) : [];
      return floatHist(i, 8, 2 ** -128, ps, ns, c, CounterResetHint.Gauge);
    },
  },
];

// ---- Remote write 1.0: protobuf by hand, snappy block format with literals only (valid snappy). ----

class Pb {
  readonly b: number[] = [];
  varint(v: number): this {
    while (v >= 128) {
      this.b.push((v % 128) + 128);
      v = Math.floor(v / 128);
    }
    this.b.push(v);
    return this;
  }
  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }
  uint(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }
  sint(field: number, v: number): this {
    return this.uint(field, v >= 0 ? 2 * v : -2 * v - 1);
  }
  double(field: number, v: number): this {
    this.tag(field, 1);
    return this.rawDouble(v);
  }
  rawDouble(v: number): this {
    const hi = floatHi(v);
    const lo = floatLo();
    for (let s = 0; s < 32; s += 8) this.b.push((lo >>> s) & 0xff);
    for (let s = 0; s < 32; s += 8) this.b.push((hi >>> s) & 0xff);
    return this;
  }
  bytes(field: number, sub: Pb | Uint8Array): this {
    const data = sub instanceof Pb ? sub.b : Array.from(sub);
    this.tag(field, 2).varint(data.length);
    for (const x of data) this.b.push(x);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
}

function pbSpans(pb: Pb, field: number, spans: Span[]): void {
  for (const s of spans) pb.bytes(field, new Pb().sint(1, s.offset).uint(2, s.length));
}

function pbHistogram(t: number, s: Sent): Pb {
  const pb = new Pb();
  if (s.kind === "int") {
    const h = s.h;
    pb.uint(1, h.count).double(3, h.sum).sint(4, h.schema).double(5, h.zeroThreshold).uint(6, h.zeroCount);
    const deltas = (abs: number[]): Pb => {
      const p = new Pb();
      abs.forEach((v, j) => {
        const d = v - (j > 0 ? abs[j - 1]! : 0);
        p.varint(d >= 0 ? 2 * d : -2 * d - 1);
      });
      return p;
    };
    pbSpans(pb, 8, h.negativeSpans);
    if (h.negativeBuckets.length) pb.bytes(9, deltas(h.negativeBuckets));
    pbSpans(pb, 11, h.positiveSpans);
    if (h.positiveBuckets.length) pb.bytes(12, deltas(h.positiveBuckets));
    pb.uint(14, h.counterResetHint === CounterResetHint.Gauge ? 3 : 0);
  } else if (s.kind === "float") {
    const h = s.h;
    pb.double(2, h.count).double(3, h.sum).sint(4, h.schema).double(5, h.zeroThreshold).double(7, h.zeroCount);
    const doubles = (v: Float64Array): Pb => {
      const p = new Pb();
      for (const x of v) p.rawDouble(x);
      return p;
    };
    pbSpans(pb, 8, h.negativeSpans);
    if (h.negativeBuckets.length) pb.bytes(10, doubles(h.negativeBuckets));
    pbSpans(pb, 11, h.positiveSpans);
    if (h.positiveBuckets.length) pb.bytes(13, doubles(h.positiveBuckets));
    pb.uint(14, h.counterResetHint === CounterResetHint.Gauge ? 3 : 0);
  }
  return pb.uint(15, t);
}

function writeRequest(entries: { def: SeriesDef; t: number; s: Sent }[]): Uint8Array {
  const req = new Pb();
  for (const { def, t, s } of entries) {
    const ts = new Pb();
    ts.bytes(1, new Pb().str(1, "__name__").str(2, def.name));
    if (s.kind === "stale") ts.bytes(2, new Pb().double(1, STALE_NAN).uint(2, t));
    else ts.bytes(4, pbHistogram(t, s));
    req.bytes(1, ts);
  }
  return Uint8Array.from(req.b);
}

function snappyLiteral(data: Uint8Array): Uint8Array {
  const out = new Pb().varint(data.length).b;
  for (let off = 0; off < data.length; off += 65536) {
    const n = Math.min(65536, data.length - off);
    if (n - 1 < 60) out.push((n - 1) << 2);
    else if (n - 1 < 256) out.push(60 << 2, n - 1);
    else out.push(61 << 2, (n - 1) & 0xff, (n - 1) >>> 8);
    for (let i = 0; i < n; i++) out.push(data[off + i]!);
  }
  return Uint8Array.from(out);
}

// ---- The server ----

const tmp = new TempDirs();
let child: ChildProcess | undefined;
let exited: Promise<void> = Promise.resolve();
let dataDir = "";
let blocks: BlockInfo[] = [];
const log: string[] = [];
const sent = new Map<number, Map<number, Sent>>(); // k → t → sample

async function stopServer(): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child?.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  assertExecutable(PROMETHEUS); // a missing binary fails the suite
  const root = await tmp.make("histograms");
  dataDir = join(root, "data");
  const config = join(root, "prometheus.yml");
  await writeFile(config, "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\nscrape_configs: []\n");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--enable-feature=native-histograms",
      "--web.enable-remote-write-receiver",
      "--storage.tsdb.min-block-duration=5m",
      "--storage.tsdb.max-block-duration=5m",
      "--storage.tsdb.retention.time=100y",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const c = child;
  exited = new Promise((resolve) => c.once("exit", () => resolve()));
  c.stdout?.on("data", (b: Buffer) => log.push(b.toString("utf8")));
  c.stderr?.on("data", (b: Buffer) => log.push(b.toString("utf8")));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (c.exitCode !== null) throw new Error(`prometheus exited:\n${log.join("")}`);
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready:\n${log.join("")}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // One request per step holding one sample per series, so no series mixes floats and histograms in a request.
  for (const def of SERIES) sent.set(def.k, new Map());
  for (let i = 0; i < N; i++) {
    const entries: { def: SeriesDef; t: number; s: Sent }[] = [];
    for (const def of SERIES) {
      const s = def.sample(i);
      if (!s) continue;
      const t = T0 + i * STEP + def.k;
      entries.push({ def, t, s });
      sent.get(def.k)!.set(t, s);
    }
    const r = await fetch(`${url}/api/v1/write`, {
      method: "POST",
      headers: {
        "Content-Encoding": "snappy",
        "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Write-Version": "0.1.0",
      },
      body: snappyLiteral(writeRequest(entries)),
    });
    if (r.status !== 204) throw new Error(`remote write at step ${i}: HTTP ${r.status} ${await r.text()}`);
  }

  // The head cuts 5-minute blocks until it spans at most 7.5 minutes: 5 blocks for 30 minutes.
  const until = Date.now() + 90_000;
  while ((blocks = await listBlocks(dataDir)).length < 5 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 250));
  await stopServer();
  blocks = await listBlocks(dataDir);
}, 180_000);

afterAll(async () => {
  await stopServer();
  await tmp.cleanup();
});

// ---- Minimal chunk segment parsing (no index needed: chunk times identify the series) ----

interface RawChunk {
  block: string;
  encoding: number;
  data: Uint8Array;
}

async function readChunks(block: BlockInfo): Promise<RawChunk[]> {
  const dir = join(block.dir, "chunks");
  const out: RawChunk[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const f = new Uint8Array(await readFile(join(dir, name)));
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    expect(dv.getUint32(0), `${name} magic`).toBe(0x85bd40dd);
    let off = 8;
    while (off < f.length) {
      let len = 0;
      let mul = 1;
      for (;;) {
        const byte = f[off++]!;
        len += (byte & 0x7f) * mul;
        mul *= 128;
        if (byte < 0x80) break;
      }
      const enc = f[off]!;
      const data = f.subarray(off + 1, off + 1 + len);
      expect(crc32c(f, off, off + 1 + len), `CRC of chunk at ${block.ulid}/${name}@${off}`).toBe(
        dv.getUint32(off + 1 + len),
      );
      out.push({ block: block.ulid, encoding: enc, data });
      off += 1 + len + 4;
    }
  }
  return out;
}

function bitsOf(v: number): string {
  return floatHi(v).toString(16).padStart(8, "0") + floatLo().toString(16).padStart(8, "0");
}

/** Comparable summary: non-empty buckets by index (recoded chunks add explicit zero buckets). */
function summary(h: Histogram | FloatHistogram): unknown {
  if (isStaleNaN(h.sum)) return ["stale", bitsOf(h.sum)];
  const side = (spans: Span[], counts: ArrayLike<number>): [number, number][] =>
    spanIndices(spans)
      .map((idx, j): [number, number] => [idx, counts[j]!])
      .filter(([, v]) => v !== 0);
  return [
    h.schema,
    h.zeroThreshold,
    h.count,
    h.zeroCount,
    bitsOf(h.sum),
    side(h.positiveSpans, h.positiveBuckets),
    side(h.negativeSpans, h.negativeBuckets),
  ];
}

describe("histogram chunks written by Prometheus 2.42", () => {
  it("wrote blocks holding integer and float histogram chunks", () => {
    expect(blocks.length, log.join("")).toBeGreaterThanOrEqual(4);
    expect(blocks[0]!.meta.minTime).toBe(T0 + 1);
  });

  it("decodes exactly the values sent, and re-encodes them to Prometheus' bytes", async () => {
    const seen = new Map<number, number[]>();
    const headers = new Map<number, { i: number; hint: number }[]>();
    const firstLayouts = new Map<number, Span[]>();
    let exactBytes = 0;
    let trailingZero = 0;
    let chunksChecked = 0;
    for (const block of blocks) {
      for (const c of await readChunks(block)) {
        expect([2, 3]).toContain(c.encoding);
        const float = c.encoding === 3;
        const samples = float ? decodeFloatHistogramChunk(c.data) : decodeHistogramChunk(c.data);
        const k = (samples[0]!.t - T0) % STEP;
        const def = SERIES.find((d) => d.k === k)!;
        expect(def.float, `${def.name} encoding`).toBe(float);
        const mine = sent.get(k)!;
        const want: Sent[] = [];
        for (const s of samples) {
          const w = mine.get(s.t);
          expect(w, `${def.name} t=${s.t} was sent`).toBeDefined();
          want.push(w!);
          expect(s.t).toBeGreaterThanOrEqual(block.meta.minTime);
          expect(s.t).toBeLessThan(block.meta.maxTime);
        }
        const wantSummary = want.map((w) => (w.kind === "stale" ? ["stale", "7ff0000000000002"] : summary(w.h)));
        expect(
          samples.map((s) => summary(s.h)),
          `${def.name} chunk at ${samples[0]!.t}`,
        ).toEqual(wantSummary);
        for (const s of samples) (seen.get(k) ?? seen.set(k, []).get(k)!).push(s.t);

        // Our encoder, fed the samples as sent (original spans), must write Prometheus' bytes.
        const { counterResetHint } = histogramChunkHeader(c.data);
        (headers.get(k) ?? headers.set(k, []).get(k)!).push({
          i: Math.floor((samples[0]!.t - T0) / STEP),
          hint: counterResetHint,
        });
        if (samples[0]!.t === T0 + k) firstLayouts.set(k, samples[0]!.h.positiveSpans);
        const staleH = {
          schema: 0,
          zeroThreshold: 0,
          zeroCount: 0,
          count: 0,
          sum: STALE_NAN,
          positiveSpans: [],
          negativeSpans: [],
          counterResetHint: CounterResetHint.Unknown,
        };
        const ours = float
          ? encodeFloatHistogramChunk(
              samples.map((s, j) => {
                const w = want[j]!;
                return {
                  t: s.t,
                  h:
                    w.kind === "float"
                      ? w.h
                      : { ...staleH, positiveBuckets: new Float64Array(0), negativeBuckets: new Float64Array(0) },
                };
              }),
              counterResetHint,
            )
          : encodeHistogramChunk(
              samples.map((s, j) => {
                const w = want[j]!;
                return { t: s.t, h: w.kind === "int" ? w.h : { ...staleH, positiveBuckets: [], negativeBuckets: [] } };
              }),
              counterResetHint,
            );
        const theirs = c.data;
        // Writers before 3.0 leave a zero byte after a stream that ends byte-aligned after a whole-byte write.
        const legacyPad = theirs.length === ours.length + 1 && theirs[theirs.length - 1] === 0;
        expect(
          Buffer.from(legacyPad ? theirs.subarray(0, ours.length) : theirs).toString("hex"),
          `${def.name} chunk at ${samples[0]!.t}`,
        ).toBe(Buffer.from(ours).toString("hex"));
        if (legacyPad) trailingZero++;
        else exactBytes++;
        chunksChecked++;
      }
    }
    expect(chunksChecked).toBeGreaterThanOrEqual(16);
    expect(exactBytes + trailingZero).toBe(chunksChecked);
    expect(exactBytes).toBeGreaterThan(0);

    // Every sample sent inside the blocks' time ranges came back.
    const lo = blocks[0]!.meta.minTime;
    const hi = blocks[blocks.length - 1]!.meta.maxTime;
    for (const def of SERIES) {
      const expected = [...sent.get(def.k)!.keys()].filter((t) => t >= lo && t < hi);
      expect(
        (seen.get(def.k) ?? []).sort((a, b) => a - b),
        def.name,
      ).toEqual(expected);
    }
    // Headers: gauges are marked gauge; the counter's reset at step 65 and its restart after the stale marker.
    expect(headers.get(2)!.every((h) => h.hint === CounterResetHint.Gauge)).toBe(true);
    expect(headers.get(4)!.every((h) => h.hint === CounterResetHint.Gauge)).toBe(true);
    expect(headers.get(1)).toContainEqual({ i: 65, hint: CounterResetHint.Reset });
    expect(headers.get(1)).toContainEqual({ i: 92, hint: CounterResetHint.Unknown });
    expect(headers.get(3)).toContainEqual({ i: 73, hint: CounterResetHint.Unknown });
    // The layouts Prometheus recoded to: the counter keeps the non-canonical spans of the sample
    // that brought bucket 7; the gauge ends with the canonical union of {0,1,2}, {1..4}, {0,4,6}.
    expect(firstLayouts.get(1)).toEqual(sp([0, 2], [0, 1], [2, 1], [1, 1]));
    expect(firstLayouts.get(2)).toEqual(sp([0, 5], [1, 1]));
  });
});
