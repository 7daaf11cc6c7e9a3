import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BitReader, BitWriter } from "../src/encoding/bstream.ts";
import { FormatError } from "../src/encoding/errors.ts";
import { decodeXOR, encodeXOR, XOR_MAX_SAMPLES, xorNumSamples, XOREncoder, XORIterator } from "../src/chunkenc/xor.ts";
import { decodeXOR2, xor2NumSamples } from "../src/chunkenc/xor2.ts";
import { mulberry32 } from "@strata/testkit";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/[^0-9a-fA-F]/g, ""), "hex"));

/** Samples with values held as bit patterns (i32 halves: lo at 2i, hi at 2i+1). */
interface Series {
  ts: Float64Array;
  vs: Float64Array;
  v32: Int32Array;
}
function series(n: number): Series {
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  return { ts, vs, v32: new Int32Array(vs.buffer) };
}

/**
 * A deliberately plain XOR encoder on the general BitWriter, written straight from the
 * format description (tsdb-block-format.md §7.1); the fast encoder must match it byte
 * for byte.
 */
function referenceEncode(s: Series, n: number): Uint8Array {
  const bw = new BitWriter();
  bw.writeBits(n >>> 8, 8);
  bw.writeBits(n & 0xff, 8);
  const putUvarint = (hi: number, lo: number) => {
    // 64-bit LEB128 from BigInt, simplest possible.
    let x = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    while (x >= 0x80n) {
      bw.writeByte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    bw.writeByte(Number(x));
  };
  const u64 = (x: bigint) => BigInt.asUintN(64, x);
  let prevT = 0n;
  let prevDelta = 0n;
  let prevBits = 0n;
  let wl = 0xff;
  let wt = 0;
  for (let i = 0; i < n; i++) {
    const t = BigInt(s.ts[i]!);
    const bits = (BigInt(s.v32[2 * i + 1]! >>> 0) << 32n) | BigInt(s.v32[2 * i]! >>> 0);
    if (i === 0) {
      const zz = u64((t << 1n) ^ (t >> 63n));
      putUvarint(Number(zz >> 32n), Number(zz & 0xffffffffn));
      bw.writeBits64(Number(bits >> 32n), Number(bits & 0xffffffffn), 64);
    } else {
      const d = t - prevT;
      if (i === 1) {
        const ud = u64(d);
        putUvarint(Number(ud >> 32n), Number(ud & 0xffffffffn));
      } else {
        const dod = d - prevDelta;
        const inRange = (nb: number) => dod >= -((1n << BigInt(nb - 1)) - 1n) && dod <= 1n << BigInt(nb - 1);
        const low = (nb: number) => Number(BigInt.asUintN(nb, dod));
        if (dod === 0n) bw.writeBit(0);
        else if (inRange(14)) bw.writeBits(0b10, 2), bw.writeBits(low(14), 14);
        else if (inRange(17)) bw.writeBits(0b110, 3), bw.writeBits(low(17), 17);
        else if (inRange(20)) bw.writeBits(0b1110, 4), bw.writeBits(low(20), 20);
        else {
          bw.writeBits(0b1111, 4);
          const u = u64(dod);
          bw.writeBits64(Number(u >> 32n), Number(u & 0xffffffffn), 64);
        }
      }
      prevDelta = d;
      const x = bits ^ prevBits;
      if (x === 0n) bw.writeBit(0);
      else {
        bw.writeBit(1);
        let lz = x.toString(2).length;
        lz = 64 - lz;
        let tz = 0;
        while (((x >> BigInt(tz)) & 1n) === 0n) tz++;
        if (lz > 31) lz = 31;
        if (wl !== 0xff && lz >= wl && tz >= wt) {
          bw.writeBit(0);
        } else {
          bw.writeBit(1);
          wl = lz;
          wt = tz;
          bw.writeBits(lz, 5);
          bw.writeBits((64 - lz - tz) & 63, 6);
        }
        const sig = 64 - wl - wt;
        const m = x >> BigInt(wt);
        bw.writeBits64(Number(m >> 32n), Number(m & 0xffffffffn), sig);
      }
    }
    prevT = t;
    prevBits = bits;
  }
  return bw.bytes().slice();
}

/** Plain decoder on BitReader, to cross-check decodeXOR on arbitrary (even odd) input. */
function referenceDecode(data: Uint8Array): { ts: bigint[]; bits: bigint[] } {
  const n = (data[0]! << 8) | data[1]!;
  const br = new BitReader(data, 2);
  const ts: bigint[] = [];
  const bitsOut: bigint[] = [];
  const rd = (k: number) => (br.readBits64(k), (BigInt(br.hi) << 32n) | BigInt(br.lo));
  const uvarint = () => {
    let x = 0n;
    for (let s = 0n; ; s += 7n) {
      const b = br.readByte();
      x |= BigInt(b & 0x7f) << s;
      if (b < 0x80) return x;
    }
  };
  let t = 0n;
  let delta = 0n;
  let v = 0n;
  let l = 0;
  let tr = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0) {
      const zz = uvarint();
      t = zz & 1n ? -(zz >> 1n) - 1n : zz >> 1n;
      v = rd(64);
    } else {
      if (i === 1) delta = BigInt.asIntN(64, uvarint());
      else {
        let ones = 0;
        while (ones < 4 && br.readBit() === 1) ones++;
        let dod = 0n;
        const sz = [0, 14, 17, 20][ones];
        if (ones === 4) dod = BigInt.asIntN(64, rd(64));
        else if (sz) {
          dod = rd(sz);
          if (dod > 1n << BigInt(sz - 1)) dod -= 1n << BigInt(sz);
        }
        delta += dod;
      }
      t += delta;
      if (br.readBit() === 1) {
        if (br.readBit() === 1) {
          l = br.readBits(5);
          let sig = br.readBits(6);
          if (sig === 0) sig = 64;
          tr = 64 - l - sig;
        }
        v ^= rd(64 - l - tr) << BigInt(tr);
      }
    }
    ts.push(t);
    bitsOut.push(v);
  }
  return { ts, bits: bitsOut };
}

