/**
 * Series → shard assignment of Mimir's split-and-merge compactor: a series goes to output
 * `labels.Hash() % N` (Prometheus' label hash: XXH64 over `name 0xff value 0xff` for every
 * label, in label order), and output i is labelled `__compactor_shard_id__="<i+1>_of_<N>"`
 * in its meta's external labels (never in the series). Pure function of the labels, so
 * the assignment is the same on every run and every machine.
 */
import { utf8Encode, type Labels } from "@strata/tsdb";
import { xxhash64 } from "@strata/tsdb";

/** Mimir's external label naming a split output; defined with the block meta. */
export { COMPACTOR_SHARD_ID_LABEL } from "@strata/tsdb";

const SEP = 0xff;

/** Prometheus' `labels.Labels.Hash()` (model/labels), as an unsigned 64-bit bigint. */
export function labelsHash(ls: Labels): bigint {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (const l of ls) {
    const name = utf8Encode(l.name);
    const value = utf8Encode(l.value);
    parts.push(name, value);
    n += name.length + value.length + 2;
  }
  const buf = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < parts.length; i++) {
    buf.set(parts[i]!, o);
    o += parts[i]!.length;
    buf[o++] = SEP;
  }
  return xxhash64(buf);
}

/** The 0-based output a series goes to among `shards`. */
export function shardOf(ls: Labels, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1)
    throw new RangeError(`shard count must be a positive integer, got ${shards}`);
  if (shards === 1) return 0;
  return Number(labelsHash(ls) % BigInt(shards));
}

/** `"<i+1>_of_<N>"`: the 1-based label value Mimir gives output i of N. */
export function formatShardId(index: number, shards: number): string {
  return `${index + 1}_of_${shards}`;
}

/** Parses `"<i>_of_<N>"` back to { index: i - 1, shards: N }; undefined when malformed. */
export function parseShardId(value: string): { index: number; shards: number } | undefined {
  const m = /^([1-9][0-9]*)_of_([1-9][0-9]*)$/.exec(value);
  if (!m) return undefined;
  const i = Number(m[1]);
  const n = Number(m[2]);
  return i <= n ? { index: i - 1, shards: n } : undefined;
}
