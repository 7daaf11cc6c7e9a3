/**
 * The verifier's vocabulary: stable problem codes (Thanos' names where Thanos has one),
 * the fixed severity of each, and the collector that caps how many problems of one code
 * a report carries so a block with millions of bad chunks still yields a small report.
 */
import { FormatError } from "@strata/tsdb";

export type Severity = "reject" | "repairable" | "warn";

/**
 * Every code the verifier reports. Each code has one severity (SEVERITY) so the pipeline can
 * act on `severity` alone and switch on `code` for detail.
 */
export const Code = {
  // Thanos GatherIndexHealthStats counters and errors (T: pkg/block/index.go).
  OutOfOrderChunks: "OutOfOrderChunks",
  DuplicatedChunks: "DuplicatedChunks",
  OutsideChunks: "OutsideChunks",
  CompleteOutsideChunks: "CompleteOutsideChunks",
  Issue347OutsideChunks: "Issue347OutsideChunks",
  OutOfOrderLabels: "OutOfOrderLabels",
  /** Verification could not go on (I/O failure, or an internal error: message starts "internal error"). */
  CriticalErr: "CriticalErr",
  // Bytes and framing, any file.
  BadMagic: "BadMagic",
  UnsupportedVersion: "UnsupportedVersion",
  BadChecksum: "BadChecksum",
  OutOfBounds: "OutOfBounds",
  InvalidValue: "InvalidValue",
  // Index structure.
  IndexVersion: "IndexVersion",
  TocInvalid: "TocInvalid",
  SymbolsOutOfOrder: "SymbolsOutOfOrder",
  SymbolInvalidUtf8: "SymbolInvalidUtf8",
  SymbolRefOutOfRange: "SymbolRefOutOfRange",
  SeriesMisaligned: "SeriesMisaligned",
  // Series.
  EmptyLabelSet: "EmptyLabelSet",
  DuplicateLabelName: "DuplicateLabelName",
  SeriesOutOfOrder: "SeriesOutOfOrder",
  DuplicateSeries: "DuplicateSeries",
  SeriesWithoutChunks: "SeriesWithoutChunks",
  // Chunks.
  ChunkTimeInverted: "ChunkTimeInverted",
  OverlappingChunks: "OverlappingChunks",
  ChunkEndsAtMaxTime: "ChunkEndsAtMaxTime",
  ChunkRefsOutOfOrder: "ChunkRefsOutOfOrder",
  ChunkRefOutOfRange: "ChunkRefOutOfRange",
  UnknownChunkEncoding: "UnknownChunkEncoding",
  ChunkDecodeError: "ChunkDecodeError",
  EmptyChunk: "EmptyChunk",
  ChunkSamplesOutOfOrder: "ChunkSamplesOutOfOrder",
  ChunkTimeMismatch: "ChunkTimeMismatch",
  // Postings.
  PostingsTableInvalid: "PostingsTableInvalid",
  PostingsTableOutOfOrder: "PostingsTableOutOfOrder",
  PostingsUnsorted: "PostingsUnsorted",
  PostingsDangling: "PostingsDangling",
  PostingsMissingSeries: "PostingsMissingSeries",
  PostingsExtraSeries: "PostingsExtraSeries",
  PostingsEmpty: "PostingsEmpty",
  PostingsLayout: "PostingsLayout",
  // Files and meta.json.
  MetaMissing: "MetaMissing",
  MetaInvalid: "MetaInvalid",
  /** meta.json larger than VerifyOptions.maxMetaBytes (not read). */
  MetaTooLarge: "MetaTooLarge",
  /** maxTime - minTime above VerifyOptions.maxRangeMs (the largest compaction range). */
  MetaRangeTooLong: "MetaRangeTooLong",
  /** maxTime past VerifyOptions.now + futureSlackMs. */
  MetaInFuture: "MetaInFuture",
  /** thanos.downsample.resolution not 0, 300000 or 3600000. */
  ResolutionInvalid: "ResolutionInvalid",
  /** compaction.sources contradict the level and resolution (see meta-check.ts). */
  SourcesInconsistent: "SourcesInconsistent",
  UlidMismatch: "UlidMismatch",
  MetaStatsMismatch: "MetaStatsMismatch",
  SourcesInvalid: "SourcesInvalid",
  IndexMissing: "IndexMissing",
  NoSegments: "NoSegments",
  SegmentNamesNotConsecutive: "SegmentNamesNotConsecutive",
  ThanosFilesMismatch: "ThanosFilesMismatch",
  TombstoneInvalid: "TombstoneInvalid",
} as const;
export type ProblemCode = (typeof Code)[keyof typeof Code];

/**
 * What each code means for the pipeline. `repairable` is exactly what repairBlock fixes:
 * it rebuilds the index from the series section (so postings and stats are recomputed),
 * sorts labels and chunks, drops chunks Thanos' repair drops and adjacent duplicate series.
 */
