export * from "./execute/index.ts";
export * from "./merge/index.ts";
export * from "./shard/index.ts";
export * from "./hash/index.ts";
export * from "./group/index.ts";
export * from "./plan/index.ts";
export * from "./cost/index.ts";
