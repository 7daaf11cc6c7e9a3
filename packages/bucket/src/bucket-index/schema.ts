/**
 * Mimir's per-tenant bucket index (M: pkg/storage/tsdb/bucketindex/index.go, storage.go),
 * byte-for-byte in the shape Mimir and Cortex read: `bucket-index.json.gz`, gzip with the
 * header name `bucket-index.json`, compact Go JSON. Block times are milliseconds;
 * `uploaded_at`, `deletion_time` and `updated_at` are unix seconds. Field names are kept
 * snake_case here as in the JSON so that nothing is lost in translation.
 */
import { constants, crc32, deflateRawSync, gunzipSync } from "node:zlib";
import { z } from "zod";
import { COMPACTOR_SHARD_ID_LABEL, compareStrings, goNumber, goString, isUlid, type BlockMeta } from "@strata/tsdb";
import { BucketError } from "../errors.ts";

export const INDEX_FILENAME = "bucket-index.json";
export const INDEX_VERSION_1 = 1;
/** Mimir's current version (adds compactor_shard_id, source, compaction_level, out_of_order, labels). */
export const INDEX_VERSION_2 = 2;
/** Chunk segments named 000001…N: only the count is stored. */
export const SEGMENTS_FORMAT_1B6D = "1b6d";
export const OUT_OF_ORDER_HINT = "from-out-of-order";
/**
 * What a reader accepts before it allocates anything per entry, so that a hostile or broken
 * index costs bounded memory to refuse (an 8 KiB gzip bomb once cost 2.7 GB of RSS).
 */
export interface IndexLimits {
  /** Largest `bucket-index.json.gz` object decoded (default 64 MiB). */
  maxCompressedBytes: number;
  /** Largest JSON once decompressed (default 512 MiB), enforced while inflating. */
  maxDecompressedBytes: number;
  /**
   * Most blocks plus deletion marks (default 2,000,000), counted in the JSON text (every
   * array element, at any depth) before it is parsed.
   */
  maxEntries: number;
}

export const DEFAULT_INDEX_LIMITS: Readonly<IndexLimits> = Object.freeze({
  maxCompressedBytes: 64 << 20,
  maxDecompressedBytes: 512 << 20,
  maxEntries: 2_000_000,
});

/** A decompressed index larger than this is refused rather than allocated (the default `maxDecompressedBytes`). */
export const MAX_INDEX_BYTES = DEFAULT_INDEX_LIMITS.maxDecompressedBytes;
/** Mimir's index nests 4 deep (index, blocks, block, labels); deeper JSON is refused before parsing. */
const MAX_JSON_DEPTH = 16;

export interface IndexBlock {
  block_id: string;
  /** ms, inclusive. */
  min_time: number;
  /** ms, exclusive. */
  max_time: number;
  segments_format?: string;
  segments_num?: number;
  /** Unix seconds: when meta.json (uploaded last) was written. */
  uploaded_at: number;
  compactor_shard_id?: string;
  source?: string;
  compaction_level?: number;
  out_of_order?: boolean;
  labels?: Record<string, string>;
  /** Cortex's field: the block's parquet converter mark, when it has Parquet files. */
  parquet?: IndexParquet;
}

/** Cortex's ConverterMarkMeta: the mark's version and the number of Parquet shards. */
export interface IndexParquet {
  version: number;
  shards?: number;
}

export interface IndexDeletionMark {
  block_id: string;
  /** Unix seconds. */
  deletion_time: number;
}

export interface BucketIndex {
  version: number;
  /** Complete blocks, including those marked for deletion; partial blocks are excluded. */
  blocks: IndexBlock[];
  block_deletion_marks: IndexDeletionMark[];
  /** Unix seconds of the last write. */
  updated_at: number;
}

/**
 * The stored index cannot be read: over a limit, or not a bucket index at all. Unlike an
 * I/O error, retrying will not help; a rebuild (`strata index rebuild`, the pipeline's
 * index-sync) replaces it without reading it.
 */
export class BucketIndexInvalidError extends BucketError {
  // The name before the class was renamed: tests match on it.
  override name = "BucketIndexInvalid";
  /** The index object (bucket URL and key). */
  readonly where: string;
  readonly expected: string;
  readonly found: string;
  constructor(where: string, expected: string, found: string, message?: string, options?: ErrorOptions) {
    super(
      message ??
        `${where}: bucket index unreadable: expected ${expected}, found ${found}; rebuild it with \`strata index rebuild\``,
      options,
    );
    this.where = where;
    this.expected = expected;
    this.found = found;
  }
}

