/**
 * What `strata replay` sends: verify jobs for a bucket's blocks (any block with meta.json, as
 * its upload event would), or the compact / downsample jobs the planner finds for the indexed
 * blocks. Selection by block, by upload time (the ULID's timestamp) or all of them.
 */
import { ulidTime } from "@strata/tsdb";
import type { ObjectStore } from "@strata/bucket";
import { bindPipeline } from "./bindings/index.ts";
import { COMPACT_JOB_VERSION, JOB_MESSAGE_VERSION, encodeJob, jobTenant, type Job } from "./messages.ts";
import type { EngineSettings } from "./config.ts";
import { jsonLogger } from "./log.ts";

export interface ReplayOptions {
  /** One tenant ("" = the bucket root); all tenants when absent. */
  tenant?: string;
  block?: string;
  /** Blocks whose ULID time is at or after this (ms). */
  since?: number;
  job: "verify" | "compact" | "downsample";
  send(body: string): Promise<void>;
  engine?: Partial<EngineSettings>;
}

/** Sends the jobs; returns one description per job sent. */
export async function replayJobs(store: ObjectStore, opts: ReplayOptions): Promise<string[]> {
  const sent: string[] = [];
  const queue = {
    send: async (job: Job) => {
      await opts.send(encodeJob(job));
      sent.push(describe(job));
    },
  };
  const deps = bindPipeline({ store, queue, log: jsonLogger(() => undefined), engine: opts.engine });
  const tenants = opts.tenant !== undefined ? [opts.tenant] : await deps.storage.listTenants();
  const selected = (id: string) =>
    opts.block !== undefined
      ? id === opts.block.toUpperCase()
      : opts.since !== undefined
        ? ulidTime(id) >= opts.since
        : true;
  const id = `replay-${Date.now().toString(36)}`;
  let n = 0;
  for (const tenant of tenants) {
    if (opts.job === "verify") {
      for (const b of await deps.storage.listBlocks(tenant)) {
        if (b.hasMeta && selected(b.block))
          await queue.send({
            version: JOB_MESSAGE_VERSION,
            id: `${id}-${++n}`,
            type: "verify",
            tenant,
            block: b.block,
          });
      }
      continue;
    }
    const live = (await deps.index.blocks(tenant)).filter((b) => b.deletionTime === undefined);
    const outcome = await deps.engines.plan(tenant, live, undefined, live);
    if (opts.job === "compact") {
      for (const c of outcome.compactions) {
        if (!c.blocks.some(selected)) continue;
        await queue.send({ version: COMPACT_JOB_VERSION, id: `${id}-${++n}`, type: "compact", plan: c.plan });
      }
    } else {
      for (const d of outcome.downsamples) {
        if (selected(d.block))
          await queue.send({
            version: JOB_MESSAGE_VERSION,
            id: `${id}-${++n}`,
            type: "downsample",
            tenant,
            block: d.block,
            resolution: d.resolution,
          });
      }
    }
  }
  return sent;
}

function describe(job: Job): string {
  const t = JSON.stringify(jobTenant(job) ?? "");
  switch (job.type) {
    case "verify":
      return `verify ${t} ${job.block}`;
    case "compact":
      return `compact ${t} ${job.plan.inputs.join(",")} (${job.plan.kind} ${job.plan.reason})`;
    case "downsample":
      return `downsample ${t} ${job.block} to ${job.resolution} ms`;
    default:
      return `${job.type} ${t}`;
  }
}
