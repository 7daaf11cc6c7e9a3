/**
 * meta.json: the Prometheus BlockMeta (P: tsdb/block.go) plus Thanos' `thanos` section
 * (T: pkg/block/metadata/meta.go). Parsing validates with zod and reads the uint64
 * stats losslessly as bigint; serialising reproduces Go's bytes (field order, omitempty,
 * tab indentation, HTML escaping).
 */
import { z } from "zod";
import { FormatError } from "../encoding/errors.ts";
import { compareStrings } from "../encoding/utf8.ts";
import { GoStruct, goMarshal, goTime, opaqueJson, RFC3339, type GoJson } from "./go-json.ts";
import { blockResolution, RESOLUTION_RAW } from "./resolution.ts";
import { isUlid } from "./ulid.ts";

export const META_FILE = "meta.json";
export const META_VERSION_1 = 1;
/**
 * The largest meta.json parseMeta reads by default, 1 MiB: a real one is a few KiB (30k
 * compaction sources would fit). Anything larger is refused before it is decoded.
 */
export const MAX_META_BYTES = 1 << 20;

export interface BlockStats {
  numSamples?: bigint;
  /** Since Prometheus v3.6. */
  numFloatSamples?: bigint;
  /** Since Prometheus v3.6. */
  numHistogramSamples?: bigint;
  numSeries?: bigint;
  numChunks?: bigint;
  numTombstones?: bigint;
}

export interface BlockDesc {
  ulid: string;
  minTime: number;
  maxTime: number;
}

export interface BlockMetaCompaction {
  level: number;
  /** Level-1 ancestors, sorted. */
  sources?: string[];
  deletable?: boolean;
  /** Direct inputs, in input order. */
  parents?: BlockDesc[];
  failed?: boolean;
  /** Sorted: "from-out-of-order", "from-stale-series", "from-selected-series". */
  hints?: string[];
}

export interface ThanosFile {
  rel_path: string;
  /** Absent for meta.json itself. */
  size_bytes?: number;
  hash?: { hashFunc: string; value: string };
}

export interface ThanosRewrite {
  sources?: string[];
  /** Go DeletionRequest structs, kept as decoded (key order preserved on output). */
  deletions_applied?: unknown[];
  /** Go relabel.Config structs, kept as decoded. */
  relabels_applied?: unknown[];
}

export interface ThanosMeta {
  /** 0 or absent means 1. */
  version?: 0 | 1;
  /** External labels. Written as `null` when null/undefined (Go nil map). */
  labels?: Record<string, string> | null;
  /** Absent means resolution 0 (raw). */
  downsample?: { resolution: number };
  source?: string;
  /** Deprecated; chunk file names ("000001"), sorted. */
  segment_files?: string[];
  files?: ThanosFile[];
  rewrites?: ThanosRewrite[];
  index_stats?: { series_max_size?: number; chunk_max_size?: number };
  /** Free-form; objects are written with sorted keys, as Go re-encodes a decoded `any`. */
  extensions?: unknown;
  /** RFC 3339; absent is Go's zero time. */
  upload_time?: string;
}

export interface BlockMeta {
  ulid: string;
  minTime: number;
  /** Exclusive. */
  maxTime: number;
  stats: BlockStats;
  compaction: BlockMetaCompaction;
  version: 1;
  thanos?: ThanosMeta;
}

// --- schemas -------------------------------------------------------------------------

/** Go leaves a field at its zero value on `null`; for optional fields that is "absent". */
function absentIfNull<T extends z.ZodType>(s: T) {
  return z.preprocess((v) => (v === null ? undefined : v), s.optional());
}

/**
 * An array checked element by element that stops at the first bad one. zod's z.array
 * collects one issue per bad element, which for a hostile meta.json with 100k bad sources
 * costs seconds and a gigabyte; only the first issue is ever reported (validateJson).
 */
