/**
 * Mimir's per-tenant bucket index (M: pkg/storage/tsdb/bucketindex/index.go, storage.go),
 * byte-for-byte in the shape Mimir and Cortex read: `bucket-index.json.gz`, gzip with the
 * header name `bucket-index.json`, compact Go JSON. Block times are milliseconds;
 * `uploaded_at`, `deletion_time` and `updated_at` are unix seconds. Field names are kept
 * snake_case here as in the JSON so that nothing is lost in translation.
 */
import { crc32, deflateRawSync, gunzipSync } from "node:zlib";
import { z } from "zod";
import { COMPACTOR_SHARD_ID_LABEL, isUlid, type BlockMeta } from "@strata/tsdb";
import { GoStruct, goMarshal, type GoJson } from "@strata/tsdb/meta/go-json";

export const INDEX_FILENAME = "bucket-index.json";
export const INDEX_VERSION_1 = 1;
/** Mimir's current version (adds compactor_shard_id, source, compaction_level, out_of_order, labels). */
export const INDEX_VERSION_2 = 2;
/** Chunk segments named 000001…N: only the count is stored. */
export const SEGMENTS_FORMAT_1B6D = "1b6d";
export const OUT_OF_ORDER_HINT = "from-out-of-order";
/** A decompressed index larger than this is refused rather than allocated. */
export const MAX_INDEX_BYTES = 512 << 20;

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

export class BucketIndexCorrupted extends Error {
  readonly where: string;
  constructor(where: string, why: string) {
    super(`${where}: bucket index corrupted: ${why}; rebuild it with \`strata index rebuild\``);
    this.name = "BucketIndexCorrupted";
    this.where = where;
  }
}

export function emptyIndex(): BucketIndex {
  return { version: INDEX_VERSION_2, blocks: [], block_deletion_marks: [], updated_at: 0 };
}

/** The index entry for a block, from its meta.json and the upload time of that meta.json. */
export function blockFromMeta(meta: BlockMeta, uploadedAtSec: number): IndexBlock {
  const b: IndexBlock = { block_id: meta.ulid, min_time: meta.minTime, max_time: meta.maxTime, uploaded_at: uploadedAtSec };
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

function blockJson(b: IndexBlock): GoStruct {
  const o = new GoStruct().set("block_id", b.block_id).set("min_time", b.min_time).set("max_time", b.max_time);
  if (b.segments_format) o.set("segments_format", b.segments_format);
  if (b.segments_num) o.set("segments_num", b.segments_num);
  o.set("uploaded_at", b.uploaded_at);
  if (b.compactor_shard_id) o.set("compactor_shard_id", b.compactor_shard_id);
  if (b.source) o.set("source", b.source);
  if (b.compaction_level) o.set("compaction_level", b.compaction_level);
  if (b.out_of_order) o.set("out_of_order", true);
  if (b.labels && Object.keys(b.labels).length > 0) o.set("labels", b.labels as GoJson);
  return o;
}

/** Go's json.Marshal of the index (struct field order, omitempty, sorted label keys, HTML-safe escapes). */
export function indexJson(idx: BucketIndex): string {
  return goMarshal(
    new GoStruct()
      .set("version", idx.version)
      .set("blocks", idx.blocks.map(blockJson))
      .set(
        "block_deletion_marks",
        idx.block_deletion_marks.map((m) => new GoStruct().set("block_id", m.block_id).set("deletion_time", m.deletion_time)),
      )
      .set("updated_at", idx.updated_at),
  );
}

/** gzip as Go's gzip.Writer with Name set: FNAME flag, zero mtime, OS 255. */
export function encodeIndex(idx: BucketIndex): Uint8Array {
  const json = Buffer.from(indexJson(idx), "utf8");
  const name = Buffer.from(INDEX_FILENAME + "\0", "latin1");
  const header = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(json) >>> 0, 0);
  trailer.writeUInt32LE(json.length >>> 0, 4);
  return Buffer.concat([header, name, deflateRawSync(json), trailer]);
}

const Ulid = z
  .string()
  .refine(isUlid, { message: "not a ULID" })
  .transform((s) => s.toUpperCase());
const Int = z.int();
const nullToEmpty = <T extends z.ZodType>(s: T) => z.preprocess((v) => v ?? [], s);
const optional = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === null ? undefined : v), s.optional());

const BlockSchema = z.object({
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
});
const MarkSchema = z.object({ block_id: Ulid, deletion_time: Int });
const IndexSchema = z.object({
  version: z.union([z.literal(INDEX_VERSION_1), z.literal(INDEX_VERSION_2)], { error: "unsupported bucket index version (want 1 or 2)" }),
  blocks: nullToEmpty(z.array(BlockSchema)),
  block_deletion_marks: nullToEmpty(z.array(MarkSchema)),
  updated_at: Int,
});

/** Parses `bucket-index.json.gz` bytes; BucketIndexCorrupted (naming the field) on anything unexpected. */
export function decodeIndex(bytes: Uint8Array, where: string): BucketIndex {
  let json: Buffer;
  try {
    json = gunzipSync(bytes, { maxOutputLength: MAX_INDEX_BYTES });
  } catch (e) {
    throw new BucketIndexCorrupted(where, `not gzip data (${(e as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(json.toString("utf8"));
  } catch (e) {
    throw new BucketIndexCorrupted(where, `not JSON (${(e as Error).message})`);
  }
  const r = IndexSchema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new BucketIndexCorrupted(where, `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return r.data as BucketIndex;
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
