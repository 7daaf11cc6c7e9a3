/**
 * What `strata replay` sends: any job the worker accepts, for a bucket's blocks or tenants.
 *
 *  - `verify`: one per block with a meta.json (as its upload event would send);
 *  - `compact` / `downsample`: the jobs the planner finds due now over the indexed live blocks,
 *    built as the plan job builds them (the planner's plan as it is, at the producers'
 *    versions), without the plan job's writes (no marks, no queued notes);
 *  - `plan`, `retention`, `cleanup`, `index-sync`: one per tenant, naming it (no fan-out);
 *  - `schedule-page`: one, the first page of the tenant listing: the hourly schedule's run
 *    (retention, cleanup and index-sync for every tenant, fanned out by the worker);
 *  - `convert`: one per indexed live block at or above STRATA_PARQUET_MIN_RANGE (a Parquet
 *    backfill; the job itself skips a block already converted, or a tenant with Parquet off).
 *
 * Block-level jobs are selected by block, or by block time: `since` keeps blocks whose
 * maxTime is at or after it (a compaction when any of its inputs is). Every body is
 * `encodeJob`'s, so nothing invalid is ever sent; without `send` nothing is (a dry run).
 */
import { quoteName, tenantName, type ObjectStore } from "@strata/bucket";
import { FormatError } from "@strata/tsdb";
import { bindPipeline } from "./bindings/index.ts";
import { notConvertible } from "./jobs/convert.ts";
import { redundantBlocks } from "./blocks.ts";
import type { EngineSettings } from "./config.ts";
import { jsonLogger } from "./log.ts";
import { COMPACT_JOB_VERSION, JOB_MESSAGE_VERSION, encodeJob, type Job, type JobType } from "./messages.ts";

/** Job kinds sent once per tenant; `block` and `since` do not apply to them. */
export const TENANT_JOB_TYPES = ["plan", "retention", "cleanup", "index-sync"] as const satisfies readonly JobType[];

export function isTenantJobType(t: JobType): t is (typeof TENANT_JOB_TYPES)[number] {
  return (TENANT_JOB_TYPES as readonly string[]).includes(t);
}

export interface ReplayOptions {
  job: JobType;
  /** One tenant ("" = the bucket root); every tenant when absent. */
  tenant?: string;
  /** Only these blocks (canonical ULIDs); block-level kinds only. */
  blocks?: readonly string[];
  /** Only blocks whose maxTime (ms) is at or after this; block-level kinds only. */
  since?: number;
  /** Sends one encoded body; when absent nothing is sent (a dry run). */
  send?(body: string): Promise<void>;
  engine?: Partial<EngineSettings>;
  /** The correlation ids' clock (default Date.now). */
  now?: () => number;
}

/** One message, sent or (in a dry run) that would be. */
export interface ReplayMessage {
  type: JobType;
  /** Absent for `schedule-page`, which covers every tenant. */
  tenant?: string;
  /** The block (verify, downsample) or the plan id (compact); absent for tenant-level jobs. */
  target?: string;
  /** Downsampling's target resolution (ms). */
  resolution?: number;
  /** Exactly what is (or would be) sent. */
  body: string;
}

export type ReplayResult = { messages: ReplayMessage[]; sent: boolean } | { problem: string };

