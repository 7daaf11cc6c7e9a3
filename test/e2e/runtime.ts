// Starting the local runtime for the end-to-end tests and driving the scenario through it:
// upload every block as a sidecar would (meta.json last, which fires the S3 event), let the
// pipeline settle, run the scheduled job, let it settle again.
import { appendFileSync } from "node:fs";
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from "@strata/local";
import type { Scenario } from "./fixtures.ts";
import { REPLICA_LABEL } from "./fixtures.ts";

/**
 * Settings that let a run settle in seconds on a small machine: a short visibility timeout
 * (a killed worker's message comes back quickly) with a lease TTL below it, as in production;
 * a long delete delay so the deletion marks are still there to be checked after the scheduled
 * job; HA deduplication on the `replica` label; delayed re-sends of 1–2 s.
 */
export const E2E_SETTINGS = {
  replicaLabels: [REPLICA_LABEL],
  dedup: "penalty",
  visibilityTimeoutSeconds: 4,
  leaseTtlMs: 3_000,
  waitTimeSeconds: 1,
  batchSize: 5,
  maxReceiveCount: 5,
  deleteDelayMs: 48 * 3_600_000,
  // Uploads in progress and busy leases come back within seconds, not the production 30 s.
  retryDelay: { baseMs: 1_000, maxMs: 2_000, attempts: 12 },
} as const satisfies LocalRuntimeOptions["settings"];

/**
 * A runtime on a random port whose log is kept in memory (printed when a test fails); the
 * scheduled job runs only when a test calls it. `STRATA_E2E_LOG=<file>` also appends every line
 * to a file, to follow a run from another terminal.
 */
export async function startE2eRuntime(extra: LocalRuntimeOptions = {}): Promise<{ rt: LocalRuntime; log: string[] }> {
  const log: string[] = [];
  const file = process.env.STRATA_E2E_LOG;
  const write = (l: string) => {
    log.push(l);
    if (file) appendFileSync(file, l + "\n");
  };
  const rt = await startLocalRuntime({
    port: 0,
    workers: 2,
    scheduleIntervalMs: 0,
    log: write,
    ...extra,
    settings: { ...E2E_SETTINGS, ...extra.settings },
  });
  return { rt, log };
}

export const IDLE = { timeoutMs: 45_000 } as const;

/** Uploads the scenario's blocks in order and waits until the pipeline has settled: events only, no scheduled job. */
export async function uploadAndSettle(
  rt: LocalRuntime,
  sc: Scenario,
  idle: { timeoutMs: number } = IDLE,
): Promise<void> {
  for (const b of sc.blocks) await rt.uploadBlockDir(b.tenant, b.dir);
  await rt.waitForIdle(idle);
}

/** One run of the scheduled job (retention, cleanup, index re-sync, re-plan), until settled. */
export async function scheduleAndSettle(rt: LocalRuntime, idle: { timeoutMs: number } = IDLE): Promise<void> {
  await rt.runScheduled();
  await rt.waitForIdle(idle);
}

/** The last lines of a runtime log, for a failure message. */
export function logTail(log: readonly string[], n = 60): string {
  return log.slice(-n).join("\n");
}
