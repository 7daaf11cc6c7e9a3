/**
 * The local runtime's public contract (`startLocalRuntime` in runtime.ts): what the CLI's
 * `strata local`, the end-to-end tests and a person at a terminal rely on.
 */
import type { ObjectStore } from "@strata/bucket";
import type { PipelineSettings } from "@strata/pipeline";

export interface RuntimeFaults {
  /** Probability, per object-store call of a worker, that the invocation dies there (its messages are not deleted). */
  killWorkerMidJobRate?: number;
  /**
   * Probability, per handler invocation, that it dies at one of its first 60 object-store
   * calls (chosen at random): kills as likely for a large job as for a small one, unlike the
   * per-call rate above.
   */
  killInvocationRate?: number;
  /** Probability that the poller delivers a received message twice (two concurrent invocations). */
  duplicateMessageRate?: number;
  /** Probability that the proxy answers an S3 request with 503 SlowDown. */
  s3ErrorRate?: number;
  /** Seed of the fault generator (same seed, same fault decisions in the same order). */
  seed?: number;
}

export interface LocalRuntimeOptions {
  /** Port of the S3+SQS endpoint on 127.0.0.1 (default 4566, LocalStack's; 0 = random). */
  port?: number;
  /**
   * An existing S3 + SQS endpoint (LocalStack) instead of the built-in emulator: the bucket and
   * queues are created there if missing and the bucket's notification put, as for the built-in
   * one; `port` and `dataDir` then do not apply (the endpoint keeps its own data).
   */
  endpoint?: string;
  /** Concurrent pollers, each feeding one handler invocation at a time (default 2). */
  workers?: number;
  /** Period of the scheduled job (retention, cleanup, index re-sync); default 60 s; 0 = never on its own. */
  scheduleIntervalMs?: number;
  /**
   * Pipeline, engine and queue settings (see @strata/pipeline's config.ts), over the local defaults;
   * `localSettingsFromEnv` reads them from STRATA_* variables.
   */
  settings?: Partial<PipelineSettings>;
  faults?: RuntimeFaults;
  /**
   * Real S3's timing on the built-in emulator, for measurement (`--s3-latency 20ms --s3-bandwidth
   * 90MB/s`): latency before each S3 answer, each body paced per request. Not with `endpoint`.
   */
  s3Shaping?: { latencyMs?: number; bandwidthBytesPerSecond?: number };
  /** Where the structured log lines go (default: stdout). */
  log?: (line: string) => void;
  /** Bucket name (default strata-blocks). */
  bucket?: string;
  /**
   * Keep the bucket, the queues and their pending messages in this directory across restarts
   * (created if missing); absent, everything lives in memory and is gone at `stop()`.
   */
  dataDir?: string;
  /**
   * Serve the bucket's page (`@strata/local/web`, as `strata web`, with the queue and DLQ depth)
   * on this port of 127.0.0.1 (0 = any free port); absent, no page. `strata local` serves it on
   * 10902 unless `--http-port 0`.
   */
  http?: { port: number; host?: string; refreshSeconds?: number };
  /**
   * The pipeline's clock (default the system's): deletion marks, the delete delay, retention,
   * leases and the verifier's "not in the future" check read it, so a test can run days of a
   * bucket's life in seconds.
   */
  clock?: { now(): number };
}

export interface LocalRuntime {
  /** http://127.0.0.1:<port>: S3 (path-style) and SQS, credentials test/test, region us-east-1. */
  endpoint: string;
  bucket: string;
  queueUrl: string;
  dlqUrl: string;
  /** The bucket's page, `http://127.0.0.1:<port>`, when `http` was given. */
  httpUrl?: string;
  /** Where the data is kept, when `dataDir` was given (ephemeral otherwise). */
  dataDir?: string;
  /** The runtime's bucket through the proxy (conditional writes enforced, notifications fire). */
  s3: ObjectStore;
  /** Upload a local block directory as `<tenant>/<ULID>/`: chunks, index, meta.json last. */
  uploadBlockDir(tenant: string, dir: string): Promise<void>;
  /**
   * Resolves once the jobs queue is empty (visible + in flight + delayed = 0), no notification is pending and no
   * handler has run for `quietMs`.
   */
  waitForIdle(opts?: { timeoutMs?: number; quietMs?: number }): Promise<void>;
  /** Run the scheduled job once now (one schedule-page job: the worker enqueues retention, cleanup and index-sync per tenant). */
  runScheduled(): Promise<void>;
  stop(): Promise<void>;
}