function listOf<T extends z.ZodType>(element: T) {
  return z.unknown().transform((items, ctx): z.output<T>[] => {
    if (!Array.isArray(items)) {
      ctx.issues.push({
        code: "invalid_type",
        expected: "array",
        input: items,
        message: `Invalid input: expected array, received ${jsonType(items)}`,
      });
      return z.NEVER;
    }
    const out: z.output<T>[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const r = element.safeParse(items[i]);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        ctx.issues.push({ ...issue, path: [i, ...issue.path] } as (typeof ctx.issues)[number]);
        return z.NEVER;
      }
      out[i] = r.data;
    }
    return out;
  });
}

/** A string → string object checked key by key, stopping at the first bad value (see listOf). */
function stringRecord() {
  return z.unknown().transform((rec, ctx): Record<string, string> => {
    if (rec === null || typeof rec !== "object" || Array.isArray(rec)) {
      ctx.issues.push({
        code: "invalid_type",
        expected: "record",
        input: rec,
        message: `Invalid input: expected record, received ${jsonType(rec)}`,
      });
      return z.NEVER;
    }
    const r = rec as Record<string, unknown>;
    for (const k in r) {
      if (typeof r[k] !== "string") {
        ctx.issues.push({
          code: "invalid_type",
          expected: "string",
          input: r[k],
          path: [k],
          message: `Invalid input: expected string, received ${jsonType(r[k])}`,
        });
        return z.NEVER;
      }
    }
    return r as Record<string, string>;
  });
}

