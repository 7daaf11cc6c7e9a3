/**
 * The local pipeline: one process, no AWS account. fauxqs (S3 + SQS) behind the
 * conditional-write proxy on 127.0.0.1:4566, the bucket, the jobs queue and its DLQ (redrive
 * as in infra/), the Lambda worker's own handler (`createWorkerHandler`) fed by a poller that
 * behaves like Lambda's SQS event source, the bucket's notification put from the same rule as
 * infra/bucket.ts (the proxy sends the events), and the scheduled job on an interval. With
 * `endpoint`, an existing S3 + SQS (LocalStack) replaces the emulator, set up the same way.
 * Faults can be injected for tests.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { S3Store } from "@strata/bucket/s3";
import { uploadBlock } from "@strata/bucket";
import { mulberry32, readMeta } from "@strata/tsdb";
import { DirBlockSource } from "@strata/tsdb/node";
import {
  bindPipeline,
  defaultDedup,
  jsonLogger,
  pipelineLayout,
  runSchedule,
  type JobQueue,
  type PipelineSettings,
} from "@strata/pipeline";
import { createWorkerHandler, sqsJobQueue } from "@strata/lambda";
import { JOBS_MAX_RECEIVE_COUNT, WORKER_BATCH_SIZE } from "@strata/lambda/deploy";
import type { LocalRuntime, LocalRuntimeOptions } from "./contract.ts";
import { KillSwitch } from "./faults.ts";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "@strata/emulator";
import { provisionPipeline } from "./provision.ts";
import { SqsEventSourcePoller } from "./sqs-poller.ts";
import { localSettingsFromEnv } from "./settings.ts";
import { startWebServer } from "./web/server.ts";
import { MetricsRegistry } from "./web/prometheus.ts";

export const DEFAULT_PORT = 4566;
export const DEFAULT_BUCKET = "strata-blocks";
export { DLQ_QUEUE, JOBS_QUEUE } from "./provision.ts";

/**
 * Local defaults: the functions' settings (LOCAL_SETTING_DEFAULTS aside), infra's batch size
 * and redrive count, Lambda's 20 s long poll; a visibility timeout of 5 minutes (not infra's
 * 90: a failed job should come back while someone watches) with the lease TTL below it.
 */
export const LOCAL_SETTINGS: PipelineSettings = {
  ...localSettingsFromEnv({}),
  batchSize: WORKER_BATCH_SIZE,
  waitTimeSeconds: 20,
  visibilityTimeoutSeconds: 300,
  maxReceiveCount: JOBS_MAX_RECEIVE_COUNT,
};

