// @strata/tsdb: the Prometheus TSDB block format. Layers, bottom up:
// encoding → chunkenc → chunks / index / tombstones / meta → block.
export { FormatError, type FormatErrorCode } from "./encoding/errors.ts";
export { crc32c } from "./encoding/crc32c.ts";
export { Decbuf } from "./encoding/decbuf.ts";
export { Encbuf, uvarintSize } from "./encoding/encbuf.ts";
export { BitReader, BitWriter } from "./encoding/bstream.ts";
export { compareStrings, compareBytes, utf8Encode, utf8Decode, isValidUtf8 } from "./encoding/utf8.ts";
export { STALE_NAN, STALE_NAN_HI, STALE_NAN_LO, isStaleNaN, floatHi, floatLo } from "./encoding/float-bits.ts";
export {
  MemorySource,
  readAll,
  type ByteSource,
  type ByteSink,
  type BlockSource,
  type BlockSink,
} from "./encoding/source.ts";
export { MemoryBlock } from "./encoding/memory-block.ts";

export {
  compareLabels,
  labelsEqual,
  labelsFrom,
  labelsToString,
  getLabel,
  goQuote,
  METRIC_NAME,
  type Label,
  type Labels,
} from "./labels/labels.ts";
export { formatGoFloat } from "./labels/go-format.ts";

export {
  Encoding,
  encodingName,
  chunkNumSamples,
  isFloatEncoding,
  isHistogramEncoding,
  type Chunk,
  type ChunkMeta,
} from "./chunkenc/chunk.ts";
export { decodeXOR2 } from "./chunkenc/xor2.ts";
export { decodeXOR, encodeXOR, xorLastDecodePlain, xorNumSamples, XOREncoder, XORIterator } from "./chunkenc/xor.ts";
export { AggrType, decodeAggrChunk, encodeAggrChunk, aggrNumSamples } from "./chunkenc/aggr.ts";
export * from "./chunkenc/histogram-types.ts";
export { histogramChunkHeader, histogramChunkCutReason, spanIndices } from "./chunkenc/histogram-meta.ts";
export { HistogramIterator, decodeHistogramChunk, encodeHistogramChunk } from "./chunkenc/histogram.ts";
export {
  FloatHistogramIterator,
  decodeFloatHistogramChunk,
  encodeFloatHistogramChunk,
} from "./chunkenc/float-histogram.ts";
export { reencodeChunk, chunkSamples, type SampleFilter, type TimedChunk } from "./chunkenc/reencode.ts";

export * from "./chunks/format.ts";
export { ChunkReader } from "./chunks/reader.ts";
export { ChunkWriter } from "./chunks/writer.ts";
export { chunkRecordSize, writeChunkRecord, chunkRecordCrcOk } from "./chunks/record.ts";

export { IndexReader, type SeriesEntry } from "./index/reader.ts";
export { IndexWriter } from "./index/writer.ts";
export { SymbolTable } from "./index/symbols.ts";
export { symbolOrdinalOfOffset, type TOC } from "./index/format.ts";

export {
  Tombstones,
  decodeTombstones,
  encodeTombstones,
  readTombstones,
  isDeleted,
  EMPTY_TOMBSTONES,
  type Interval,
} from "./tombstones/tombstones.ts";

export * from "./meta/meta.ts";
export { GoStruct, goMarshal, goNumber, goString, type GoJson } from "./meta/go-json.ts";
export * from "./meta/markers.ts";
export * from "./meta/resolution.ts";
export { newUlid, isUlid, ulidTime, compareUlids } from "./meta/ulid.ts";
export { parseDuration, tryParseDuration, formatDuration, DURATION_FORM } from "./time/duration.ts";

export { BlockReader, readMeta, type BlockSeries, type SeriesOptions } from "./block/reader.ts";
export { BlockWriter, type BlockWriterOptions, type ChunkToWrite, type WrittenBlock } from "./block/writer.ts";
export { rewriteBlock, type RewriteOptions } from "./block/rewrite.ts";
export {
  copyToSchema,
  copyFloatHistogram,
  addFloatHistogram,
  subFloatHistogram,
  detectReset,
  reduceBuckets,
  targetBucketIndex,
} from "./chunkenc/float-histogram-ops.ts";

export { mulberry32 } from "./support/random.ts";
export { stoppableSink } from "./support/stoppable.ts";
export { mapLimit } from "./support/map-limit.ts";
export { xxhash64 } from "./support/xxhash64.ts";