// Interesting value bit patterns: NaNs (canonical, stale marker, other payloads),
// infinities, signed zeros, denormals, extremes, and patterns that force L clamping,
// T ≥ 32 and the 64-significant-bit window.
const SPECIAL: [number, number][] = [
  [0x7ff80000, 0], // NaN
  [0x7ff00000, 2], // stale NaN
  [0xfff00000, 1], // another NaN payload
  [0x7ff00000, 0], // +Inf
  [0xfff00000, 0], // -Inf
  [0, 0], // +0
  [0x80000000, 0], // -0
  [0, 1], // min denormal
  [0x000fffff, 0xffffffff], // max denormal
  [0x7fefffff, 0xffffffff], // max float
  [0x80000000, 1], // sign + lowest bit: 64 significant bits against 0
  [0x3ff00000, 0], // 1.0
  [0, 0x80000000],
  [1, 0],
];

function randomSeries(rnd: () => number, n: number): Series {
  const s = series(n);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
  const u32 = () => (rnd() * 4294967296) >>> 0;
  // Timestamps: start anywhere in ±2^45, then deltas whose dods hit each bucket, their
  // edges, the 64-bit form, and negative deltas.
  const dodEdges = [0, 1, -1, 8192, -8191, 8193, -8192, 65536, -65535, 65537, -65536, 524288, -524287, 524289, -524288];
  let t = Math.floor((rnd() - 0.5) * 2 ** 46);
  let delta = Math.floor(rnd() * 60000) - 1000;
  let hi = u32() | 0;
  let lo = u32() | 0;
  const style = rnd();
  for (let i = 0; i < n; i++) {
    const r = rnd();
    let dod = 0;
    if (r < 0.4) dod = 0;
    else if (r < 0.7) dod = pick(dodEdges);
    else if (r < 0.85) dod = Math.floor((rnd() - 0.5) * 2 ** (1 + Math.floor(rnd() * 22)));
    else if (r < 0.95) dod = Math.floor((rnd() - 0.5) * 2 ** 36);
    else dod = -2 * delta; // reverse direction
    if (Math.abs(t) > 2 ** 47 || Math.abs(delta + dod) > 2 ** 44) dod = -delta; // stay well inside ±2^53
    if (i >= 2) delta += dod;
    else if (i === 1) delta = pick([delta, -delta, 0, 2 ** 40, -(2 ** 40)]);
    if (i > 0) t += delta;
    s.ts[i] = t;

    const q = rnd();
    if (style < 0.2) {
      // mostly special values and repeats
      if (q < 0.6) [hi, lo] = pick(SPECIAL);
    } else if (style < 0.5) {
      // counter-like: integers
      if (q < 0.8) {
        s.vs[i] = (i > 0 ? s.vs[i - 1]! : 0) + Math.floor(rnd() * 100);
        hi = s.v32[2 * i + 1]!;
        lo = s.v32[2 * i]!;
      }
    } else if (q < 0.3) {
      // unchanged
    } else if (q < 0.5) {
      lo ^= 1 << Math.floor(rnd() * 32); // low half only: T small, L clamped to 31
    } else if (q < 0.7) {
      hi ^= 1 << Math.floor(rnd() * 32); // high half only: T ≥ 32
    } else if (q < 0.8) {
      [hi, lo] = pick(SPECIAL);
    } else {
      hi = u32() | 0;
      lo = u32() | 0;
    }
    s.v32[2 * i + 1] = hi;
    s.v32[2 * i] = lo;
  }
  return s;
}

