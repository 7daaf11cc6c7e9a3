import type { ByteBuf } from "./bytes.ts";

/** Prometheus' tsdb.DefaultSamplesPerChunk: parquet-common cuts a re-encoded chunk at this many samples. */
export const SAMPLES_PER_CHUNK = 120;

export interface ReencodeOptions {
  mint: number;
  maxt: number;
  colDuration: number;
  dataColumns: number;
  samplesPerChunk: number;
}

/** One re-encoded chunk in a data column value: uvarints of encoding, min and max time (as uint64), length. */
export function writeChunk(out: ByteBuf, encoding: number, minT: number, maxT: number, bytes: Uint8Array): void {
  out.uvarint(encoding);
  if (minT >= 0) out.uvarint(minT);
  else out.uvarintBig(BigInt.asUintN(64, BigInt(minT)));
  if (maxT >= 0) out.uvarint(maxT);
  else out.uvarintBig(BigInt.asUintN(64, BigInt(maxT)));
  out.uvarint(bytes.length);
  out.bytes(bytes);
}
