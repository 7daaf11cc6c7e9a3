/**
 * What `strata index rebuild` does: rebuild a tenant's bucket index from the bucket, admitting
 * only verified blocks, and verify in place every block no verify has admitted yet (an adopted
 * Thanos or Mimir bucket, uploads whose events were missed): each is indexed if it passes and
 * quarantined if it does not, exactly as its verify job would. Nothing unverified is indexed.
 */
import type { ObjectStore } from "@strata/bucket";
import { bindPipeline, VerificationIncompleteError } from "./bindings/index.ts";
import type { EngineSettings } from "./config.ts";
import { verifyAndAdmit } from "./jobs/admit.ts";
import { jsonLogger } from "./log.ts";
import type { Logger } from "./ports.ts";

export interface TenantRebuild {
  tenant: string;
  blocks: number;
  deletionMarks: number;
  /** Blocks verified now and indexed. */
  admitted: string[];
  /** Blocks verified now and quarantined, with the first problem. */
  quarantined: { block: string; reason: string }[];
  /** Blocks whose files are not all there yet (an upload in progress): left for their verify job. */
  incomplete: { block: string; reason: string }[];
  /** Directories without a usable meta.json. */
  partials: [string, string][];
}

export async function rebuildIndex(
  store: ObjectStore,
  tenant: string,
  opts: { engine?: Partial<EngineSettings>; log?: Logger; verify?: boolean } = {},
): Promise<TenantRebuild> {
  const log = opts.log ?? jsonLogger(() => undefined);
  const deps = bindPipeline({ store, queue: { send: async () => undefined }, log, engine: opts.engine });
  const { unverified, partials = [] } = await deps.index.rebuild(tenant);
  const out: TenantRebuild = {
    tenant,
    blocks: 0,
    deletionMarks: 0,
    admitted: [],
    quarantined: [],
    incomplete: [],
    partials,
  };
  if (opts.verify !== false) {
    for (const block of unverified) {
      const ctx = { deps, log: log.child({ tenant, block, job: "index-rebuild" }), jobId: "index-rebuild" };
      try {
        const r = await verifyAndAdmit(ctx, { tenant, block });
        if (r.ok) out.admitted.push(block);
        else out.quarantined.push({ block, reason: r.reason });
      } catch (e) {
        if (!(e instanceof VerificationIncompleteError)) throw e;
        out.incomplete.push({ block, reason: e.message });
      }
    }
  } else {
    for (const block of unverified) out.incomplete.push({ block, reason: "not verified yet" });
  }
  const live = await deps.index.blocks(tenant);
  out.blocks = live.length;
  out.deletionMarks = live.filter((b) => b.deletionTime !== undefined).length;
  return out;
}
