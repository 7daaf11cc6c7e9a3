/**
 * Walks the index's series section front to back (§10 items 10-11): alignment and zero
 * padding, each entry's bounds and CRC, symbol references. Yields one reused entry at a
 * time (label refs as symbol ordinals, chunk metas in typed arrays), so memory is one
 * series. A framing error that makes the next entry unfindable ends the walk.
 */
import { Decbuf } from "@strata/tsdb";
import { refRange, symbolOrdinal, type IndexHead } from "./index-head.ts";
import { Code, type Problems } from "./report.ts";
import { Window } from "./window.ts";

const FILE = "index";

export interface RawSeries {
  id: number;
  /** Absolute offset of the entry and its total size (len varint + body + CRC). */
  offset: number;
  size: number;
  /** Label pairs as symbol ordinals: name of pair i at 2i, value at 2i+1. */
  labels: Uint32Array;
  numLabels: number;
  numChunks: number;
  minT: Float64Array;
  maxT: Float64Array;
  ref: Float64Array;
}

export interface ScanState {
  /** Every entry was found and parsed: series counts and cross-checks are meaningful. */
  intact: boolean;
}

export async function* scanSeries(h: IndexHead, problems: Problems, state: ScanState): AsyncGenerator<RawSeries> {
  const start = h.seriesStart;
  const end = h.seriesEnd;
  if (start === 0) return;
  const v1 = h.version === 1;
  const win = new Window(h.src);
  const s: RawSeries = {
    id: 0,
    offset: 0,
    size: 0,
    labels: new Uint32Array(64),
    numLabels: 0,
    numChunks: 0,
    minT: new Float64Array(64),
    maxT: new Float64Array(64),
    ref: new Float64Array(64),
  };
  let pos = start;
  while (pos < end) {
    const { b, at, n } = await win.upTo(pos, Math.min(end - pos, 64));
    if (b[at] === 0) {
      // Zero padding up to the next 16-byte boundary; an entry never starts with 0x00.
      if (!v1 && pos % 16 === 0) {
        problems.add({
          code: Code.SeriesMisaligned,
          file: FILE,
          offset: pos,
          message: "zero byte where a series entry should start",
          expected: "entry length varint",
        });
        state.intact = false;
        return;
      }
      pos++;
      continue;
    }
    if (!v1 && pos % 16 !== 0) {
      problems.add({
        code: Code.SeriesMisaligned,
        file: FILE,
        offset: pos,
        message: "non-zero byte in the padding between series entries",
        expected: "0x00",
        found: String(b[at]),
      });
      state.intact = false;
      return;
    }
    // Entry length: a ≤ 5-byte varint.
    let len = 0;
    let mul = 1;
    let vlen = 0;
    for (;;) {
      if (vlen >= n || vlen === 5) {
        problems.add({
          code: Code.OutOfBounds,
          file: FILE,
          offset: pos,
          message: "series entry length is not a valid varint inside the series section",
        });
        state.intact = false;
        return;
      }
      const x = b[at + vlen++]!;
      len += (x & 0x7f) * mul;
      if (x < 0x80) break;
      mul *= 128;
    }
    const size = vlen + len + 4;
    if (size > end - pos) {
      problems.add({
        code: Code.OutOfBounds,
        file: FILE,
        offset: pos,
        message: "series entry runs past the end of the series section",
        expected: `≤ ${end - pos} bytes`,
        found: `${size} bytes`,
      });
      state.intact = false;
      return;
    }
    const id = v1 ? pos : pos / 16;
    const e = await win.get(pos, size);
    const d = new Decbuf(e.b, { start: e.at + vlen, end: e.at + vlen + len, base: pos - e.at, file: FILE });
    try {
      d.verifyCrc(e.at + vlen, e.at + vlen + len);
      parseBody(d, h, s);
    } catch (err) {
      const code = (err as { symbolRef?: boolean }).symbolRef ? Code.SymbolRefOutOfRange : undefined;
      problems.fromError(err, { file: FILE, what: `series entry ${id}`, code });
      state.intact = false;
      pos += size;
      continue;
    }
    s.id = id;
    s.offset = pos;
    s.size = size;
    yield s;
    pos += size;
  }
}

function parseBody(d: Decbuf, h: IndexHead, s: RawSeries): void {
  const k = d.uvarint();
  if (k > d.remaining() / 2) throw d.error("invalid-size", "label count exceeds the series entry", String(k));
  if (s.labels.length < 2 * k) s.labels = new Uint32Array(2 * k);
  const labels = s.labels;
  for (let i = 0; i < 2 * k; i++) {
    const at = d.pos;
    const ref = d.uvarint();
    const ord = symbolOrdinal(h, ref);
    if (ord < 0) {
      const err = d.error("invalid-value", "series refers to an unknown symbol", String(ref), refRange(h), at);
      throw Object.assign(err, { symbolRef: true });
    }
    labels[i] = ord;
  }
  s.numLabels = k;
  const c = d.uvarint();
  if (c > d.remaining() / 3) throw d.error("invalid-size", "chunk count exceeds the series entry", String(c));
  if (s.minT.length < c) {
    s.minT = new Float64Array(c);
    s.maxT = new Float64Array(c);
    s.ref = new Float64Array(c);
  }
  s.numChunks = c;
  if (c > 0) {
    let minT = d.varint();
    let maxT = minT + int64Delta(d);
    let ref = d.uvarint();
    s.minT[0] = minT;
    s.maxT[0] = maxT;
    s.ref[0] = ref;
    for (let i = 1; i < c; i++) {
      minT = maxT + int64Delta(d);
      maxT = minT + int64Delta(d);
      ref += d.varint();
      s.minT[i] = minT;
      s.maxT[i] = maxT;
      s.ref[i] = ref;
    }
  }
  if (d.remaining() !== 0)
    throw d.error("invalid-size", "series entry has bytes after its last chunk", `${d.remaining()} bytes`, "0");
}

/**
 * A time delta written by Go as uvarint(uint64(a - b)) and read back as int64: negative
 * deltas (overlapping or inverted chunks, which the verifier must see as such) arrive as
 * huge uvarints and wrap. Exact via BigInt on that rare path.
 */
function int64Delta(d: Decbuf): number {
  const start = d.pos;
  const v = d.uvarint();
  if (v < 2 ** 53) return v;
  let big = 0n;
  let shift = 0n;
  for (let i = start; i < d.pos; i++) {
    big |= BigInt(d.b[i]! & 0x7f) << shift;
    shift += 7n;
  }
  return Number(BigInt.asIntN(64, big));
}