function jsonType(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

const Int = z.int();
const Ulid = z
  .string()
  .refine(isUlid, { message: "not a ULID" })
  .transform((s) => s.toUpperCase());
const Uint64 = z.bigint().min(0n).max(0xffffffffffffffffn);

export const BlockStatsSchema = z.object({
  numSamples: Uint64.optional(),
  numFloatSamples: Uint64.optional(),
  numHistogramSamples: Uint64.optional(),
  numSeries: Uint64.optional(),
  numChunks: Uint64.optional(),
  numTombstones: Uint64.optional(),
});

export const BlockDescSchema = z.object({ ulid: Ulid, minTime: Int, maxTime: Int });

export const BlockMetaCompactionSchema = z.object({
  level: Int,
  sources: absentIfNull(listOf(Ulid)),
  deletable: absentIfNull(z.boolean()),
  parents: absentIfNull(listOf(BlockDescSchema)),
  failed: absentIfNull(z.boolean()),
  hints: absentIfNull(listOf(z.string())),
});

const ThanosFileSchema = z.object({
  rel_path: z.string(),
  size_bytes: absentIfNull(Int),
  hash: absentIfNull(z.object({ hashFunc: z.string(), value: z.string() })),
});

const ThanosRewriteSchema = z.object({
  sources: absentIfNull(listOf(Ulid)),
  deletions_applied: absentIfNull(z.array(z.unknown())),
  relabels_applied: absentIfNull(z.array(z.unknown())),
});

/**
 * Mimir's external label on a split-compaction output, `"<index+1>_of_<count>"` (M:
 * pkg/compactor, sharding.ShardIDLabelValue): compactors, planners and the bucket index
 * read it from `thanos.labels`.
 */
export const COMPACTOR_SHARD_ID_LABEL = "__compactor_shard_id__";

/**
 * compaction.sources of a block's copy written as `ulid` (Strata's rewrite and repair): a raw
 * level-1 block is a block as cut, whose only source is itself, so its copy lists itself too
 * (the rule the verifier holds every raw level-1 block to); any other block keeps its
 * sources, which name the level-1 blocks its data came from.
 */
export function copiedSources(meta: BlockMeta, ulid: string): string[] | undefined {
  const sources = [...new Set(meta.compaction.sources ?? [])].sort();
  const raw = blockResolution(meta) === RESOLUTION_RAW;
  if (raw && meta.compaction.level <= 1 && sources.length <= 1) return [ulid];
  return sources.length ? sources : undefined;
}

export const ThanosMetaSchema = z.object({
  version: absentIfNull(z.union([z.literal(0), z.literal(1)], { error: "Thanos meta version must be 0 or 1" })),
  labels: stringRecord().nullable().optional(),
  downsample: absentIfNull(z.object({ resolution: Int })),
  source: absentIfNull(z.string()),
  segment_files: absentIfNull(listOf(z.string())),
  files: absentIfNull(listOf(ThanosFileSchema)),
  rewrites: absentIfNull(listOf(ThanosRewriteSchema)),
  index_stats: absentIfNull(z.object({ series_max_size: absentIfNull(Int), chunk_max_size: absentIfNull(Int) })),
  extensions: z.unknown().optional(),
  upload_time: absentIfNull(z.string().regex(RFC3339, { message: "not an RFC 3339 time" })),
});

export const BlockMetaSchema = z.object({
  ulid: Ulid,
  minTime: Int,
  maxTime: Int,
  stats: z.preprocess((v) => v ?? {}, BlockStatsSchema),
  compaction: BlockMetaCompactionSchema,
  version: z.literal(META_VERSION_1, { error: "meta.json version must be 1" }),
  thanos: absentIfNull(ThanosMetaSchema),
});

// Compile-time check that the schema's output is the documented BlockMeta.
type Assert<T extends true> = T;
export type _BlockMetaSchemaMatches = Assert<z.output<typeof BlockMetaSchema> extends BlockMeta ? true : false>;

// --- parsing -------------------------------------------------------------------------

const STATS_KEYS = new Set([
  "numSamples",
  "numFloatSamples",
  "numHistogramSamples",
  "numSeries",
  "numChunks",
  "numTombstones",
]);
const UINT_TEXT = /^(?:0|[1-9][0-9]*)$/;

export interface ParseMetaOptions {
  /** Refuse input of more UTF-8 bytes than this (default MAX_META_BYTES). */
  maxBytes?: number;
}

/**
 * Parse meta.json text (or its UTF-8 bytes). Accepts any key order and ignores unknown
 * keys, as Go does; ULIDs are normalised to upper case. Throws FormatError
 * (`invalid-size` when the input exceeds `maxBytes`, checked before it is decoded;
 * `invalid-value`, naming the field path of the first problem, on bad JSON, a schema
 * violation, version ≠ 1 or a Thanos version other than 0/1). Validation stops at the
 * first bad element of any array, so its cost never grows with the number of bad ones.
 */
/** The error for a meta.json over `max` bytes (`found`: its size, as known). */
export function metaTooLarge(file: string, found: string, max = MAX_META_BYTES): FormatError {
  return new FormatError("invalid-size", "meta.json too large", { file, expected: `≤ ${max} bytes`, found });
}

export function parseMeta(text: string | Uint8Array, file = META_FILE, opts: ParseMetaOptions = {}): BlockMeta {
  const max = opts.maxBytes ?? MAX_META_BYTES;
  const size = typeof text === "string" ? utf8LengthUpTo(text, max) : text.length;
  if (size > max) throw metaTooLarge(file, typeof text === "string" ? `> ${max} bytes` : `${size} bytes`, max);
  // No reviver over the whole text: V8 calls it for every value (100× slower than plain
  // JSON.parse on a large array). The uint64 counters are read from their source digits
  // by parsing the root's "stats" object text alone, with a reviver, afterwards.
  const str = typeof text === "string" ? text : decodeJsonBytes(text);
  const root = parseJsonText(str, file);
  if (root !== null && typeof root === "object" && !Array.isArray(root)) {
    const stats = (root as Record<string, unknown>).stats;
    if (stats !== null && typeof stats === "object" && !Array.isArray(stats)) {
      const texts = statsSourceTexts(str);
      const st = stats as Record<string, unknown>;
      for (const k of STATS_KEYS) {
        const v = st[k];
        if (v === undefined) continue;
        const src = texts?.get(k);
        if (typeof v !== "number" || src === undefined || !UINT_TEXT.test(src)) {
          throw new FormatError("invalid-value", `stats.${k}: must be an unsigned 64-bit integer`, {
            file,
            expected: "an integer literal in [0, 2^64)",
            found: src ?? JSON.stringify(v),
          });
        }
        st[k] = BigInt(src);
      }
    }
  }
  return validateJson(BlockMetaSchema, root, file) as BlockMeta;
}

/** UTF-8 length of `s` (as TextEncoder encodes it), counting no further than just past `max`. */
function utf8LengthUpTo(s: string, max: number): number {
  if (s.length > max) return s.length; // never fewer bytes than UTF-16 units
  if (s.length * 3 <= max) return s.length; // never more than 3 bytes per unit
  let n = 0;
  for (let i = 0; i < s.length && n <= max; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3; // lone surrogates become U+FFFD, 3 bytes
  }
  return n;
}

/**
 * The source text of each number directly in the root object's "stats" object (the last
 * "stats" member, as JSON.parse keeps the last of duplicate keys). `s` is known to be valid
 * JSON with an object at the root; the scan skips strings and only tracks nesting depth.
 */
function statsSourceTexts(s: string): Map<string, string> | undefined {
  let depth = 0;
  let statsAt = -1; // index of the "{" of a "stats" member being scanned
  let last: string | undefined;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      // '"': a string; at depth 1 followed by ':' it is one of the root's keys.
      const start = i;
      for (i++; i < n; i++) {
        const d = s.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
      if (depth !== 1) continue;
      let j = i + 1;
      while (j < n && isJsonSpace(s.charCodeAt(j))) j++;
      if (s.charCodeAt(j) !== 0x3a) continue;
      const key = s.slice(start, i + 1);
      if (key !== '"stats"' && !(key.includes("\\") && JSON.parse(key) === "stats")) continue;
      for (j++; j < n && isJsonSpace(s.charCodeAt(j)); j++);
      if (s.charCodeAt(j) === 0x7b) statsAt = j;
      i = j - 1;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 1 && statsAt >= 0) {
        last = s.slice(statsAt, i + 1);
        statsAt = -1;
      }
    }
  }
  if (last === undefined) return undefined;
  const values = new Map<object, Map<string, string>>();
  const top: unknown = JSON.parse(last, function (
    this: unknown,
    key: string,
    value: unknown,
    ctx?: { source?: string },
  ) {
    if (typeof value === "number" && STATS_KEYS.has(key) && ctx?.source !== undefined) {
      let m = values.get(this as object);
      if (m === undefined) values.set(this as object, (m = new Map()));
      m.set(key, ctx.source);
    }
    return value;
  } as Parameters<typeof JSON.parse>[1]);
  return values.get(top as object);
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** UTF-8 bytes to text as Go reads them (a BOM is kept, so JSON.parse rejects it as Go does). */
function decodeJsonBytes(b: Uint8Array): string {
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(b);
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

/** JSON.parse with a FormatError on malformed input. Bytes are decoded as UTF-8 (a BOM is an error, as in Go). */
export function parseJsonText(text: string | Uint8Array, file: string, reviver?: Reviver): unknown {
  const s = typeof text === "string" ? text : decodeJsonBytes(text);
  try {
    return JSON.parse(s, reviver as Parameters<typeof JSON.parse>[1]);
  } catch (e) {
    if (e instanceof SyntaxError)
      throw new FormatError("invalid-value", `not valid JSON: ${e.message}`, { file }, { cause: e });
    throw e;
  }
}

/**
 * Run a zod schema and turn the first issue into a FormatError naming the field path,
 * what was expected (when zod says) and a short rendering of what was found.
 */
export function validateJson<T extends z.ZodType>(schema: T, value: unknown, file: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = formatPath(issue.path);
  const expected = "expected" in issue && typeof issue.expected === "string" ? issue.expected : undefined;
  throw new FormatError("invalid-value", `${path || "(root)"}: ${issue.message}`, {
    file,
    expected,
    found: foundAt(value, issue.path),
  });
}

/** The value at `path` in `root`, as JSON cut to 60 characters (undefined if absent). */
function foundAt(root: unknown, path: readonly PropertyKey[]): string | undefined {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  if (v === undefined) return undefined;
  let s: string;
  try {
    s =
      typeof v === "bigint"
        ? String(v)
        : Array.isArray(v)
          ? `array of ${v.length}`
          : v !== null && typeof v === "object"
            ? "object"
            : JSON.stringify(v);
  } catch {
    return undefined;
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function formatPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s;
}

// --- serialising ---------------------------------------------------------------------

export interface SerializeMetaOptions {
  /**
   * "prometheus": exactly what Prometheus' writeMetaFile writes (no `thanos` key, no
   * trailing newline). "thanos": Thanos' Meta.Write (`thanos` always present, zero values
   * filled in, trailing "\n").
   */
  style: "prometheus" | "thanos";
}

/** meta.json bytes (as a string) identical to the Go writer of the chosen style. */
export function serializeMeta(meta: BlockMeta, opts: SerializeMetaOptions): string {
  const root = new GoStruct()
    .set("ulid", meta.ulid)
    .set("minTime", meta.minTime)
    .set("maxTime", meta.maxTime)
    .set("stats", statsJson(meta.stats))
    .set("compaction", compactionJson(meta.compaction))
    .set("version", meta.version);
  if (opts.style === "prometheus") return goMarshal(root, "\t");
  root.set("thanos", thanosJson(meta.thanos ?? {}));
  return goMarshal(root, "\t") + "\n";
}

function statsJson(s: BlockStats | undefined): GoStruct {
  const o = new GoStruct();
  if (!s) return o;
  for (const k of STATS_KEYS) {
    const v = s[k as keyof BlockStats] as bigint | number | undefined;
    if (v !== undefined && v !== 0n && v !== 0) o.set(k, v);
  }
  return o;
}

function compactionJson(c: BlockMetaCompaction): GoStruct {
  const o = new GoStruct().set("level", c.level);
  if (c.sources?.length) o.set("sources", c.sources);
  if (c.deletable) o.set("deletable", true);
  if (c.parents?.length) {
    o.set(
      "parents",
      c.parents.map((p) => new GoStruct().set("ulid", p.ulid).set("minTime", p.minTime).set("maxTime", p.maxTime)),
    );
  }
  if (c.failed) o.set("failed", true);
  if (c.hints?.length) o.set("hints", c.hints);
  return o;
}

function thanosJson(t: ThanosMeta): GoStruct {
  const o = new GoStruct();
  if (t.version) o.set("version", t.version);
  o.set("labels", t.labels ? sortedMap(t.labels) : null);
  o.set("downsample", new GoStruct().set("resolution", blockResolution({ thanos: t })));
  o.set("source", t.source ?? "");
  if (t.segment_files?.length) o.set("segment_files", t.segment_files);
  if (t.files?.length) {
    o.set(
      "files",
      t.files.map((f) => {
        const fo = new GoStruct().set("rel_path", f.rel_path);
        if (f.size_bytes) fo.set("size_bytes", f.size_bytes);
        if (f.hash) fo.set("hash", new GoStruct().set("hashFunc", f.hash.hashFunc).set("value", f.hash.value));
        return fo;
      }),
    );
  }
  if (t.rewrites?.length) {
    o.set(
      "rewrites",
      t.rewrites.map((r) => {
        const ro = new GoStruct();
        if (r.sources?.length) ro.set("sources", r.sources);
        if (r.deletions_applied?.length) ro.set("deletions_applied", opaqueJson(r.deletions_applied, true));
        if (r.relabels_applied?.length) ro.set("relabels_applied", opaqueJson(r.relabels_applied, true));
        return ro;
      }),
    );
  }
  const is = new GoStruct();
  if (t.index_stats?.series_max_size) is.set("series_max_size", t.index_stats.series_max_size);
  if (t.index_stats?.chunk_max_size) is.set("chunk_max_size", t.index_stats.chunk_max_size);
  o.set("index_stats", is);
  if (t.extensions !== undefined && t.extensions !== null) o.set("extensions", opaqueJson(t.extensions, false));
  o.set("upload_time", goTime(t.upload_time));
  return o;
}

function sortedMap(m: Record<string, string>): GoStruct {
  const keys = Object.keys(m).sort(compareStrings);
  return new GoStruct(keys.map((k): [string, GoJson] => [k, m[k]!]));
}
