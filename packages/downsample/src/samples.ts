/**
 * A growable run of float samples in two Float64Arrays (times, values), filled chunk by
 * chunk with Thanos' expansion rules. Values stay in a Float64Array so stale-marker NaN
 * payloads survive (plain JS arrays canonicalise NaNs).
 */
import { decodeXOR, xorLastDecodePlain, xorNumSamples, STALE_NAN_HI, STALE_NAN_LO, FormatError } from "@strata/tsdb";

// The marker's bit pattern as written, never through a JS number in an array: V8 keeps NaNs
// in double arrays canonical (`new Float64Array([STALE_NAN])` reads back 0x7ff80000_00000002),
// which made every stale marker look like an ordinary NaN to the checks below.
const STALE_HI = STALE_NAN_HI;
const STALE_LO = STALE_NAN_LO;

export class FloatRun {
  ts = new Float64Array(1024);
  vs = new Float64Array(1024);
  private v32 = new Int32Array(this.vs.buffer);
  n = 0;

  clear(): void {
    this.n = 0;
  }

  ensure(cap: number): void {
    if (cap <= this.ts.length) return;
    let c = this.ts.length;
    while (c < cap) c *= 2;
    const ts = new Float64Array(c);
    const vs = new Float64Array(c);
    ts.set(this.ts.subarray(0, this.n));
    vs.set(this.vs.subarray(0, this.n));
    this.ts = ts;
    this.vs = vs;
    this.v32 = new Int32Array(vs.buffer);
  }

  /** Append one sample (no filtering). */
  push(t: number, v: number): void {
    if (this.n === this.ts.length) this.ensure(this.n + 1);
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }

  /**
   * Decode an XOR chunk onto the end of the run, then drop, as Thanos' expansion does,
   * stale markers and samples that go back in time within this chunk (the time floor
   * starts at 0 for every chunk, so negative timestamps are dropped too).
   */
  appendXOR(data: Uint8Array): void {
    const k = xorNumSamples(data);
    if (k === 0) return;
    const start = this.n;
    this.ensure(start + k);
    const got = decodeXOR(data, this.ts, this.vs, start);
    if (xorLastDecodePlain()) {
      this.n = start + got;
      return;
    }
    const ts = this.ts;
    const vs = this.vs;
    const v32 = this.v32;
    let w = start;
    let lastT = 0;
    for (let i = start; i < start + got; i++) {
      const v = vs[i]!;
      // Only a NaN can be the stale marker; compare its bits only then.
      if (v !== v && v32[2 * i + 1] === STALE_HI && v32[2 * i] === STALE_LO) continue;
      const t = ts[i]!;
      if (t < lastT) continue;
      lastT = t;
      if (w !== i) {
        ts[w] = t;
        vs[w] = v;
      }
      w++;
    }
    this.n = w;
  }

  /** Decode an XOR chunk onto the end of the run as it is (no filtering). */
  appendXORUnfiltered(data: Uint8Array): void {
    const k = xorNumSamples(data);
    if (k === 0) return;
    this.ensure(this.n + k);
    this.n += decodeXOR(data, this.ts, this.vs, this.n);
  }

  /** Is value i the stale marker (bit-exact)? */
  isStale(i: number): boolean {
    return this.v32[2 * i + 1] === STALE_HI && this.v32[2 * i] === STALE_LO;
  }
}

/** The error for a sub-chunk or chunk the downsampler cannot read. */
export function unsupportedEncoding(what: string, encoding: number): FormatError {
  return new FormatError("unknown-encoding", `${what}: cannot downsample chunk encoding ${encoding}`, {
    expected: "XOR (1), histogram (2) or float histogram (3)",
    found: String(encoding),
  });
}
