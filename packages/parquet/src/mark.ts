/**
 * Cortex's converter mark (pkg/storage/parquet/converter_marker.go): `parquet-converter-mark.json`
 * in the block's folder, `{"version":2,"shards":N}` (Go's json.Marshal; shards omitted when 0).
 * Version 2 means the labels files carry s_series_hash.
 */
export const CONVERTER_MARK_FILE = "parquet-converter-mark.json";
export const CONVERTER_MARK_VERSION = 2;

export function converterMarkJson(shards: number): string {
  return shards > 0
    ? `{"version":${CONVERTER_MARK_VERSION},"shards":${shards}}`
    : `{"version":${CONVERTER_MARK_VERSION}}`;
}

/**
 * The mark's global copy, relative to the tenant's folder: Cortex uploads it there too
 * (BucketWithGlobalMarkers, bucketindex/markers.go) and its bucket index updater lists
 * `parquet-markers/` to find converted blocks.
 */
export function globalConverterMarkPath(ulid: string): string {
  return `parquet-markers/${ulid}-${CONVERTER_MARK_FILE}`;
}
