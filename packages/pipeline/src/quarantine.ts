/**
 * What `strata quarantine release` does: verify a quarantined block again, in place, and if it
 * now passes, lift its quarantine (the no-compact mark, its mirror and the report) and index it
 * — the same admission an upload gets. A block that still fails keeps its marks; its report is
 * rewritten with what the verifier finds now.
 */
import type { ObjectStore } from "@strata/bucket";
import { bindPipeline } from "./bindings/index.ts";
import type { EngineSettings } from "./config.ts";
import { QUARANTINE_REASON, verifyAndAdmit } from "./jobs/admit.ts";
import { jsonLogger } from "./log.ts";
import type { BlockRef, Logger } from "./ports.ts";

export type ReleaseOutcome =
  | { status: "released"; block: string }
  | { status: "still-broken"; block: string; reason: string }
  | { status: "not-quarantined"; block: string; reason: string };

export async function releaseQuarantine(
  store: ObjectStore,
  ref: BlockRef,
  opts: { engine?: Partial<EngineSettings>; log?: Logger; now?: () => number } = {},
): Promise<ReleaseOutcome> {
  const log = opts.log ?? jsonLogger(() => undefined);
  const deps = bindPipeline({
    store,
    queue: { send: async () => undefined },
    log,
    engine: opts.engine,
    clock: opts.now && { now: opts.now },
  });
  const markers = await deps.storage.readMarkers(ref);
  if (!(await deps.storage.statMeta(ref)))
    return { status: "not-quarantined", block: ref.block, reason: "the block has no meta.json" };
  if (markers.noCompact?.reason !== QUARANTINE_REASON) {
    return {
      status: "not-quarantined",
      block: ref.block,
      reason: markers.noCompact
        ? `its no-compact mark has reason ${JSON.stringify(markers.noCompact.reason)}, not ${QUARANTINE_REASON}`
        : "it has no quarantine mark",
    };
  }
  if (markers.deletion) return { status: "not-quarantined", block: ref.block, reason: "it is marked for deletion" };
  const ctx = {
    deps,
    log: log.child({ tenant: ref.tenant, block: ref.block, job: "quarantine-release" }),
    jobId: "quarantine-release",
  };
  const r = await verifyAndAdmit(ctx, ref);
  return r.ok
    ? { status: "released", block: ref.block }
    : { status: "still-broken", block: ref.block, reason: r.reason };
}