/** Record which encoding cases a series exercises. */
function tally(s: Series, n: number, seen: Set<string>): void {
  if (n === 1) seen.add("n=1");
  if (n > 1 && s.ts[1]! < s.ts[0]!) seen.add("delta1<0");
  for (let i = 2; i < n; i++) {
    const dod = s.ts[i]! - s.ts[i - 1]! - (s.ts[i - 1]! - s.ts[i - 2]!);
    const fits = (b: number) => dod >= -(2 ** (b - 1) - 1) && dod <= 2 ** (b - 1);
    seen.add(dod === 0 ? "dod0" : fits(14) ? "dod14" : fits(17) ? "dod17" : fits(20) ? "dod20" : "dod64");
  }
  for (let i = 0; i < n; i++) {
    const hi = s.v32[2 * i + 1]!;
    const lo = s.v32[2 * i]!;
    if (hi === 0x7ff00000 && lo === 2) seen.add("stale");
    if (i === 0) continue;
    const xh = hi ^ s.v32[2 * i - 1]!;
    const xl = lo ^ s.v32[2 * i - 2]!;
    if ((xh | xl) === 0) seen.add("x=0");
    else if (xh === 0) seen.add("L clamped");
    else if (xl === 0) seen.add("T>=32");
    if (xh < 0 && (xl & 1) === 1) seen.add("sig64");
  }
}

function expectSameSamples(a: Series, b: Series, n: number, offA = 0, offB = 0): void {
  for (let i = 0; i < n; i++) {
    if (
      a.ts[offA + i] !== b.ts[offB + i] ||
      a.v32[2 * (offA + i)] !== b.v32[2 * (offB + i)] ||
      a.v32[2 * (offA + i) + 1] !== b.v32[2 * (offB + i) + 1]
    ) {
      expect({ i, t: b.ts[offB + i], hi: b.v32[2 * (offB + i) + 1], lo: b.v32[2 * (offB + i)] }).toEqual({
        i,
        t: a.ts[offA + i],
        hi: a.v32[2 * (offA + i) + 1],
        lo: a.v32[2 * (offA + i)],
      });
    }
  }
}

