/** One chunk of a data column value; times as Go writes them (uint64 of the int64). */
export interface EncodedChunk {
  encoding: number;
  minTime: number;
  maxTime: number;
  data: Uint8Array;
}

class Cursor {
  pos = 0;
  readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  uvarint(): bigint {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.b.length) throw new RangeError(`truncated varint at ${this.pos}`);
      const x = this.b[this.pos++]!;
      v |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) return v;
      shift += 7n;
      if (shift > 63n) throw new RangeError(`varint overflows 64 bits at ${this.pos}`);
    }
  }
  varint(): number {
    const u = this.uvarint();
    return Number((u & 1n) === 0n ? u >> 1n : -((u + 1n) >> 1n));
  }
}

/** A data column value back into its chunks (parquet-common's PrometheusParquetChunksDecoder, no time filter). */
export function decodeDataColumn(value: Uint8Array): EncodedChunk[] {
  const out: EncodedChunk[] = [];
  const c = new Cursor(value);
  while (c.pos < value.length) {
    const encoding = Number(c.uvarint());
    const minTime = Number(BigInt.asIntN(64, c.uvarint()));
    const maxTime = Number(BigInt.asIntN(64, c.uvarint()));
    const len = Number(c.uvarint());
    if (c.pos + len > value.length) throw new RangeError(`chunk of ${len} bytes past the value's end`);
    out.push({ encoding, minTime, maxTime, data: value.subarray(c.pos, c.pos + len) });
    c.pos += len;
  }
  return out;
}

/** s_col_indexes back into column indexes. */
export function decodeColIndexes(value: Uint8Array): number[] {
  const c = new Cursor(value);
  const n = c.varint();
  if (n < 0 || n > value.length) throw new RangeError(`bad column count ${n}`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(c.varint());
  return out;
}
