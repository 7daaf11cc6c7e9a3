/**
 * Raw float samples → Thanos aggregate chunks (T: DownsampleRaw, downsampleRawLoop,
 * downsampleFloatBatch, downsampleBatch, floatAggregator). One pass per batch fills
 * per-window scratch arrays; five XOR encoders then take them in bulk.
 */
import { Encoding, XOREncoder, type Chunk, type ChunkToWrite } from "@strata/tsdb";
import { ASSUMED_RAW_INTERVAL, currentWindow, targetChunkCount } from "./resolution.ts";
import type { FloatRun } from "./samples.ts";

const MAX_FLOAT = Number.MAX_VALUE;

/** Per-window outputs and the encoders, reused across batches and series. */
export class FloatScratch {
  /** Window timestamps and the four plain aggregates. */
  wt = new Float64Array(256);
  vals: [Float64Array, Float64Array, Float64Array, Float64Array] = [
    new Float64Array(256),
    new Float64Array(256),
    new Float64Array(256),
    new Float64Array(256),
  ];
  /** Counter chunk samples: first raw, one per window, last raw. */
  cts = new Float64Array(258);
  cvs = new Float64Array(258);
  private readonly enc = new XOREncoder();
  private readonly views = new WeakMap<Float64Array, Int32Array>();
  /**
   * One series' aggregate chunk bytes, back to back. Chunks handed out are views into it,
   * so it is only rewound by beginSeries() (growing it leaves old views intact).
   */
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private bufLen = 0;

  /** The previous series' chunks are written: their bytes may be reused. */
  beginSeries(): void {
    this.bufLen = 0;
  }

  ensure(windows: number): void {
    if (windows + 2 <= this.cts.length) return;
    let c = this.wt.length;
    while (c < windows + 2) c *= 2;
    this.wt = new Float64Array(c);
    this.vals = [new Float64Array(c), new Float64Array(c), new Float64Array(c), new Float64Array(c)];
    this.cts = new Float64Array(c + 2);
    this.cvs = new Float64Array(c + 2);
  }

  /** One XOR sub-chunk of [0, n) of the given times and values. */
  xor(ts: Float64Array, vs: Float64Array, n: number): Chunk {
    this.enc.reset();
    this.enc.appendRange(ts, this.v32(vs), 0, n);
    return { encoding: Encoding.XOR, data: this.enc.bytes() };
  }

  private v32(vs: Float64Array): Int32Array {
    let v32 = this.views.get(vs);
    if (v32 === undefined) this.views.set(vs, (v32 = new Int32Array(vs.buffer, vs.byteOffset, vs.length * 2)));
    return v32;
  }

  /** Start an aggregate chunk (encoding 0xFF) in the series buffer; returns its start. */
  aggrStart(): number {
    return this.bufLen;
  }

  /**
   * Append one aggregate entry (Thanos' layout: uvarint(len) | encoding | data) holding
   * an XOR sub-chunk of [0, n) of the given times and values.
   */
  aggrPart(ts: Float64Array, vs: Float64Array, n: number): void {
    const enc = this.enc;
    enc.reset();
    enc.appendRange(ts, this.v32(vs), 0, n);
    const len = enc.byteLength;
    if (this.bufLen + len + 6 > this.buf.length) {
      let c = this.buf.length * 2;
      while (c < this.bufLen + len + 6) c *= 2;
      const nb = new Uint8Array(c);
      nb.set(this.buf.subarray(0, this.bufLen));
      this.buf = nb;
      this.view = new DataView(nb.buffer);
    }
    const b = this.buf;
    let o = this.bufLen;
    let l = len;
    while (l >= 0x80) {
      b[o++] = (l & 0x7f) | 0x80;
      l >>>= 7;
    }
    b[o++] = l;
    b[o++] = Encoding.XOR;
    this.bufLen = enc.bytesInto(b, this.view, o);
  }

  /** The aggregate chunk's bytes since `start` (a view into the series buffer). */
  aggrEnd(start: number): Uint8Array {
    return this.buf.subarray(start, this.bufLen);
  }
}

/**
 * Downsample one run of raw float samples (already expanded: stale markers and
 * backwards samples gone) into aggregate chunks appended to `out`.
 */
