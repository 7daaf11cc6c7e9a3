/** What a verification checks and against which limits (read by verify.ts and meta-check.ts). */
export interface VerifyOptions {
  /** The ULID the block is stored under (its directory or prefix name); must equal meta.ulid. */
  expectedUlid?: string;
  /** Problems kept per code (all are counted). Default 100. */
  maxProblemsPerCode?: number;
  /** Read and decode every chunk (default true). Without it only the index and meta are checked. */
  chunks?: boolean;
  /** A larger meta.json is MetaTooLarge, refused before a byte is read. Default MAX_META_BYTES (1 MiB). */
  maxMetaBytes?: number;
  /** maxTime - minTime above this is MetaRangeTooLong. Default 14 days, the largest compaction range. */
  maxRangeMs?: number;
  /** "Now" for MetaInFuture, epoch ms. Default Date.now(). */
  now?: number;
  /** How far past `now` maxTime may lie before it is MetaInFuture. Default 1 day. */
  futureSlackMs?: number;
}
