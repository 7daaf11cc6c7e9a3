export { Kind, SAMPLES_PER_CHUNK, SampleList, encodeSamples } from "./samples.ts";
export { chainMerge, isStrictlyAscending } from "./chain.ts";
export { penaltyMerge, looksLikeCounter, type PenaltyOptions } from "./penalty.ts";
export { SeriesMerger, newMergeCounters, type MergeOptions, type MergeCounters } from "./series-merge.ts";
export { InputStream, type InputSeries, type InputStreamOptions, type InputCounters } from "./input-stream.ts";
export { SeriesHeap } from "./heap.ts";
