import { BitReader } from "../encoding/bstream.ts";
import { FormatError } from "../encoding/errors.ts";
import { STALE_NAN_HI, STALE_NAN_LO } from "../encoding/float-bits.ts";
import { readVarbitInt } from "./varbit.ts";

/**
 * Decoder for Prometheus' experimental XOR2 float chunk, encoding 4 (P: tsdb/chunkenc/
 * xor2.go, 2026). Written from the code, which disagrees with the format docs in places
 * (dod widths, ST header). Decode only: nothing here writes XOR2.
 *
 *   BE16 count | u8 ST header (bit 7: sample 0 carries an ST; bits 6-0: index of
 *   the first sample whose ST changed, 0 = never) | bit stream:
 *   sample 0 : varint t0, 64-bit v0, [varint (t0 - st0) if bit 7]
 *   sample 1 : uvarint uint64(t1 - t0), VALUE, [varbit_int (t0 - st1) if index = 1]
 *   sample k : CONTROL (below), [ST varbit_int once k ≥ change index]
 *
 *   CONTROL   0      dod 0, value = baseline
 *             10     dod 0, value changed: `0` reuse window | `1` L5 sig6, then bits
 *             110    13-bit two's complement dod, then VALUE
 *             1110   20-bit two's complement dod, then VALUE
 *             11110  64-bit dod, then VALUE
 *             11111  dod 0, stale NaN
 *   VALUE     0 baseline | 10 reuse window | 110 L5 sig6 + bits | 111 stale NaN
 *
 * XORs apply to the *baseline*: the last value that was not a stale marker. The first
 * ST change stores prevT - st; later samples store the change of that difference.
 */

export function xor2NumSamples(data: Uint8Array): number {
  if (data.length < 3) {
    throw new FormatError("invalid-size", "XOR2 chunk shorter than its header", {
      offset: 0,
      expected: "≥ 3 bytes",
      found: `${data.length}`,
    });
  }
  return (data[0]! << 8) | data[1]!;
}

const TWO32 = 4294967296;

/** A uint64 LEB128 read through the bit stream, returned as the int64 it encodes. */
function readInt64Uvarint(r: BitReader): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 10; i++) {
    const g = r.readByte();
    const s = 7 * i;
    const v = g & 0x7f;
    if (s < 28) lo |= v << s;
    else if (s === 28) {
      lo |= v << 28;
      hi = v >>> 4;
    } else hi |= v << (s - 32);
    if (g < 0x80) return (hi | 0) * TWO32 + (lo >>> 0);
  }
  throw new FormatError("invalid-value", "XOR2 timestamp varint longer than 10 bytes", { offset: r.pos >>> 3 });
}

/** Signed two's complement of width n ≤ 32. */
function readSigned(r: BitReader, n: number): number {
  const u = r.readBits(n);
  return u >= 2 ** (n - 1) ? u - 2 ** n : u;
}

/**
 * Decode every sample into ts/vs (and start timestamps into st, when given; 0 means
 * unknown) from `offset`, returning the count. Throws FormatError on truncation or a
 * window wider than 64 bits.
 */