/** Not gzip, not JSON, or not the index's shape (naming the field). */
export class BucketIndexCorruptedError extends BucketIndexInvalidError {
  override name = "BucketIndexCorrupted";
  constructor(where: string, why: string, expected = "a Mimir bucket index", found = why, options?: ErrorOptions) {
    super(
      where,
      expected,
      found,
      `${where}: bucket index corrupted: ${why}; rebuild it with \`strata index rebuild\``,
      options,
    );
  }
}

export function emptyIndex(): BucketIndex {
  return { version: INDEX_VERSION_2, blocks: [], block_deletion_marks: [], updated_at: 0 };
}

/** The index entry for a block, from its meta.json and the upload time of that meta.json. */
export function blockFromMeta(meta: BlockMeta, uploadedAtSec: number): IndexBlock {
  const b: IndexBlock = {
    block_id: meta.ulid,
    min_time: meta.minTime,
    max_time: meta.maxTime,
    uploaded_at: uploadedAtSec,
  };
  const segs = segmentsCount(meta);
  if (segs !== undefined) {
    b.segments_format = SEGMENTS_FORMAT_1B6D;
    b.segments_num = segs;
  }
  const labels = meta.thanos?.labels ?? undefined;
  const shard = labels?.[COMPACTOR_SHARD_ID_LABEL];
  if (shard) b.compactor_shard_id = shard;
  if (meta.thanos?.source) b.source = meta.thanos.source;
  if (meta.compaction.level) b.compaction_level = meta.compaction.level;
  if (meta.compaction.hints?.includes(OUT_OF_ORDER_HINT)) b.out_of_order = true;
  if (labels && Object.keys(labels).length > 0) b.labels = { ...labels };
  return b;
}

/** N when the chunk segments are exactly 000001…N (from the deprecated segment_files, else from files). */
function segmentsCount(meta: BlockMeta): number | undefined {
  const sf = meta.thanos?.segment_files;
  if (sf && sf.length > 0) return sf.every((f, i) => f === seg(i + 1)) ? sf.length : undefined;
  let n = 0;
  for (const f of meta.thanos?.files ?? []) {
    if (!f.rel_path.startsWith("chunks/")) continue;
    if (f.rel_path !== `chunks/${seg(n + 1)}`) return undefined;
    n++;
  }
  return n > 0 ? n : undefined;
}

function seg(i: number): string {
  return String(i).padStart(6, "0");
}

// --- JSON ----------------------------------------------------------------------------

/** One block entry as Go's json.Marshal writes Mimir's Block struct (field order, omitempty, sorted labels). */
export function indexBlockJson(b: IndexBlock): string {
  let s = `{"block_id":${goString(b.block_id)},"min_time":${goNumber(b.min_time)},"max_time":${goNumber(b.max_time)}`;
  if (b.segments_format) s += `,"segments_format":${goString(b.segments_format)}`;
  if (b.segments_num) s += `,"segments_num":${goNumber(b.segments_num)}`;
  s += `,"uploaded_at":${goNumber(b.uploaded_at)}`;
  if (b.compactor_shard_id) s += `,"compactor_shard_id":${goString(b.compactor_shard_id)}`;
  if (b.source) s += `,"source":${goString(b.source)}`;
  if (b.compaction_level) s += `,"compaction_level":${goNumber(b.compaction_level)}`;
  if (b.out_of_order) s += `,"out_of_order":true`;
  if (b.labels) {
    const keys = Object.keys(b.labels).sort(compareStrings);
    if (keys.length > 0) {
      s += `,"labels":{`;
      for (let i = 0; i < keys.length; i++)
        s += `${i ? "," : ""}${goString(keys[i]!)}:${goString(b.labels[keys[i]!]!)}`;
      s += "}";
    }
  }
  if (b.parquet) {
    s += `,"parquet":{"version":${goNumber(b.parquet.version)}`;
    if (b.parquet.shards) s += `,"shards":${goNumber(b.parquet.shards)}`;
    s += "}";
  }
  return s + "}";
}

/** One deletion mark entry as Go writes it. */
export function indexMarkJson(m: IndexDeletionMark): string {
  return `{"block_id":${goString(m.block_id)},"deletion_time":${goNumber(m.deletion_time)}}`;
}

/** Go's json.Marshal of the index (struct field order, omitempty, sorted label keys, HTML-safe escapes). */
export function indexJson(idx: BucketIndex): string {
  const list = <T>(xs: readonly T[], f: (x: T) => string) => (xs.length ? `[${xs.map(f).join(",")}]` : "[]");
  return (
    `{"version":${goNumber(idx.version)},"blocks":${list(idx.blocks, indexBlockJson)},` +
    `"block_deletion_marks":${list(idx.block_deletion_marks, indexMarkJson)},"updated_at":${goNumber(idx.updated_at)}}`
  );
}

