// The small objects anyone may write that jobs read whole — a block's meta.json, a marker, a
// tenant's bucket index — each read with its cap (getCapped): over it is the format's own "too
// large" error with the object's real size, and nothing past the cap is ever buffered.
import {
  FormatError,
  MAX_MARKER_BYTES,
  MAX_META_BYTES,
  markerTooLarge,
  metaTooLarge,
  parseMarker,
  parseMeta,
  type BlockMeta,
  type MarkerFile,
  type MarkerTypes,
} from "@strata/tsdb";
import { DEFAULT_INDEX_LIMITS, indexTooLarge, type IndexLimits } from "./bucket-index/schema.ts";
import { getCapped, type GetResult, type ObjectStore } from "./store.ts";

/**
 * A meta.json parsed, or the FormatError that says why it is not one (over `maxBytes`
 * included), with the object it was read from; undefined when absent.
 */
export async function readMetaObject(
  store: ObjectStore,
  key: string,
  maxBytes = MAX_META_BYTES,
): Promise<{ object: GetResult; meta: BlockMeta | FormatError } | undefined> {
  const r = await getCapped(store, key, maxBytes);
  if (!r) return undefined;
  const where = `${store.url}/${key}`;
  try {
    if (r.truncated) throw metaTooLarge(where, `${r.size} bytes`, maxBytes);
    return { object: r, meta: parseMeta(r.body, where, { maxBytes }) };
  } catch (e) {
    if (e instanceof FormatError) return { object: r, meta: e };
    throw e;
  }
}

/** A marker object parsed; a FormatError when it is not one (over `MAX_MARKER_BYTES` included); undefined when absent. */
export async function readMarkerObject<F extends MarkerFile>(
  store: ObjectStore,
  key: string,
  file: F,
): Promise<MarkerTypes[F] | undefined> {
  const r = await getCapped(store, key, MAX_MARKER_BYTES);
  if (!r) return undefined;
  if (r.truncated) throw markerTooLarge(`${store.url}/${key}`, r.size);
  return parseMarker(file, r.body);
}

/** A bucket index object within `limits.maxCompressedBytes` (BucketIndexInvalidError over it); undefined when absent. */
export async function readIndexObject(
  store: ObjectStore,
  key: string,
  limits: Partial<IndexLimits> = {},
): Promise<GetResult | undefined> {
  const r = await getCapped(store, key, limits.maxCompressedBytes ?? DEFAULT_INDEX_LIMITS.maxCompressedBytes);
  if (r?.truncated) throw indexTooLarge(`${store.url}/${key}`, r.size, limits);
  return r;
}
