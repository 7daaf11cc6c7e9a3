// @strata/downsample: Thanos-compatible downsampling (raw → 5m → 1h aggregate blocks).
// The resolutions (RESOLUTION_RAW/5M/1H, blockResolution, …) are @strata/tsdb's.
export { RES_5M_MIN_RANGE, RES_1H_MIN_RANGE, currentWindow, targetChunkCount, parseResolution } from "./resolution.ts";
export { downsampleBlock, outputMeta, type DownsampleOptions } from "./downsample.ts";
export { closeWorkers, defaultWorkers, workerLanes } from "./pool.ts";
export {
  needsDownsampling,
  planDownsampling,
  downsampledSources,
  type DownsampledSources,
  type NoDownsampleMarks,
} from "./plan.ts";
export { applyCounterResets } from "./float-aggr.ts";