/** gzip as Go's gzip.Writer with Name set: FNAME flag, zero mtime, OS 255. */
export function encodeIndex(idx: BucketIndex): Uint8Array {
  return gzipIndexJson(Buffer.from(indexJson(idx), "utf8"));
}

/**
 * The index's JSON in Go's gzip framing. Level 1: ~3× faster than the default on a 100k-block
 * index for ~15% more bytes, and an index update's CPU is what bounds a busy tenant.
 */
export function gzipIndexJson(json: Buffer): Uint8Array {
  const name = Buffer.from(INDEX_FILENAME + "\0", "latin1");
  const header = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(json) >>> 0, 0);
  trailer.writeUInt32LE(json.length >>> 0, 4);
  return Buffer.concat([header, name, deflateRawSync(json, { level: constants.Z_BEST_SPEED }), trailer]);
}

const Ulid = z
  .string()
  .refine(isUlid, { message: "not a ULID" })
  .transform((s) => s.toUpperCase());
const Int = z.int();
const nullToEmpty = <T extends z.ZodType>(s: T) => z.preprocess((v) => v ?? [], s);
const optional = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === null ? undefined : v), s.optional());

/** One `blocks` entry (exported for the incremental codec, which validates only entries it has not seen). */
export const IndexBlockSchema = z.object({
  block_id: Ulid,
  min_time: Int,
  max_time: Int,
  segments_format: optional(z.string()),
  segments_num: optional(Int),
  uploaded_at: Int,
  compactor_shard_id: optional(z.string()),
  source: optional(z.string()),
  compaction_level: optional(Int),
  out_of_order: optional(z.boolean()),
  labels: optional(z.record(z.string(), z.string())),
  parquet: optional(z.object({ version: Int, shards: optional(Int) })),
});
/** One `block_deletion_marks` entry. */
export const IndexMarkSchema = z.object({ block_id: Ulid, deletion_time: Int });
const IndexHeaderSchema = z.object({
  version: z.union([z.literal(INDEX_VERSION_1), z.literal(INDEX_VERSION_2)], {
    error: "unsupported bucket index version (want 1 or 2)",
  }),
  blocks: nullToEmpty(z.array(z.unknown())),
  block_deletion_marks: nullToEmpty(z.array(z.unknown())),
  updated_at: Int,
});

