import type { Label } from "@strata/tsdb";
import { ByteBuf } from "./bytes.ts";
import { xxhash64 } from "@strata/tsdb";

/** s_col_indexes: signed varints of the count, then the label columns' indexes ascending (schema.EncodeIntSlice). */
export function encodeColIndexes(idx: number[]): Uint8Array {
  idx.sort((a, b) => a - b);
  const b = new ByteBuf(2 + idx.length * 3);
  b.varint(idx.length);
  for (const i of idx) b.varint(i);
  return b.copy();
}

const hashBuf = new ByteBuf(1024);
const utf8 = new TextEncoder();

/** s_series_hash: Prometheus' labels.StableHash (XXH64 of name 0xff value 0xff …), 8 bytes big-endian. */
export function seriesHash(labels: readonly Label[]): Uint8Array {
  hashBuf.reset();
  for (const l of labels) {
    hashBuf.bytes(utf8.encode(l.name));
    hashBuf.byte(0xff);
    hashBuf.bytes(utf8.encode(l.value));
    hashBuf.byte(0xff);
  }
  const h = xxhash64(hashBuf.buf, 0n, hashBuf.len);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, h, false);
  return out;
}