export function downsampleRawFloat(run: FloatRun, resolution: number, out: ChunkToWrite[], s: FloatScratch): void {
  const n = run.n;
  if (n === 0) return;
  const ts = run.ts;
  const vs = run.vs;
  const numChunks = targetChunkCount(ts[0]!, ts[n - 1]!, ASSUMED_RAW_INTERVAL, resolution, n);
  const batchSize = Math.trunc(n / numChunks) + 1;
  let i = 0;
  while (i < n) {
    let j = Math.min(i + batchSize, n);
    // A batch ends with the window of its last sample, so windows never straddle chunks.
    const curW = currentWindow(ts[j - 1]!, resolution);
    while (j < n && ts[j]! <= curW) j++;
    const c = floatBatch(ts, vs, i, j, resolution, s);
    if (c) out.push(c);
    i = j;
  }
}

/**
 * One aggregate chunk from samples [from, to), NaN values left out (Thanos drops every
 * NaN from a batch after choosing its bounds). Undefined when nothing is left.
 */
function floatBatch(
  ts: Float64Array,
  vs: Float64Array,
  from: number,
  to: number,
  res: number,
  s: FloatScratch,
): ChunkToWrite | undefined {
  let first = from;
  while (first < to && vs[first] !== vs[first]) first++;
  if (first === to) return undefined;
  let last = to - 1;
  while (vs[last] !== vs[last]) last--;
  const lastT = ts[last]!;
  s.ensure(to - from);
  const wt = s.wt;
  const [cnt, sum, mn, mx] = s.vals;
  const cts = s.cts;
  const cvs = s.cvs;
  // The counter chunk opens with the first raw value at its own time.
  cts[0] = ts[first]!;
  cvs[0] = vs[first]!;
  let nc = 1;
  let nw = 0;
  let counter = vs[first]!;
  let prev = counter;
  // One window per outer iteration; the inner loop is the hot one (no window test per
  // branch). NaNs are skipped everywhere, and never open a window.
  let k = first;
  while (k <= last) {
    const t0 = ts[k]!;
    const w = currentWindow(t0, res);
    // The last window is stamped with the batch's last sample, not its end.
    const end = w < lastT ? w : lastT;
    // The opener (never NaN) always joins its window, as in Thanos: after a step back
    // across chunks it may lie past the batch's last time (end < t0), where a loop that
    // began with the `> end` test would take no sample and never advance.
    const v0 = vs[k]!;
    if (k !== first) counter += v0 < prev ? v0 : v0 - prev;
    prev = v0;
    let count = 1;
    let wsum = 0 + v0;
    let wmin = v0 < MAX_FLOAT ? v0 : MAX_FLOAT;
    let wmax = v0 > -MAX_FLOAT ? v0 : -MAX_FLOAT;
    for (k++; k <= last; k++) {
      if (ts[k]! > end) break;
      const v = vs[k]!;
      if (v !== v) continue;
      // A reset adds the value, else the increase (the batch's first sample only set the
      // counter: ∞ − ∞ must not make it NaN). Written as selects, which V8 compiles without
      // branches: gauges' random ups and downs would mispredict a branch half the time.
      counter += v < prev ? v : v - prev;
      prev = v;
      wsum += v;
      count++;
      wmin = v < wmin ? v : wmin;
      wmax = v > wmax ? v : wmax;
    }
    wt[nw] = end;
    cnt[nw] = count;
    sum[nw] = wsum;
    mn[nw] = wmin;
    mx[nw] = wmax;
    nw++;
    cts[nc] = end;
    cvs[nc] = counter;
    nc++;
    while (k <= last && vs[k] !== vs[k]) k++;
  }
  const nextT = wt[nw - 1]!;
  // The last raw value closes the counter chunk under the repeated last timestamp.
  cts[nc] = nextT;
  cvs[nc] = vs[last]!;
  nc++;
  // Written straight into the series buffer in AggrType order (count, sum, min, max,
  // counter), as encodeAggrChunk would lay them out.
  const at = s.aggrStart();
  s.aggrPart(wt, cnt, nw);
  s.aggrPart(wt, sum, nw);
  s.aggrPart(wt, mn, nw);
  s.aggrPart(wt, mx, nw);
  s.aggrPart(cts, cvs, nc);
  return { minTime: wt[0]!, maxTime: wt[nw - 1]!, chunk: { encoding: Encoding.Aggr, data: s.aggrEnd(at) } };
}