export function decodeXOR2(
  data: Uint8Array,
  ts: Float64Array,
  vs: Float64Array,
  st?: Float64Array,
  offset = 0,
): number {
  const n = xor2NumSamples(data);
  if (n === 0) return 0;
  if (offset < 0 || offset + n > ts.length || offset + n > vs.length || (st !== undefined && offset + n > st.length)) {
    throw new RangeError(`decodeXOR2: ${n} samples do not fit at offset ${offset}`);
  }
  const firstSTKnown = (data[2]! & 0x80) !== 0;
  const stChangeOn = data[2]! & 0x7f;
  const v32 = new Int32Array(vs.buffer, vs.byteOffset, vs.length * 2);
  const r = new BitReader(data, 3);

  // Baseline value (halves) and current value; the window starts at L = T = 0.
  let bHi = 0;
  let bLo = 0;
  let vHi = 0;
  let vLo = 0;
  let lead = 0;
  let trail = 0;

  const xorBits = (newWindow: boolean, at: number) => {
    if (newWindow) {
      lead = r.readBits(5);
      let sig = r.readBits(6);
      if (sig === 0) sig = 64;
      if (lead + sig > 64) {
        throw new FormatError("invalid-value", "XOR2 value window exceeds 64 bits", {
          offset: at >>> 3,
          expected: "leading + significant ≤ 64",
          found: `${lead} + ${sig}`,
        });
      }
      trail = 64 - lead - sig;
    }
    r.readBits64(64 - lead - trail);
    // Shift the sig bits left by `trail` into (xh, xl).
    let xh: number;
    let xl: number;
    if (trail >= 32) {
      xh = r.lo << (trail - 32);
      xl = 0;
    } else if (trail > 0) {
      xh = (r.hi << trail) | (r.lo >>> (32 - trail));
      xl = r.lo << trail;
    } else {
      xh = r.hi;
      xl = r.lo;
    }
    bHi ^= xh;
    bLo ^= xl;
    vHi = bHi;
    vLo = bLo;
  };
  // VALUE field of sample 1 and of samples with dod ≠ 0.
  const value = (at: number) => {
    // The control prefix 0, 10, 110 or 111: the number of 1 bits before a 0, at most 3.
    let ones = 0;
    while (ones < 3 && r.readBit() !== 0) ones++;
    if (ones === 0) {
      vHi = bHi;
      vLo = bLo;
    } else if (ones === 1) xorBits(false, at);
    else if (ones === 2) xorBits(true, at);
    else {
      vHi = STALE_NAN_HI;
      vLo = STALE_NAN_LO;
    }
  };
  const isStale = () => vHi === STALE_NAN_HI && vLo === STALE_NAN_LO;

  let t = 0;
  let tDelta = 0;
  let stv = 0;
  let stDiff = 0;
  let i = 0;
  try {
    for (; i < n; i++) {
      const at = r.pos;
      const prevT = t;
      if (i === 0) {
        const zz = readInt64Uvarint(r);
        // Undo zigzag on the int64 read back as a double (exact for |t| < 2^52).
        t = zz >= 0 ? (zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2) : readZigzagNeg(zz);
        r.readBits64(64);
        vHi = r.hi;
        vLo = r.lo;
        if (!isStale()) {
          bHi = vHi;
          bLo = vLo;
        }
        if (firstSTKnown) {
          const d = readInt64Uvarint(r);
          stv = t - (d % 2 === 0 ? d / 2 : -(d + 1) / 2);
        }
      } else if (i === 1) {
        tDelta = readInt64Uvarint(r);
        t += tDelta;
        value(at);
        if (stChangeOn === 1) {
          stDiff = readVarbitInt(r);
          stv = prevT - stDiff;
        }
      } else {
        let ones = 0;
        while (ones < 5 && r.readBit() === 1) ones++;
        if (ones === 0) {
          t += tDelta;
          vHi = bHi;
          vLo = bLo;
        } else if (ones === 1) {
          t += tDelta;
          xorBits(r.readBit() === 1, at);
        } else if (ones === 5) {
          t += tDelta;
          vHi = STALE_NAN_HI;
          vLo = STALE_NAN_LO;
        } else {
          let dod: number;
          if (ones === 2) dod = readSigned(r, 13);
          else if (ones === 3) dod = readSigned(r, 20);
          else {
            r.readBits64(64);
            dod = (r.hi | 0) * TWO32 + r.lo;
          }
          tDelta += dod;
          t += tDelta;
          value(at);
        }
        if (stChangeOn > 0 && i >= stChangeOn) {
          const sd = readVarbitInt(r);
          stDiff = i === stChangeOn ? sd : stDiff + sd;
          stv = prevT - stDiff;
        }
      }
      ts[offset + i] = t;
      v32[2 * (offset + i)] = vLo;
      v32[2 * (offset + i) + 1] = vHi;
      if (st !== undefined) st[offset + i] = stv;
    }
  } catch (e) {
    if (e instanceof FormatError && e.code === "invalid-size") {
      throw new FormatError(
        "invalid-size",
        `XOR2 chunk ends inside sample ${i}`,
        {
          offset: e.offset,
          expected: `${n} samples`,
          found: `${i} complete samples in ${data.length} bytes`,
        },
        { cause: e },
      );
    }
    throw e;
  }
  return n;
}

/** Zigzag decode of a uvarint whose top bit was set (read back as a negative int64). */
function readZigzagNeg(zz: number): number {
  // zz is uint64 u - 2^64; u >> 1 ≥ 2^62 is outside any exact timestamp anyway.
  const u = zz + 2 ** 64;
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}
