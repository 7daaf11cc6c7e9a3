/**
 * The pipeline's ports bound to the real packages: one ObjectStore (S3 in Lambda, the
 * emulator locally, a directory in tests) carries storage, the bucket index and the leases;
 * the engines read and write blocks through it. The job queue, clock and logger come from
 * the caller (SQS in Lambda and locally, anything in tests): this package loads no AWS SDK.
 *
 * Tenants: the pipeline names the bucket-root tenant (Thanos' single-tenant layout) `""`
 * (`ROOT_TENANT` of `@strata/bucket`), so the layout is built with `rootTenant: ""`; the
 * CLI's name for it, `ROOT_TENANT_NAME` (`__root__`), is accepted by `strata replay/status`
 * and mapped.
 */
import { BucketLayout, ROOT_TENANT } from "@strata/bucket";
import type { ObjectStore } from "@strata/bucket";
import type { EngineSettings, PipelineConfig } from "../config.ts";
import type { Clock, JobQueue, Logger, Metrics, WorkerDeps } from "../ports.ts";
import { DEFAULT_CONFIG, DEFAULT_ENGINE_SETTINGS, defaultDedup } from "../settings.ts";
import { StoreBucketIndex } from "./bucket-index.ts";
import { BlockEngines } from "./engines.ts";
import { StoreLeases } from "./leases.ts";
import { StoreStorage } from "./storage.ts";
import { OverridesSource } from "../overrides/load.ts";
import { baseSettings, tenantSettings } from "../overrides/apply.ts";

export { StoreStorage } from "./storage.ts";
export { StoreBucketIndex } from "./bucket-index.ts";
export { StoreLeases } from "./leases.ts";
export { BlockEngines } from "./engines.ts";
export { VerificationIncompleteError } from "../ports.ts";

/** The layout every binding shares: the root tenant is the pipeline's `""`. */
export function pipelineLayout(): BucketLayout {
  return new BucketLayout({ rootTenant: ROOT_TENANT });
}

export interface BindOptions {
  store: ObjectStore;
  queue: JobQueue;
  log: Logger;
  clock?: Clock;
  metrics?: Metrics;
  config?: Partial<PipelineConfig>;
  engine?: Partial<EngineSettings>;
  /** Lease owner name (default host-pid-random). */
  owner?: string;
  /** Per-tenant overrides read from the bucket (`strata-overrides.json`); false: the global settings only. */
  overrides?: boolean;
}

export function bindPipeline(opts: BindOptions): WorkerDeps {
  const clock = opts.clock ?? { now: () => Date.now() };
  const now = () => clock.now();
  const layout = pipelineLayout();
  const engine = { ...DEFAULT_ENGINE_SETTINGS, ...opts.engine };
  if (opts.engine?.dedup === undefined) engine.dedup = defaultDedup(engine.replicaLabels);
  const config = { ...DEFAULT_CONFIG, ...opts.config };
  // One source per bound pipeline (a Lambda container's module state): a HEAD per TTL, a GET per change.
  // Its TTL runs on the wall clock, like leases: it is the freshness of a live process's copy, and a
  // test that stops or moves the pipeline's clock must not freeze it (or make it re-read on every call).
  const source = opts.overrides === false ? undefined : new OverridesSource(opts.store, { log: opts.log });
  const base = baseSettings(config, engine);
  const perTenant = source && (async (tenant: string) => tenantSettings(await source.current(), tenant, base));
  return {
    storage: new StoreStorage(opts.store, layout, { maxMetaBytes: engine.maxMetaBytes }),
    index: new StoreBucketIndex(opts.store, layout, { now, maxMetaBytes: engine.maxMetaBytes }),
    leases: new StoreLeases(opts.store, layout, { owner: opts.owner, now }),
    engines: new BlockEngines(opts.store, layout, engine, now, perTenant),
    queue: opts.queue,
    clock,
    log: opts.log,
    metrics: opts.metrics,
    config,
    ...(perTenant ? { tenantSettings: perTenant } : {}),
  };
}
