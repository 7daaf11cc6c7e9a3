export {
  compactBlocks,
  CompactionError,
  type CompactOptions,
  type CompactResult,
  type CompactOutput,
  type SinkFactory,
  type DedupMode,
} from "./compact.ts";
export { executePlan, type PlanIO, type PlanOutput, type PlanResult, type OutputSink } from "./plan.ts";
export { MAX_PLAN_SHARDS } from "./plan-check.ts";
export { outputMeta, planOutputMeta, checkCompatible, type OutputMetaOptions } from "./meta.ts";
export { mergeSortedSymbols } from "./symbols.ts";
export { estimateOutputIndex, checkIndexLimits, INDEX_LIMITS, type IndexEstimate, type IndexLimits } from "./guard.ts";
