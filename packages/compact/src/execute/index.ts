export { compactBlocks, CompactionError, type CompactOptions, type CompactResult, type CompactOutput, type SinkFactory, type DedupMode } from "./compact.ts";
export { outputMeta, checkCompatible, type OutputMetaOptions } from "./meta.ts";
export { mergeSortedSymbols } from "./symbols.ts";
export { estimateOutputIndex, checkIndexLimits, INDEX_LIMITS, type IndexEstimate, type IndexLimits } from "./guard.ts";