describe("XOR chunk vectors", () => {
  const vector = "0003 d00f 3ff0000000000000 e807 3097ffc0";
  const s = series(3);
  s.ts.set([1000, 2000, 3000]);
  s.vs.set([1, 1, 2]);

  it("encodes the reference vector", () => {
    expect(hex(encodeXOR(s.ts, s.vs, 0, 3))).toBe(hex(unhex(vector)));
    const e = new XOREncoder();
    for (let i = 0; i < 3; i++) e.append(s.ts[i]!, s.vs[i]!);
    expect(hex(e.bytes())).toBe(hex(unhex(vector)));
    expect(e.numSamples).toBe(3);
  });

  it("decodes the reference vector, with or without a legacy trailing zero byte", () => {
    for (const bytes of [unhex(vector), unhex(vector + "00"), unhex(vector + "000000")]) {
      const out = series(3);
      expect(xorNumSamples(bytes)).toBe(3);
      expect(decodeXOR(bytes, out.ts, out.vs)).toBe(3);
      expectSameSamples(s, out, 3);
    }
  });

  it("reads the pre-v3 single-sample chunk from index_format_v1 and writes the v3 form", () => {
    const legacy = unhex("000100" + "00".repeat(8) + "00"); // 12 bytes, last one the extra byte
    const out = series(1);
    expect(decodeXOR(legacy, out.ts, out.vs)).toBe(1);
    expect([out.ts[0], out.vs[0]]).toEqual([0, 0]);
    expect(hex(encodeXOR(new Float64Array([0]), new Float64Array([0]), 0, 1))).toBe("000100" + "00".repeat(8));
  });

  it("handles empty chunks", () => {
    const e = new XOREncoder();
    expect(hex(e.bytes())).toBe("0000");
    expect(decodeXOR(e.bytes(), new Float64Array(0), new Float64Array(0))).toBe(0);
    const it = new XORIterator(e.bytes());
    expect(it.next()).toBe(false);
    expect(it.err).toBeUndefined();
  });
});

