/**
 * The hashes that name compaction groups and assign blocks to jobs, bit-compatible with
 * the Go code whose keys they must match:
 * - `externalLabelsHash`: Prometheus `labels.Hash()` as Thanos builds it (the `slicelabels` tag,
 *   identical to `labels.StableHash` used by Mimir): XXH64 over
 *   `name 0xff value 0xff …` with the labels sorted by name. Thanos' group key is
 *   `"<resolution>@<externalLabelsHash>"` in decimal.
 * - `hashBlockId`: Cortex/Mimir `HashBlockID`, FNV-1 32 (multiply, then xor: not FNV-1a)
 *   over the 16 ULID bytes.
 */
import { compareStrings, utf8Encode } from "@strata/tsdb";
import { xxhash64 } from "@strata/tsdb";

const SEP = 0xff;

/** Prometheus labels.Hash() of a label map (e.g. `thanos.labels`). */
export function externalLabelsHash(labels: Readonly<Record<string, string>> | null | undefined): bigint {
  const names = labels ? Object.keys(labels).sort(compareStrings) : [];
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const name of names) {
    const n = utf8Encode(name);
    const v = utf8Encode(labels![name]!);
    parts.push(n, v);
    size += n.length + v.length + 2;
  }
  const buf = new Uint8Array(size);
  let off = 0;
  for (let i = 0; i < parts.length; i++) {
    buf.set(parts[i]!, off);
    off += parts[i]!.length;
    buf[off++] = SEP;
  }
  return xxhash64(buf);
}

/** Thanos' group key: `"<resolution>@<labels hash>"`. */
export function thanosGroupKey(
  resolution: number,
  labels: Readonly<Record<string, string>> | null | undefined,
): string {
  return `${resolution}@${externalLabelsHash(labels)}`;
}

const ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DEC = new Int8Array(128).fill(-1);
for (let i = 0; i < ULID_ALPHABET.length; i++) {
  DEC[ULID_ALPHABET.charCodeAt(i)] = i;
  DEC[ULID_ALPHABET.toLowerCase().charCodeAt(i)] = i;
}

/** The 16 bytes of a ULID (oklog's binary form), from its 26-character text. */
export function ulidBytes(id: string): Uint8Array {
  if (id.length !== 26) throw new RangeError(`not a ULID: ${JSON.stringify(id)}`);
  // 26 base32 digits carry 130 bits; the top 2 are zero. Accumulate as a bigint.
  let v = 0n;
  for (let i = 0; i < 26; i++) {
    const c = id.charCodeAt(i);
    const d = c < 128 ? DEC[c]! : -1;
    if (d < 0) throw new RangeError(`not a ULID: ${JSON.stringify(id)}`);
    v = (v << 5n) | BigInt(d);
  }
  if (v >> 128n) throw new RangeError(`ULID overflows 128 bits: ${JSON.stringify(id)}`);
  const out = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** FNV-1 32 of bytes (Cortex' `HashNew32`/`HashAddByte32`). */
export function fnv1_32(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h = Math.imul(h, 0x01000193);
    h ^= data[i]!;
  }
  return h >>> 0;
}

/** Mimir's HashBlockID: which split group a block falls into is `hashBlockId(ulid) % groups`. */
export function hashBlockId(ulid: string): number {
  return fnv1_32(ulidBytes(ulid));
}
