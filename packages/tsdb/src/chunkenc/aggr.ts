import { FormatError } from "../encoding/errors.ts";
import { chunkNumSamples, Encoding, type Chunk } from "./chunk.ts";

/**
 * Thanos' downsampling aggregate chunk, encoding byte 0xFF (T: pkg/compact/downsample/
 * aggr.go). Its data is five entries, one per aggregate in AggrType order:
 *
 *   present: uvarint(len(sub.data)) | sub.encoding (1 byte) | sub.data
 *   absent:  uvarint(0)
 *
 * The length excludes the encoding byte. Prometheus cannot read these chunks.
 */

export const AggrType = {
  Count: 0,
  Sum: 1,
  Min: 2,
  Max: 3,
  Counter: 4,
} as const;
export type AggrTypeValue = (typeof AggrType)[keyof typeof AggrType];

export const AGGR_PARTS = 5;

export function aggrTypeName(t: number): string {
  return ["count", "sum", "min", "max", "counter"][t] ?? "<unknown>";
}

/**
 * Encode the five aggregates (index = AggrType) as Thanos does. Missing entries (or a
 * shorter array) are absent. A present sub-chunk must have data: Thanos would write a
 * zero length for it, which every reader then takes for "absent".
 */
export function encodeAggrChunk(parts: readonly (Chunk | undefined)[]): Uint8Array {
  if (parts.length > AGGR_PARTS) {
    throw new RangeError(`an aggregate chunk holds ${AGGR_PARTS} parts, got ${parts.length}`);
  }
  let size = 0;
  for (let i = 0; i < AGGR_PARTS; i++) {
    const p = parts[i];
    if (p === undefined) {
      size += 1;
      continue;
    }
    if (p.data.length === 0) throw new RangeError(`aggregate ${aggrTypeName(i)} has an empty sub-chunk`);
    if (p.encoding < 0 || p.encoding > 0xff || p.encoding === Encoding.Aggr) {
      throw new RangeError(`aggregate ${aggrTypeName(i)} has unusable encoding ${p.encoding}`);
    }
    size += uvarintLen(p.data.length) + 1 + p.data.length;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = 0; i < AGGR_PARTS; i++) {
    const p = parts[i];
    if (p === undefined) {
      out[o++] = 0;
      continue;
    }
    let l = p.data.length;
    while (l >= 0x80) {
      out[o++] = (l & 0x7f) | 0x80;
      l >>>= 7;
    }
    out[o++] = l;
    out[o++] = p.encoding;
    out.set(p.data, o);
    o += p.data.length;
  }
  return out;
}

function uvarintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/**
 * Read one entry at `at`: returns the position after it, and sets `entry` to the
 * sub-chunk (a view into data) or undefined when absent. Throws FormatError if the
 * varint or the sub-chunk runs past the end.
 */
let entry: Chunk | undefined;
function readEntry(data: Uint8Array, at: number, which: number): number {
  const start = at;
  let len = 0;
  let mul = 1;
  for (let i = 0; ; i++) {
    if (at >= data.length) {
      throw new FormatError("invalid-size", `aggregate chunk ends inside the ${aggrTypeName(which)} length`, {
        offset: start,
        expected: "a uvarint length",
        found: `${data.length - start} bytes`,
      });
    }
    if (i === 10) {
      throw new FormatError("invalid-value", `${aggrTypeName(which)} length varint is longer than 10 bytes`, {
        offset: start,
      });
    }
    const b = data[at++]!;
    len += (b & 0x7f) * mul;
    mul *= 128;
    if (b < 0x80) break;
  }
  if (len === 0) {
    entry = undefined;
    return at;
  }
  // The length is checked against the bytes present before anything is sliced.
  if (len + 1 > data.length - at) {
    throw new FormatError("invalid-size", `${aggrTypeName(which)} sub-chunk runs past the end of the aggregate chunk`, {
      offset: start,
      expected: `${len + 1} bytes (encoding + data)`,
      found: `${data.length - at}`,
    });
  }
  entry = { encoding: data[at]!, data: data.subarray(at + 1, at + 1 + len) };
  return at + 1 + len;
}

/**
 * The five aggregates (index = AggrType; undefined = absent). Sub-chunk data are views
 * into `data`. Bytes after the fifth entry are ignored, as Thanos ignores them.
 */
export function decodeAggrChunk(data: Uint8Array): (Chunk | undefined)[] {
  const out: (Chunk | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < AGGR_PARTS; i++) {
    at = readEntry(data, at, i);
    out.push(entry);
  }
  return out;
}

/** One aggregate, reading only the entries before it (Thanos' AggrChunk.Get). */
export function getAggr(data: Uint8Array, t: AggrTypeValue): Chunk | undefined {
  let at = 0;
  for (let i = 0; i <= t; i++) at = readEntry(data, at, i);
  return entry;
}

/**
 * What Thanos reports as the chunk's NumSamples: the sample count of the count
 * aggregate, or 0 when that is absent or unreadable (Thanos swallows the error).
 * Thanos' Get also demands at least one byte after a zero length, which always holds
 * for the count entry of a well-formed chunk.
 */
export function aggrNumSamples(data: Uint8Array): number {
  let c: Chunk | undefined;
  try {
    c = getAggr(data, AggrType.Count);
  } catch (e) {
    if (e instanceof FormatError) return 0;
    throw e;
  }
  return c === undefined ? 0 : chunkNumSamples(c);
}
