// @strata/downsample: Thanos-compatible downsampling (raw → 5m → 1h aggregate blocks).
export {
  RES_RAW,
  RES_5M,
  RES_1H,
  RES_5M_MIN_RANGE,
  RES_1H_MIN_RANGE,
  currentWindow,
  targetChunkCount,
  parseResolution,
  type TargetResolution,
} from "./resolution.ts";
export { downsampleBlock, outputMeta, blockResolution, type DownsampleOptions } from "./downsample.ts";
export { closeWorkers, defaultWorkers } from "./pool.ts";
export { needsDownsampling, planDownsampling, downsampledSources, type DownsampledSources, type NoDownsampleMarks } from "./plan.ts";
export { applyCounterResets } from "./float-aggr.ts";
