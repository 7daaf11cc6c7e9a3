// @strata/parquet: TSDB blocks to prometheus-community/parquet-common's Parquet files.
export {
  convertBlock,
  DEFAULT_COL_DURATION_MS,
  DEFAULT_ROW_GROUP_SIZE,
  type ConvertOptions,
  type ConvertResult,
  type ConvertedShard,
} from "./convert.ts";
export { CONVERTER_MARK_FILE, CONVERTER_MARK_VERSION, converterMarkJson, globalConverterMarkPath } from "./mark.ts";
export {
  COL_INDEXES_COLUMN,
  DATA_COLUMN_PREFIX,
  LABEL_COLUMN_PREFIX,
  MD_DATA_COL_DURATION,
  MD_MAX_T,
  MD_MIN_T,
  SERIES_HASH_COLUMN,
  chunksFileName,
  labelsFileName,
} from "./schema.ts";
export { decodeDataColumn, decodeColIndexes, type EncodedChunk } from "./decode.ts";
export { inspectParquet, type ParquetFileInfo } from "./inspect.ts";