describe("XOR round trips", () => {
  it("round-trips thousands of random series bit-exactly, matching a plain reference codec", () => {
    const rnd = mulberry32(0x5eed);
    const it = new XORIterator();
    const enc = new XOREncoder();
    const one = new Float64Array(1);
    const one32 = new Int32Array(one.buffer);
    const seen = new Set<string>();
    for (let k = 0; k < 3000; k++) {
      const n = k % 10 === 0 ? 1 + Math.floor(rnd() * 2000) : 1 + Math.floor(rnd() * 150);
      const s = randomSeries(rnd, n);
      tally(s, n, seen);
      const b = encodeXOR(s.ts, s.vs, 0, n);
      if (k % 4 === 1) expect(hex(b)).toBe(hex(referenceEncode(s, n)));
      // Incremental appends produce the same bytes.
      enc.reset();
      for (let i = 0; i < n; i++) enc.append(s.ts[i]!, s.vs[i]!);
      expect(hex(enc.bytes())).toBe(hex(b));

      const off = k % 3;
      const out = series(n + off);
      expect(decodeXOR(b, out.ts, out.vs, off)).toBe(n);
      expectSameSamples(s, out, n, 0, off);

      it.reset(b);
      let got = 0;
      while (it.next()) {
        one[0] = it.v;
        if (it.t !== s.ts[got] || one32[0] !== s.v32[2 * got] || one32[1] !== s.v32[2 * got + 1]) {
          expect([got, it.t, one32[1], one32[0]]).toEqual([got, s.ts[got], s.v32[2 * got + 1], s.v32[2 * got]]);
        }
        got++;
      }
      expect(got).toBe(n);
      expect(it.err).toBeUndefined();
    }
    // The generator really exercised every bucket and value form.
    expect([...seen].sort()).toEqual(
      [
        "dod0",
        "dod14",
        "dod17",
        "dod20",
        "dod64",
        "delta1<0",
        "x=0",
        "L clamped",
        "T>=32",
        "sig64",
        "stale",
        "n=1",
      ].sort(),
    );
  });

  it("agrees with the reference decoder on a sub-range encode", () => {
    const rnd = mulberry32(7);
    const s = randomSeries(rnd, 500);
    const b = encodeXOR(s.ts, s.vs, 100, 400);
    const ref = referenceDecode(b);
    expect(ref.ts.length).toBe(300);
    for (let i = 0; i < 300; i++) {
      expect(ref.ts[i]).toBe(BigInt(s.ts[100 + i]!));
      expect(ref.bits[i]).toBe((BigInt(s.v32[2 * (100 + i) + 1]! >>> 0) << 32n) | BigInt(s.v32[2 * (100 + i)]! >>> 0));
    }
  });

  it("keeps the stale-marker NaN bits through append(t, v) and the iterator", () => {
    const stale = new Float64Array(new Int32Array([2, 0x7ff00000]).buffer);
    const e = new XOREncoder();
    e.append(1, 1);
    e.append(2, stale[0]!);
    e.append(3, NaN);
    const it = new XORIterator(e.bytes());
    const f = new Float64Array(1);
    const w = new Int32Array(f.buffer);
    expect(it.next() && it.next()).toBe(true);
    f[0] = it.v;
    expect([w[1], w[0]]).toEqual([0x7ff00000, 2]);
    expect(it.next()).toBe(true);
    f[0] = it.v;
    expect([w[1], w[0]]).toEqual([0x7ff80000, 0]);
  });

  it("seeks like Prometheus' iterator", () => {
    const e = new XOREncoder();
    for (let i = 0; i < 10; i++) e.append(i * 10, i);
    const it = new XORIterator(e.bytes());
    expect(it.seek(35)).toBe(true);
    expect([it.t, it.v]).toEqual([40, 4]);
    expect(it.seek(20)).toBe(true);
    expect(it.t).toBe(40);
    expect(it.seek(1000)).toBe(false);
  });

  it("rejects timestamps that are not safe integers, keeping what was appended", () => {
    const e = new XOREncoder();
    expect(() => e.append(0.5, 1)).toThrow(RangeError);
    e.append(1000, 1);
    e.append(2000, 1);
    expect(() => e.append(3000.25, 1)).toThrow(RangeError);
    expect(() => e.append(NaN, 1)).toThrow(RangeError);
    expect(() => e.append(2 ** 60, 1)).toThrow(RangeError);
    e.append(3000, 2);
    expect(hex(e.bytes())).toBe("0003d00f3ff0000000000000e8073097ffc0");
  });

  it("caps a chunk at 65535 samples", () => {
    const n = XOR_MAX_SAMPLES;
    const ts = new Float64Array(n + 1).map((_, i) => i * 1000);
    const vs = new Float64Array(n + 1);
    const b = encodeXOR(ts, vs, 0, n);
    expect(xorNumSamples(b)).toBe(65535);
    expect(decodeXOR(b, new Float64Array(n), new Float64Array(n))).toBe(n);
    expect(() => encodeXOR(ts, vs, 0, n + 1)).toThrow(/capacity/);
    const e = new XOREncoder();
    for (let i = 0; i < n; i++) e.append(ts[i]!, 0);
    expect(() => e.append(ts[n]!, 0)).toThrow(/capacity/);
  });
});