export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const settings: PipelineSettings = { ...LOCAL_SETTINGS, ...opts.settings };
  if (opts.settings?.dedup === undefined) settings.dedup = defaultDedup(settings.replicaLabels);
  if (settings.leaseTtlMs >= settings.visibilityTimeoutSeconds * 1000) {
    throw new Error(
      `leaseTtlMs ${settings.leaseTtlMs} must stay below the visibility timeout (${settings.visibilityTimeoutSeconds} s): a dead worker's message must find its lease expired`,
    );
  }
  const write = opts.log ?? ((l: string) => void process.stdout.write(l + "\n"));
  const log = jsonLogger(write, { service: "strata-local" });
  const bucket = opts.bucket ?? DEFAULT_BUCKET;
  const faults = opts.faults ?? {};
  const random = mulberry32(faults.seed ?? 1);

  if (opts.endpoint && faults.s3ErrorRate)
    throw new Error("faults.s3ErrorRate needs the built-in emulator, not endpoint");
  if (opts.endpoint && opts.s3Shaping) throw new Error("s3Shaping needs the built-in emulator, not endpoint");
  // The built-in emulator, or someone else's S3 + SQS (LocalStack): set up the same way below.
  const emu: S3Emulator | undefined = opts.endpoint
    ? undefined
    : await startS3Emulator({ port: opts.port ?? DEFAULT_PORT, dataDir: opts.dataDir, shaping: opts.s3Shaping });
  const endpoint = emu?.endpoint ?? opts.endpoint!.replace(/\/+$/, "");
  const clientBase = { endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  const sqs = new SQSClient({ ...clientBase, useQueueUrlAsEndpoint: false });
  const s3Client = new S3Client({ ...clientBase, forcePathStyle: true });
  const stops: (() => Promise<void>)[] = [async () => emu?.stop(), async () => sqs.destroy()];
  stops.push(async () => s3Client.destroy());
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };

  try {
    // S3 notifications come from the endpoint, per the configuration put here (with S3's TestEvent).
    emu?.proxy.notifications.onSent((n) =>
      n.error
        ? log.error("s3-notification-failed", { key: n.key, error: n.error })
        : log.info("s3-notification", { key: n.key, eventName: n.eventName }),
    );
    const {
      queueUrl,
      dlqUrl,
      queueArn: jobsArn,
    } = await provisionPipeline({
      s3: s3Client,
      sqs,
      endpoint,
      bucket,
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      maxReceiveCount: settings.maxReceiveCount,
    });

    const s3 = new S3Store({ bucket, clientConfig: { ...clientBase, forcePathStyle: true } });
    stops.push(async () => s3.close());
    // Lambda's own adapter (SendMessage, SendMessageBatch for the schedule's fan-out).
    const sqsQueue: JobQueue = sqsJobQueue(sqs, queueUrl);

    // Notifications not yet on the queue (unknown for another endpoint: its queue depth tells).
    const pendingNotifications = () => emu?.proxy.notifications.pending ?? 0;
    if (emu && faults.s3ErrorRate) {
      emu.proxy.setRandomFaults({
        rate: faults.s3ErrorRate,
        random,
        onFault: (method, path, status) => log.warn("fault-s3-error", { method, path, status }),
      });
    }

    // The worker: the Lambda handler over the real bindings, some invocations killed on demand.
    const kill =
      faults.killWorkerMidJobRate || faults.killInvocationRate
        ? new KillSwitch(
            faults.killWorkerMidJobRate ?? 0,
            random,
            (invocation, where) => log.warn("fault-worker-killed", { invocation, where }),
            faults.killInvocationRate ?? 0,
          )
        : undefined;
    // The worker's job metrics, served at /metrics on the HTTP port.
    const metrics = new MetricsRegistry();
    const deps = bindPipeline({
      store: kill ? kill.store(s3) : s3,
      queue: kill ? kill.queue(sqsQueue) : sqsQueue,
      log,
      metrics,
      config: settings,
      engine: settings,
      clock: opts.clock,
    });
    const handler = createWorkerHandler(deps, { bucket });
    const poller = new SqsEventSourcePoller({
      sqs,
      queueUrl,
      queueArn: jobsArn,
      region: EMULATOR_REGION,
      handler,
      batchSize: settings.batchSize,
      waitTimeSeconds: settings.waitTimeSeconds,
      concurrency: opts.workers ?? 2,
      invoke: kill ? (id, call) => kill.run(id, call) : undefined,
      duplicate: faults.duplicateMessageRate
        ? (m) => {
            const dup = random() < faults.duplicateMessageRate!;
            if (dup) log.warn("fault-duplicate-delivery", { messageId: m.MessageId });
            return dup;
          }
        : undefined,
      onOutcome: (o) => {
        if (o.result !== "ok" || o.deleted.length < o.received.length) {
          log.warn("invocation-retry", {
            invocation: o.invocation,
            result: o.result,
            received: o.received.length,
            deleted: o.deleted.length,
            error: o.error,
          });
        }
      },
      onError: (e) => log.warn("poller-error", { error: e instanceof Error ? e.message : String(e) }),
    });
    stops.push(() => poller.stop());

    const runScheduled = async () => {
      await runSchedule(deps);
    };
    let timer: NodeJS.Timeout | undefined;
    const interval = opts.scheduleIntervalMs ?? 60_000;
    if (interval > 0) {
      timer = setInterval(
        () => runScheduled().catch((e: unknown) => log.error("schedule-failed", { error: String(e) })),
        interval,
      );
      timer.unref();
    }
    stops.push(async () => clearInterval(timer));
    stops.push(async () => emu?.proxy.notifications.settled());

    // The bucket's page, as `strata web` serves it, knowing the queues.
    const web = opts.http
      ? await startWebServer({
          store: s3,
          port: opts.http.port,
          host: opts.http.host,
          refreshSeconds: opts.http.refreshSeconds,
          engine: settings,
          now: opts.clock ? () => opts.clock!.now() : undefined,
          queues: async () => ({ jobs: await queueDepth(sqs, queueUrl), dlq: await queueDepth(sqs, dlqUrl) }),
          metrics,
          onError: (e, path) => log.error("web-request-failed", { path, error: String(e) }),
        })
      : undefined;
    if (web) stops.push(() => web.close());

    poller.start();
    log.info("local-runtime-started", {
      endpoint,
      bucket,
      queueUrl,
      dlqUrl,
      workers: opts.workers ?? 2,
      dataDir: opts.dataDir ?? "ephemeral",
      ...(web ? { httpUrl: web.url } : {}),
    });

    const layout = pipelineLayout();
    const rt: LocalRuntime = {
      endpoint,
      bucket,
      queueUrl,
      dlqUrl,
      ...(web ? { httpUrl: web.url } : {}),
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      s3,
      async uploadBlockDir(tenant, dir) {
        const src = new DirBlockSource(dir);
        const meta = await readMeta(src);
        await uploadBlock(s3, layout, tenant, meta.ulid, src);
      },
      async waitForIdle(w = {}) {
        const timeoutMs = w.timeoutMs ?? 60_000;
        const quietMs = w.quietMs ?? 500;
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const depth = await queueDepth(sqs, queueUrl);
          const quiet = Date.now() - poller.lastActivity >= quietMs;
          if (depth === 0 && poller.busy === 0 && pendingNotifications() === 0 && quiet) return;
          if (Date.now() > deadline) {
            throw new Error(
              `local runtime not idle after ${timeoutMs} ms: ${depth} message(s) queued or in flight, ${poller.busy} invocation(s) running, ${pendingNotifications()} notification(s) pending`,
            );
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      runScheduled,
      async stop() {
        await stopAll();
      },
    };
    return rt;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Messages visible, in flight and delayed. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  const a = r.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}