export const SEVERITY: Readonly<Record<ProblemCode, Severity>> = {
  OutOfOrderChunks: "repairable",
  DuplicatedChunks: "repairable",
  OutsideChunks: "reject",
  CompleteOutsideChunks: "repairable",
  Issue347OutsideChunks: "repairable",
  OutOfOrderLabels: "repairable",
  CriticalErr: "reject",
  BadMagic: "reject",
  UnsupportedVersion: "reject",
  BadChecksum: "reject",
  OutOfBounds: "reject",
  InvalidValue: "reject",
  IndexVersion: "warn",
  TocInvalid: "reject",
  SymbolsOutOfOrder: "reject",
  SymbolInvalidUtf8: "warn",
  SymbolRefOutOfRange: "reject",
  SeriesMisaligned: "reject",
  EmptyLabelSet: "reject",
  DuplicateLabelName: "reject",
  SeriesOutOfOrder: "reject",
  DuplicateSeries: "repairable",
  SeriesWithoutChunks: "repairable",
  ChunkTimeInverted: "reject",
  OverlappingChunks: "reject",
  ChunkEndsAtMaxTime: "warn",
  ChunkRefsOutOfOrder: "warn",
  ChunkRefOutOfRange: "reject",
  UnknownChunkEncoding: "reject",
  ChunkDecodeError: "reject",
  EmptyChunk: "reject",
  ChunkSamplesOutOfOrder: "reject",
  ChunkTimeMismatch: "reject",
  PostingsTableInvalid: "reject",
  PostingsTableOutOfOrder: "reject",
  PostingsUnsorted: "repairable",
  PostingsDangling: "repairable",
  PostingsMissingSeries: "repairable",
  PostingsExtraSeries: "repairable",
  PostingsEmpty: "warn",
  PostingsLayout: "warn",
  MetaMissing: "reject",
  MetaInvalid: "reject",
  MetaTooLarge: "reject",
  MetaRangeTooLong: "reject",
  MetaInFuture: "reject",
  ResolutionInvalid: "reject",
  SourcesInconsistent: "reject",
  UlidMismatch: "reject",
  MetaStatsMismatch: "repairable",
  SourcesInvalid: "repairable",
  IndexMissing: "reject",
  NoSegments: "reject",
  SegmentNamesNotConsecutive: "reject",
  ThanosFilesMismatch: "repairable",
  TombstoneInvalid: "warn",
};

export interface Problem {
  code: ProblemCode;
  severity: Severity;
  /** File relative to the block directory: "index", "chunks/000001", "meta.json", "tombstones". */
  file?: string;
  /** Absolute byte offset in `file`. */
  offset?: number;
  /** The series' labels, `{a="b", …}`. */
  series?: string;
  message: string;
  expected?: string;
  found?: string;
}

export interface VerifyStats {
  indexBytes: number;
  chunkBytes: number;
  symbols: number;
  series: number;
  chunks: number;
  samples: number;
  floatSamples: number;
  histogramSamples: number;
  postingsLists: number;
  tombstoneIntervals: number;
  /** Thanos index_stats estimates (largest series entry, largest chunk record), bytes. */
  seriesMaxSize: number;
  chunkMaxSize: number;
  /** Series with out-of-order or overlapping chunks (Thanos OutOfOrderSeries). */
  outOfOrderSeries: number;
}

export interface VerifyReport {
  /** The block's name (BlockSource.name). */
  block: string;
  /** No problem of severity reject or repairable. */
  ok: boolean;
  /** At most `maxPerCode` problems of each code, in discovery order. */
  problems: Problem[];
  /** How many problems of each code were found, including those left out of `problems`. */
  counts: Partial<Record<ProblemCode, number>>;
  stats: VerifyStats;
}

export type ProblemInput = Omit<Problem, "severity">;

/** Collects problems, keeping at most `cap` per code but counting all of them. */
export class Problems {
  readonly list: Problem[] = [];
  readonly counts: Partial<Record<ProblemCode, number>> = {};
  private readonly cap: number;

  constructor(cap: number) {
    this.cap = cap;
  }

  add(p: ProblemInput): void {
    const n = (this.counts[p.code] ?? 0) + 1;
    this.counts[p.code] = n;
    if (n <= this.cap) this.list.push({ ...p, severity: SEVERITY[p.code] });
  }

  has(code: ProblemCode): boolean {
    return (this.counts[code] ?? 0) > 0;
  }

  /** Number of problems seen so far with severity other than warn. */
  serious(): number {
    let n = 0;
    for (const [code, c] of Object.entries(this.counts)) if (SEVERITY[code as ProblemCode] !== "warn") n += c ?? 0;
    return n;
  }

  /** Record a thrown error: a FormatError keeps its file, offset and details; anything else is CriticalErr. */
  fromError(e: unknown, ctx: { file?: string; series?: string; code?: ProblemCode; what?: string } = {}): void {
    const what = ctx.what ? `${ctx.what}: ` : "";
    if (e instanceof FormatError) {
      this.add({
        code: ctx.code ?? codeForFormatError(e),
        file: e.file ?? ctx.file,
        offset: e.offset,
        series: ctx.series,
        message: what + e.detail,
        expected: e.expected,
        found: e.found,
      });
      return;
    }
    const err = e as Error;
    // Reads outside a source surface as RangeError from the port; anything else is our bug.
    const internal = !(err instanceof RangeError) && !(err && typeof (err as NodeJS.ErrnoException).code === "string");
    this.add({
      code: Code.CriticalErr,
      file: ctx.file,
      series: ctx.series,
      message: `${internal ? "internal error: " : ""}${what}${err?.message ?? String(e)}`,
    });
  }
}

export function codeForFormatError(e: FormatError): ProblemCode {
  switch (e.code) {
    case "invalid-checksum":
      return Code.BadChecksum;
    case "bad-magic":
      return Code.BadMagic;
    case "unsupported-version":
      return Code.UnsupportedVersion;
    case "invalid-size":
      return Code.OutOfBounds;
    case "unknown-encoding":
      return Code.UnknownChunkEncoding;
    default:
      return Code.InvalidValue;
  }
}