describe("XOR malformed input", () => {
  it("throws FormatError on every truncation, and the iterator yields the intact prefix", () => {
    const rnd = mulberry32(99);
    const it = new XORIterator();
    const problems: string[] = [];
    for (let k = 0; k < 60; k++) {
      const n = 1 + Math.floor(rnd() * 40);
      const s = randomSeries(rnd, n);
      const b = encodeXOR(s.ts, s.vs, 0, n);
      const out = series(n);
      for (let len = 0; len < b.length; len++) {
        const cut = b.slice(0, len);
        let err: unknown;
        try {
          decodeXOR(cut, out.ts, out.vs);
        } catch (e) {
          err = e;
        }
        const fe = err as FormatError;
        if (!(err instanceof FormatError) || fe.code !== "invalid-size" || !(fe.offset! >= 0 && fe.offset! <= len)) {
          problems.push(`series ${k} cut at ${len}: ${String(err)}`);
        }
        it.reset(cut);
        let got = 0;
        while (it.next()) {
          if (it.t !== s.ts[got]) problems.push(`series ${k} cut at ${len}: sample ${got} t ${it.t}`);
          got++;
        }
        if (!(it.err instanceof FormatError) || got >= n)
          problems.push(`series ${k} cut at ${len}: iterator gave ${got}, err ${it.err}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("rejects a value window wider than 64 bits", () => {
    // Sample 1 of the reference vector rewritten as `11`, L=31, sig=40.
    const bw = new BitWriter();
    for (const x of unhex("0002 d00f 3ff0000000000000 e807")) bw.writeByte(x);
    bw.writeBits(0b11, 2);
    bw.writeBits(31, 5);
    bw.writeBits(40, 6);
    bw.writeBits(0, 32);
    bw.writeBits(0, 8);
    let err: unknown;
    try {
      decodeXOR(bw.bytes(), new Float64Array(2), new Float64Array(2));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).code).toBe("invalid-value");
    expect((err as FormatError).offset).toBe(12); // where sample 1 starts
  });

  it("rejects an over-long timestamp varint", () => {
    const b = unhex("0001" + "ff".repeat(10) + "01" + "00".repeat(8));
    expect(() => decodeXOR(b, new Float64Array(1), new Float64Array(1))).toThrow(FormatError);
  });

  it("never throws anything but FormatError on random bytes, and agrees with the reference decoder", () => {
    const rnd = mulberry32(1234);
    for (let k = 0; k < 3000; k++) {
      const len = Math.floor(rnd() * 64);
      const b = new Uint8Array(len).map(() => (rnd() * 256) | 0);
      if (len >= 2) b[0] = 0;
      const n = len >= 2 ? xorNumSamples(b) : 0;
      const out = series(Math.max(n, 1));
      let ref: ReturnType<typeof referenceDecode> | undefined;
      try {
        ref = referenceDecode(b);
      } catch {
        ref = undefined;
      }
      try {
        expect(decodeXOR(b, out.ts, out.vs)).toBe(n);
        // Compare where doubles are exact (random varints can exceed 2^53).
        if (ref?.ts.every((t) => t < 2n ** 50n && t > -(2n ** 50n))) {
          for (let i = 0; i < n; i++) {
            expect(BigInt(out.ts[i]!)).toBe(ref.ts[i]);
            expect((BigInt(out.v32[2 * i + 1]! >>> 0) << 32n) | BigInt(out.v32[2 * i]! >>> 0)).toBe(ref.bits[i]);
          }
        }
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });

  it("rejects headers shorter than two bytes", () => {
    expect(() => xorNumSamples(new Uint8Array([1]))).toThrow(FormatError);
    const it = new XORIterator(new Uint8Array(0));
    expect(it.next()).toBe(false);
    expect(it.err?.code).toBe("invalid-size");
  });
});

describe("chunks-xor.md", () => {
  it("keeps its XOR example bytes in step with the codec", () => {
    const doc = readFileSync(new URL("../docs/format/chunks-xor.md", import.meta.url), "utf8");
    const m = /<!-- example: xor -->\s*```[a-z]*\n([\s\S]*?)```/.exec(doc);
    expect(m).not.toBeNull();
    const bytes = unhex(
      m![1]!
        .split("\n")
        .map((l) => l.replace(/#.*$/, ""))
        .join(" "),
    );
    const out = series(3);
    expect(decodeXOR(bytes, out.ts, out.vs)).toBe(3);
    expect(Array.from(out.ts)).toEqual([1000, 2000, 3000]);
    expect(Array.from(out.vs)).toEqual([1, 1, 2]);
    expect(encodeXOR(out.ts, out.vs, 0, 3)).toEqual(bytes);
  });
});

describe("XOR2 decoding (bytes reasoned out from P: tsdb/chunkenc/xor2.go)", () => {
  const bits = (s: Series, i: number) => [s.v32[2 * i + 1]! >>> 0, s.v32[2 * i]! >>> 0];
  const STALE = [0x7ff00000, 2];
  const ONE = [0x3ff00000, 0];
  const TWO = [0x40000000, 0];

  // (1000,1) (2000,1) (3000,2) (4000,2) (5000,stale) (6000,2), no ST:
  // 0 | 10 1 00001 001011 1×11 | 0 | 11111 | 0
  const ex1 = "0006 00 d00f 3ff0000000000000 e807 5097ffdf00";
  // (st 500: 1000,1) (500: 2000,1) (1500: 3100,1.5) (1500: 4300,1.5); header 0x82:
  // ST known for sample 0 (varint 500), first ST change at sample 2 (prevT - st = 500,
  // then +1100). Sample 2: 110 dod=100 | 110 L=12 sig=1 '1' | ST 11110 500.
  // Sample 3: 110 dod=100 | 0 | ST 11110 1100.
  const ex2 = "0004 82 d00f 3ff0000000000000 e807 e807 603266 03f0fa60323c8980";
  // (0,1) (1000,2) (2000,4) (103000,stale) (204000+2^40,4) (305000+2^40... dod 0, 4):
  // 110 new window | 10 0 reuse | 1110 dod=100000 111 | 11110 dod=2^40 0 | 0
  const ex3 = "0006 00 00 3ff0000000000000 e807 c12fffc003c30d41fc 000002000000000000";

  it("decodes joint control codes, stale markers and the baseline rule", () => {
    const out = series(6);
    expect(decodeXOR2(unhex(ex1), out.ts, out.vs)).toBe(6);
    expect(Array.from(out.ts)).toEqual([1000, 2000, 3000, 4000, 5000, 6000]);
    expect([0, 1, 2, 3, 4, 5].map((i) => bits(out, i))).toEqual([ONE, ONE, TWO, TWO, STALE, TWO]);
  });

  it("decodes start timestamps", () => {
    const out = series(4);
    const st = new Float64Array(4);
    expect(decodeXOR2(unhex(ex2), out.ts, out.vs, st)).toBe(4);
    expect(Array.from(out.ts)).toEqual([1000, 2000, 3100, 4300]);
    expect(Array.from(out.vs)).toEqual([1, 1, 1.5, 1.5]);
    expect(Array.from(st)).toEqual([500, 500, 1500, 1500]);
  });

  it("decodes 20- and 64-bit dods, window reuse and stale values with a dod", () => {
    const b = unhex(ex3);
    expect(xor2NumSamples(b)).toBe(6);
    const out = series(7);
    expect(decodeXOR2(b, out.ts, out.vs, undefined, 1)).toBe(6);
    const t4 = 204000 + 2 ** 40;
    expect(Array.from(out.ts.subarray(1))).toEqual([0, 1000, 2000, 103000, t4, t4 + 101000 + 2 ** 40]);
    expect([1, 2, 3, 4, 5, 6].map((i) => bits(out, i))).toEqual([
      ONE,
      TWO,
      [0x40100000, 0],
      STALE,
      [0x40100000, 0],
      [0x40100000, 0],
    ]);
  });

  it("throws FormatError on every truncation", () => {
    for (const ex of [ex1, ex2, ex3]) {
      const b = unhex(ex);
      const out = series(6);
      const st = new Float64Array(6);
      for (let len = 0; len < b.length; len++) {
        expect(() => decodeXOR2(b.subarray(0, len), out.ts, out.vs, st)).toThrow(FormatError);
      }
    }
  });
});
