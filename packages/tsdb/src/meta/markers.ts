/**
 * Thanos block marker files (T: pkg/block/metadata/markers.go), stored next to
 * meta.json in the bucket. Thanos writes them with compact json.Marshal (no indentation,
 * no newline) and rejects any version other than 1 on read.
 */
import { z } from "zod";
import { FormatError } from "../encoding/errors.ts";
import { GoStruct, goMarshal } from "./go-json.ts";
import { parseJsonText, validateJson } from "./meta.ts";
import { isUlid } from "./ulid.ts";

export const DELETION_MARK_FILE = "deletion-mark.json";
export const NO_COMPACT_MARK_FILE = "no-compact-mark.json";
export const NO_DOWNSAMPLE_MARK_FILE = "no-downsample-mark.json";
export const MARKER_VERSION_1 = 1;

/** Reasons Thanos itself writes; other strings are accepted on read. */
export const NoCompactReason = {
  Manual: "manual",
  IndexSizeExceeding: "index-size-exceeding",
  OutOfOrderChunks: "block-index-out-of-order-chunk",
  DownsampleVerticalCompaction: "downsample-vertical-compaction",
} as const;
export const NoDownsampleReason = { Manual: "manual" } as const;

export interface DeletionMark {
  id: string;
  version: 1;
  /** Omitted when empty. */
  details?: string;
  /** Unix seconds. */
  deletion_time: number;
}

export interface NoCompactMark {
  id: string;
  version: 1;
  details?: string;
  /** Unix seconds. */
  no_compact_time: number;
  reason: string;
}

export interface NoDownsampleMark {
  id: string;
  version: 1;
  details?: string;
  /** Unix seconds. */
  no_downsample_time: number;
  reason: string;
}

export interface MarkerTypes {
  [DELETION_MARK_FILE]: DeletionMark;
  [NO_COMPACT_MARK_FILE]: NoCompactMark;
  [NO_DOWNSAMPLE_MARK_FILE]: NoDownsampleMark;
}
export type MarkerFile = keyof MarkerTypes;

const Ulid = z
  .string()
  .refine(isUlid, { message: "not a ULID" })
  .transform((s) => s.toUpperCase());
const Version = z.literal(MARKER_VERSION_1, { error: "marker version must be 1" });
// Go leaves missing or null scalars at their zero value.
const Details = z.preprocess((v) => (v === null || v === "" ? undefined : v), z.string().optional());
const Seconds = z.preprocess((v) => v ?? 0, z.int());
const Reason = z.preprocess((v) => v ?? "", z.string());

export const DeletionMarkSchema = z.object({ id: Ulid, version: Version, details: Details, deletion_time: Seconds });
export const NoCompactMarkSchema = z.object({
  id: Ulid,
  version: Version,
  details: Details,
  no_compact_time: Seconds,
  reason: Reason,
});
export const NoDownsampleMarkSchema = z.object({
  id: Ulid,
  version: Version,
  details: Details,
  no_downsample_time: Seconds,
  reason: Reason,
});

const SCHEMAS = {
  [DELETION_MARK_FILE]: DeletionMarkSchema,
  [NO_COMPACT_MARK_FILE]: NoCompactMarkSchema,
  [NO_DOWNSAMPLE_MARK_FILE]: NoDownsampleMarkSchema,
} as const;

/** Markers are a few hundred bytes; anything past this is not one (and is never read whole). */
export const MAX_MARKER_BYTES = 64 << 10;

/** The error for a marker object over `MAX_MARKER_BYTES`, with its real size. */
export function markerTooLarge(file: string, size: number): FormatError {
  return new FormatError("invalid-size", "marker too large", {
    file,
    expected: `≤ ${MAX_MARKER_BYTES} bytes`,
    found: `${size} bytes`,
  });
}

/** Parse a marker file's text or bytes; FormatError (`invalid-value`, naming the field) when invalid. */
export function parseMarker<F extends MarkerFile>(file: F, text: string | Uint8Array): MarkerTypes[F] {
  return validateJson(SCHEMAS[file], parseJsonText(text, file), file) as MarkerTypes[F];
}

/** The exact bytes Thanos writes for a marker (compact JSON, fields in struct order). */
export function serializeMarker<F extends MarkerFile>(file: F, mark: MarkerTypes[F]): string {
  const o = new GoStruct().set("id", mark.id).set("version", mark.version);
  if (mark.details) o.set("details", mark.details);
  switch (file) {
    case DELETION_MARK_FILE:
      o.set("deletion_time", (mark as DeletionMark).deletion_time);
      break;
    case NO_COMPACT_MARK_FILE:
      o.set("no_compact_time", (mark as NoCompactMark).no_compact_time).set("reason", (mark as NoCompactMark).reason);
      break;
    case NO_DOWNSAMPLE_MARK_FILE:
      o.set("no_downsample_time", (mark as NoDownsampleMark).no_downsample_time).set(
        "reason",
        (mark as NoDownsampleMark).reason,
      );
      break;
    default:
      throw new RangeError(`unknown marker file ${String(file)}`);
  }
  return goMarshal(o);
}

// Compile-time checks that the schemas produce the documented types.
type Assert<T extends true> = T;
export type _MarkerSchemasMatch = [
  Assert<z.output<typeof DeletionMarkSchema> extends DeletionMark ? true : false>,
  Assert<z.output<typeof NoCompactMarkSchema> extends NoCompactMark ? true : false>,
  Assert<z.output<typeof NoDownsampleMarkSchema> extends NoDownsampleMark ? true : false>,
];
