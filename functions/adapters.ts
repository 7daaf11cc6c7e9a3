/**
 * The real bindings of the pipeline's ports in Lambda: SQS for the job queue, Powertools for
 * logs and metrics, the system clock, settings from the environment. Storage, the bucket
 * index, leases and the engines are bound to @strata/bucket, @strata/verify, @strata/compact
 * and @strata/downsample when those land; until then they fail loudly, naming what is missing.
 */
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { Metrics as PowertoolsMetrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  configFromEnv,
  encodeJob,
  type BucketIndex,
  type Clock,
  type Engines,
  type JobQueue,
  type Leases,
  type LogFields,
  type Logger,
  type Metrics,
  type Storage,
  type WorkerDeps,
} from "@strata/pipeline";

export interface Env {
  /** The blocks bucket's name. */
  STRATA_BUCKET?: string;
  /** The jobs queue's URL. */
  STRATA_QUEUE_URL?: string;
  [name: string]: string | undefined;
}

export function required(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`environment variable ${name} is not set (infra/functions.ts sets it on every function)`);
  return v;
}

export function sqsClient(env: Env): SQSClient {
  // With a custom endpoint (an emulator) the SDK would otherwise send to the host inside the
  // queue URL (e.g. sqs.us-east-1.localhost), which does not resolve.
  const custom = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  return new SQSClient(custom ? { endpoint: custom, useQueueUrlAsEndpoint: false } : {});
}

export function sqsJobQueue(client: SQSClient, queueUrl: string): JobQueue {
  return {
    async send(job) {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: encodeJob(job) }));
    },
  };
}

export const systemClock: Clock = { now: () => Date.now() };

export function powertoolsLogger(logger: PowertoolsLogger, bound: LogFields = {}): Logger {
  return {
    info: (event, fields) => logger.info(event, { ...bound, ...fields }),
    warn: (event, fields) => logger.warn(event, { ...bound, ...fields }),
    error: (event, fields) => logger.error(event, { ...bound, ...fields }),
    child: (fields) => powertoolsLogger(logger, { ...bound, ...fields }),
  };
}

export function powertoolsMetrics(metrics: PowertoolsMetrics): Metrics {
  return { count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value) };
}

/** A port whose every method rejects with a message naming the port and the missing binding. */
export function unwired<T extends object>(port: string, binding: string): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      if (prop === "then") return undefined; // not a thenable
      return () => {
        throw new Error(`${port}.${String(prop)} is not wired yet: it is bound to ${binding} when that package lands`);
      };
    },
  });
}

export interface LambdaRuntime {
  deps: WorkerDeps;
  logger: PowertoolsLogger;
  metrics: PowertoolsMetrics;
}

/** Everything the worker and the scheduled function need, built once per cold start. */
export function lambdaRuntime(env: Env = process.env): LambdaRuntime {
  const logger = new PowertoolsLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? "strata" });
  const metrics = new PowertoolsMetrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? "Strata", serviceName: "strata" });
  const bucket = required(env, "STRATA_BUCKET");
  const deps: WorkerDeps = {
    storage: unwired<Storage>("storage", `@strata/bucket (bucket ${bucket})`),
    index: unwired<BucketIndex>("index", "@strata/bucket"),
    leases: unwired<Leases>("leases", "@strata/bucket"),
    engines: unwired<Engines>("engines", "@strata/verify, @strata/compact and @strata/downsample"),
    queue: sqsJobQueue(sqsClient(env), required(env, "STRATA_QUEUE_URL")),
    clock: systemClock,
    log: powertoolsLogger(logger),
    metrics: powertoolsMetrics(metrics),
    config: configFromEnv(env),
  };
  return { deps, logger, metrics };
}
