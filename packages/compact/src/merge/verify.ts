/**
 * Lazy chunk verification. Inputs are read without checking chunk CRCs: a chunk copied
 * as its stored record takes its stored CRC along into the output, where every later
 * reader (`strata verify`, promtool, store gateways) checks it, and every input block was
 * fully verified when it was uploaded. Checking 36 MB of CRCs per compaction for chunks
 * that are only copied was the largest single cost of a cold run. A chunk that is decoded
 * (merged, trimmed, tombstoned) is different: decoding garbage would silently turn into
 * wrong samples under a fresh, valid CRC, so it is verified right before decoding.
 */
import type { ChunkToWrite } from "@strata/tsdb";

/** What can check a record read unverified; throws a FormatError naming block, file and offset. */
export interface RecordVerifier {
  verifyRecord(ref: number, record: Uint8Array): void;
}

/** A chunk whose stored record has not been CRC-checked yet (`verifier` set until it is). */
export interface UnverifiedChunk extends ChunkToWrite {
  verifier?: RecordVerifier;
  ref?: number;
}

/** Call before decoding `c`: checks its record's CRC if that was skipped on read (once). */
export function verifyBeforeDecode(c: ChunkToWrite): void {
  const u = c as UnverifiedChunk;
  const v = u.verifier;
  if (v === undefined || u.record === undefined) return;
  v.verifyRecord(u.ref!, u.record);
  u.verifier = undefined;
}
