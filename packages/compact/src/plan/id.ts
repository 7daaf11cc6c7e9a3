/**
 * A plan's id names its work exactly: the output (tenant, group, kind, range, window, shard)
 * and the input set. Re-planning the same blocks gives the same id, so duplicate sends of a
 * plan share everything keyed on it (the pipeline's lease, attempt record, queued note);
 * two plans for one window with different inputs (a late block arrived) do not.
 */
import { xxhash64 } from "@strata/tsdb";
import { groupId } from "../group/group.ts";
import type { Plan } from "./schema.ts";

const utf8 = new TextEncoder();

/** The fields the id is made of. */
export type PlanIdFields = Pick<
  Plan,
  "tenant" | "groupKey" | "kind" | "range" | "window" | "inputs" | "shardId" | "splitGroup"
>;

/**
 * `<tenant>/<group key>/<kind>/<range>/<minTime>-<maxTime>[/<shard>]/<inputs>`: readable up
 * to the last part, which is XXH64 (16 hex digits) of the inputs' ULIDs, sorted and
 * comma-joined, so the id does not depend on their order.
 */
export function planId(p: PlanIdFields): string {
  const shard = p.shardId ?? p.splitGroup ?? "";
  const inputs = xxhash64(utf8.encode([...p.inputs].sort().join(",")))
    .toString(16)
    .padStart(16, "0");
  return `${groupId({ tenant: p.tenant, key: p.groupKey })}/${p.kind}/${p.range}/${p.window.minTime}-${p.window.maxTime}${shard ? `/${shard}` : ""}/${inputs}`;
}
