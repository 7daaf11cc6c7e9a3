export { COMPACTOR_SHARD_ID_LABEL, labelsHash, shardOf, formatShardId, parseShardId } from "./shard.ts";
