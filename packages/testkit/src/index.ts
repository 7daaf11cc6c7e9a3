// `@strata/testkit`: seeded data and block builders for tests, fuzzers and benchmarks.
// Processes, the CLI, promtool/prometheus, OpenMetrics and temp dirs have their own entry points.
export { mulberry32 } from "@strata/tsdb";
export { addXorSeries, type SeriesSamples } from "./xor-series.ts";
export { lcg, makeBenchBlock, writeNodeBlock, type NodeBlockSpec } from "./bench-block.ts";