const MiB = 1 << 20;
const size = (n: number) => (n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`);

/**
 * Parses `bucket-index.json.gz` bytes within `limits` (defaults `DEFAULT_INDEX_LIMITS`):
 * BucketIndexInvalidError naming the key, what was expected and what was found when over a
 * limit; BucketIndexCorruptedError (a BucketIndexInvalidError, naming the field) on anything else
 * unexpected. Nothing is allocated per entry before the entries are counted, and
 * validation stops at the first bad entry.
 */
/** The error for an index object over `maxCompressedBytes`, with its size. */
export function indexTooLarge(
  where: string,
  bytes: number,
  limits: Partial<IndexLimits> = {},
): BucketIndexInvalidError {
  const max = limits.maxCompressedBytes ?? DEFAULT_INDEX_LIMITS.maxCompressedBytes;
  return new BucketIndexInvalidError(where, `at most ${size(max)} of gzip (maxCompressedBytes)`, `${bytes} bytes`);
}

export function decodeIndex(bytes: Uint8Array, where: string, limits: Partial<IndexLimits> = {}): BucketIndex {
  const lim = { ...DEFAULT_INDEX_LIMITS, ...limits };
  if (bytes.length > lim.maxCompressedBytes) throw indexTooLarge(where, bytes.length, lim);
  let json: Buffer | undefined;
  try {
    // Inflating stops (and throws) as soon as the output passes the limit.
    json = gunzipSync(bytes, { maxOutputLength: lim.maxDecompressedBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new BucketIndexInvalidError(
        where,
        `at most ${size(lim.maxDecompressedBytes)} of JSON once decompressed (maxDecompressedBytes)`,
        `more (${bytes.length} bytes of gzip; inflating stopped at the limit)`,
        undefined,
        { cause: e },
      );
    }
    throw new BucketIndexCorruptedError(where, `not gzip data (${(e as Error).message})`, "gzip data", undefined, {
      cause: e,
    });
  }
  const scan = scanJson(json, lim.maxEntries);
  if (scan.problem)
    throw new BucketIndexCorruptedError(where, `not a bucket index: ${scan.problem}`, "a JSON object", scan.problem);
  if (scan.elements > lim.maxEntries) {
    throw new BucketIndexInvalidError(
      where,
      `at most ${lim.maxEntries} blocks and deletion marks (maxEntries)`,
      `more than ${lim.maxEntries} JSON array elements (blocks, deletion marks or others) in ${json.length} bytes of JSON`,
    );
  }
  const text = json.toString("utf8");
  json = undefined; // the bytes can go while the text is parsed
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BucketIndexCorruptedError(where, `not JSON (${(e as Error).message})`, "JSON", undefined, { cause: e });
  }
  const head = IndexHeaderSchema.safeParse(v);
  if (!head.success) throw corrupted(where, head.error.issues[0]!, []);
  const blocks = parseEntries(head.data.blocks, IndexBlockSchema, where, "blocks");
  const marks = parseEntries(head.data.block_deletion_marks, IndexMarkSchema, where, "block_deletion_marks");
  return {
    version: head.data.version,
    blocks: blocks as IndexBlock[],
    block_deletion_marks: marks,
    updated_at: head.data.updated_at,
  };
}

/**
 * Each entry on its own, stopping at the first bad one (a schema over the whole array would collect an issue per
 * entry).
 */
function parseEntries<T extends z.ZodType>(items: unknown[], schema: T, where: string, field: string): z.infer<T>[] {
  const out = new Array<z.infer<T>>(items.length);
  for (let i = 0; i < items.length; i++) {
    const r = schema.safeParse(items[i]);
    if (!r.success) throw corrupted(where, r.error.issues[0]!, [field, i]);
    out[i] = r.data;
  }
  return out;
}

function corrupted(where: string, issue: z.core.$ZodIssue, prefix: PropertyKey[]): BucketIndexCorruptedError {
  const path = [...prefix, ...issue.path].map(String).join(".") || "(root)";
  return new BucketIndexCorruptedError(where, `${path}: ${issue.message}`, issue.message, path);
}

/**
 * One pass over the JSON bytes, allocating nothing: the document must be an object nested
 * at most MAX_JSON_DEPTH deep; counts the elements of every array (stopping once past
 * `maxElements`). Malformed JSON is left to JSON.parse.
 */
function scanJson(buf: Uint8Array, maxElements: number): { elements: number; problem?: string } {
  let i = 0;
  const n = buf.length;
  while (i < n && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (i === n)
    return { elements: 0, problem: `expected a JSON object, found ${n === 0 ? "nothing" : "only whitespace"}` };
  if (buf[i] !== 0x7b)
    return {
      elements: 0,
      problem: `expected a JSON object, found ${JSON.stringify(String.fromCharCode(buf[i]!))} at byte ${i}`,
    };
  // Per open container: is it an array (1) or an object (0); and does an array await its first element.
  const isArray = new Uint8Array(MAX_JSON_DEPTH + 1);
  let depth = 0;
  let elements = 0;
  let awaitingFirst = false;
  let inString = false;
  for (; i < n; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (awaitingFirst) {
      awaitingFirst = false;
      if (c !== 0x5d) elements++;
    }
    switch (c) {
      case 0x22:
        inString = true;
        break;
      case 0x5b:
      case 0x7b:
        if (++depth > MAX_JSON_DEPTH)
          return { elements, problem: `JSON nested deeper than ${MAX_JSON_DEPTH} at byte ${i}` };
        isArray[depth] = c === 0x5b ? 1 : 0;
        awaitingFirst = c === 0x5b;
        break;
      case 0x5d:
      case 0x7d:
        if (depth > 0) depth--;
        break;
      case 0x2c:
        if (isArray[depth] === 1 && ++elements > maxElements) return { elements };
        break;
    }
  }
  return { elements };
}

/** Blocks and marks in block-id order: the canonical form both update paths write. */
export function normalizeIndex(idx: BucketIndex): BucketIndex {
  return {
    ...idx,
    version: INDEX_VERSION_2,
    blocks: [...idx.blocks].sort((a, b) => cmp(a.block_id, b.block_id)),
    block_deletion_marks: [...idx.block_deletion_marks].sort((a, b) => cmp(a.block_id, b.block_id)),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Mimir's Block.Within: does [min_time, max_time) intersect the inclusive query range? */
export function blockWithin(b: IndexBlock, minT: number, maxT: number): boolean {
  return b.min_time <= maxT && minT < b.max_time;
}
