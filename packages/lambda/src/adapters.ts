/**
 * The real bindings of the pipeline's ports in Lambda: the bucket through @strata/bucket's
 * S3Store (storage, bucket index, leases, and the engines reading and writing blocks in
 * place), SQS for the job queue, Powertools for logs and metrics, the system clock, settings
 * from the environment (parsed against the worker's walls in ./sizing.ts).
 */
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { Metrics as PowertoolsMetrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { S3Store } from "@strata/bucket/s3";
import { BlockViews, tenantGauges } from "@strata/pipeline/operations";
import { WORKER_LIMITS } from "./sizing.ts";
import {
  bindPipeline,
  encodeJob,
  parseSettings,
  type BatchEntryFailure,
  type Clock,
  type JobQueue,
  type LogFields,
  type Logger,
  type Metrics,
  type MetricLabels,
  type MetricName,
  METRICS,
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

/**
 * The jobs queue over SQS. `sendBatch` is one SendMessageBatch (at most 10 entries, ids their
 * indices); SQS's `Failed` entries come back as they are, and an entry SQS lists neither as
 * sent nor as failed counts as failed: the pipeline's `sendJobs` retries and reports them.
 */
export function sqsJobQueue(client: SQSClient, queueUrl: string): JobQueue {
  return {
    async send(job, opts) {
      await client.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: encodeJob(job), DelaySeconds: opts?.delaySeconds }),
      );
    },
    async sendBatch(entries) {
      const r = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: entries.map((e, i) => ({
            Id: String(i),
            MessageBody: encodeJob(e.job),
            DelaySeconds: e.opts?.delaySeconds,
          })),
        }),
      );
      const sent = new Set((r.Successful ?? []).map((s) => s.Id));
      const failed = new Map((r.Failed ?? []).map((f) => [f.Id, f]));
      const out: BatchEntryFailure[] = [];
      for (let index = 0; index < entries.length; index++) {
        const id = String(index);
        const f = failed.get(id);
        if (f)
          out.push({ index, code: f.Code ?? "Unknown", message: f.Message ?? "", senderFault: f.SenderFault === true });
        else if (!sent.has(id))
          out.push({
            index,
            code: "NotInResponse",
            message: "SQS reported the entry neither sent nor failed",
            senderFault: false,
          });
      }
      return out;
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

/**
 * The Metrics port over EMF: each value is its own EMF record (`singleMetric`), so its labels
 * (the tenant, the job type and outcome) become that record's dimensions without leaking into
 * the next; names and units are the catalogue's (`METRICS` of @strata/pipeline). A duration is
 * one `Seconds` value per job: CloudWatch computes its statistics (p99, max) itself.
 */
export function powertoolsMetrics(metrics: PowertoolsMetrics): Metrics {
  const put = (name: MetricName, value: number, labels: MetricLabels) => {
    const single = metrics.singleMetric();
    // CloudWatch refuses an empty dimension value; Prometheus treats one as absent, too.
    for (const [k, v] of Object.entries(labels)) if (v !== "") single.addDimension(k, v);
    single.addMetric(name, MetricUnit[METRICS[name].unit], value);
  };
  return { add: put, observe: put, set: put };
}

export interface LambdaRuntime {
  deps: WorkerDeps;
  logger: PowertoolsLogger;
  metrics: PowertoolsMetrics;
}

/**
 * Everything the worker and the scheduled function need, built once per cold start. An unknown
 * `STRATA_*` variable or a malformed setting throws here, naming it: every invocation fails
 * the same way until the function's environment is fixed, and no job runs on a guess.
 */
export function lambdaRuntime(env: Env = process.env): LambdaRuntime {
  const { config, engine } = parseSettings(env, { limits: WORKER_LIMITS });
  const logger = new PowertoolsLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? "strata" });
  const metrics = new PowertoolsMetrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? "Strata",
    serviceName: "strata",
  });
  const store = new S3Store({ bucket: required(env, "STRATA_BUCKET") });
  const deps: WorkerDeps = bindPipeline({
    store,
    queue: sqsJobQueue(sqsClient(env), required(env, "STRATA_QUEUE_URL")),
    clock: systemClock,
    log: powertoolsLogger(logger),
    metrics: powertoolsMetrics(metrics),
    config,
    engine,
  });
  // The tenant gauges (EMF, tenant dimension) after each hourly index re-sync: what the alarms
  // on backlog, quarantine and index age read.
  deps.tenantGauges = (tenant) => tenantGauges(new BlockViews(store, { engine }), tenant);
  return { deps, logger, metrics };
}
