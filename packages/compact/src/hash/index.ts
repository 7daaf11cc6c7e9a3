export { xxhash64 as xxh64 } from "./xxhash64.ts";
export { externalLabelsHash, thanosGroupKey, ulidBytes, fnv1_32, hashBlockId } from "./labels-hash.ts";
