import type { GroupBlock } from "../group/group.ts";
import type { PlanKind, SkippedBlock } from "./schema.ts";

/** A plan before the index guard and serialisation. */
export interface Draft {
  kind: PlanKind;
  blocks: GroupBlock[];
  range: number;
  shardCount?: number;
  splitGroup?: string;
  shardId?: string;
  reason: string;
}

export interface DraftResult {
  drafts: Draft[];
  skipped: SkippedBlock[];
}