/** Builds the jobs and sends them (unless a dry run); an unknown tenant or block is a problem, as a value. */
export async function replayJobs(store: ObjectStore, opts: ReplayOptions): Promise<ReplayResult> {
  const deps = bindPipeline({
    store,
    queue: { send: async () => undefined },
    log: jsonLogger(() => undefined),
    engine: opts.engine,
  });
  if (opts.job === "schedule-page") {
    if (opts.tenant !== undefined || opts.blocks || opts.since !== undefined)
      return { problem: "schedule-page runs the schedule over every tenant: a tenant, block or time does not apply" };
    const body = encodeJob({
      version: JOB_MESSAGE_VERSION,
      id: `replay-${(opts.now ?? Date.now)().toString(36)}-1`,
      type: "schedule-page",
      page: 0,
    });
    if (opts.send) await opts.send(body);
    return { messages: [{ type: "schedule-page", target: "page 0", body }], sent: opts.send !== undefined };
  }
  const all = await deps.storage.listTenants();
  if (opts.tenant !== undefined && !all.includes(opts.tenant))
    return { problem: `unknown tenant ${quoteName(tenantName(opts.tenant))} in ${store.url} (no blocks under it)` };
  const tenants = opts.tenant !== undefined ? [opts.tenant] : all;
  const wanted = opts.blocks && new Set(opts.blocks);
  const inTime = (maxTime: number) => opts.since === undefined || maxTime >= opts.since;
  const picked = (id: string, maxTime: number) => (wanted === undefined || wanted.has(id)) && inTime(maxTime);

  const jobs: { job: Job; msg: Omit<ReplayMessage, "body"> }[] = [];
  const add = (job: Job, msg: Omit<ReplayMessage, "body">) => jobs.push({ job, msg });
  const found = new Set<string>();
  for (const tenant of tenants) {
    if (isTenantJobType(opts.job)) {
      add({ version: JOB_MESSAGE_VERSION, type: opts.job, tenant } as Job, { type: opts.job, tenant });
      continue;
    }
    if (opts.job === "verify") {
      for (const b of await deps.storage.listBlocks(tenant)) {
        if (!b.hasMeta || (wanted && !wanted.has(b.block))) continue;
        found.add(b.block);
        // A meta.json that does not parse has no time to filter on: its verify job is what reports it.
        const read = opts.since === undefined ? undefined : await deps.storage.readMetaStat({ tenant, block: b.block });
        if (read && !(read.meta instanceof FormatError) && !inTime(read.meta.maxTime)) continue;
        add(
          { version: JOB_MESSAGE_VERSION, type: "verify", tenant, block: b.block },
          { type: "verify", tenant, target: b.block },
        );
      }
      continue;
    }
    if (opts.job === "convert") {
      // Indexed blocks at or above the Parquet range: what the verify job would have sent (a backfill).
      for (const b of await deps.index.blocks(tenant)) {
        found.add(b.meta.ulid);
        if (b.deletionTime !== undefined || !picked(b.meta.ulid, b.meta.maxTime)) continue;
        if (notConvertible({ deps }, b.meta)) continue;
        add(
          { version: JOB_MESSAGE_VERSION, type: "convert", tenant, block: b.meta.ulid },
          { type: "convert", tenant, target: b.meta.ulid },
        );
      }
      continue;
    }
    // As the plan job plans: over live indexed blocks, without those another block covers.
    const indexed = await deps.index.blocks(tenant);
    for (const b of indexed) found.add(b.meta.ulid);
    const covered = new Set(redundantBlocks(indexed).map((r) => r.block.ulid));
    const live = indexed.filter((b) => b.deletionTime === undefined && !covered.has(b.meta.ulid));
    const maxTime = new Map(indexed.map((b) => [b.meta.ulid, b.meta.maxTime]));
    const outcome = await deps.engines.plan(tenant, live, undefined, indexed);
    if (opts.job === "compact") {
      for (const c of outcome.compactions) {
        if (!c.blocks.some((id) => picked(id, maxTime.get(id) ?? Number.POSITIVE_INFINITY))) continue;
        if (c.plan.tenant !== tenant)
          throw new Error(`the planner returned plan ${c.plan.id} of tenant ${JSON.stringify(c.plan.tenant)}`);
        add(
          { version: COMPACT_JOB_VERSION, type: "compact", plan: c.plan },
          {
            type: "compact",
            tenant,
            target: c.plan.id,
          },
        );
      }
    } else {
      for (const d of outcome.downsamples) {
        if (!picked(d.block, maxTime.get(d.block) ?? Number.POSITIVE_INFINITY)) continue;
        add(
          { version: JOB_MESSAGE_VERSION, type: "downsample", tenant, block: d.block, resolution: d.resolution },
          { type: "downsample", tenant, target: d.block, resolution: d.resolution },
        );
      }
    }
  }
  if (opts.job === "verify" && wanted) {
    const missing = [...wanted].filter((b) => !found.has(b));
    if (missing.length)
      return { problem: `block ${missing.join(", ")}: no meta.json in ${whereTenants(store, opts.tenant)}` };
  } else if (wanted && !isTenantJobType(opts.job)) {
    const missing = [...wanted].filter((b) => !found.has(b));
    if (missing.length)
      return { problem: `block ${missing.join(", ")}: not in the bucket index of ${whereTenants(store, opts.tenant)}` };
  }

  const base = `replay-${(opts.now ?? Date.now)().toString(36)}`;
  const messages: ReplayMessage[] = jobs.map(({ job, msg }, i) => ({
    ...msg,
    body: encodeJob({ ...job, id: `${base}-${i + 1}` }),
  }));
  if (opts.send) for (const m of messages) await opts.send(m.body);
  return { messages, sent: opts.send !== undefined };
}

function whereTenants(store: ObjectStore, tenant: string | undefined): string {
  return tenant === undefined
    ? `any tenant of ${store.url}`
    : `tenant ${quoteName(tenantName(tenant))} of ${store.url}`;
}
