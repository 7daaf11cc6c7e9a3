export { xxhash64 as xxh64 } from "@strata/tsdb";
export { externalLabelsHash, thanosGroupKey, ulidBytes, fnv1_32, hashBlockId } from "./labels-hash.ts";
