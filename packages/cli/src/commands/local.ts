// `strata local` (what `npm start` runs): the whole pipeline on this machine, no AWS account.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "../command.ts";
import { UsageError, stopSignal } from "../command.ts";

export const localCommand: Command = {
  summary: "run the pipeline locally: S3 + SQS emulator on 127.0.0.1:4566, the worker, notifications, the schedule",
  usage:
    "local [--data-dir DIR | --ephemeral | --endpoint URL] [--port N] [--http-port N] [--workers N] [--schedule-interval 60s] [--s3-latency 20ms] [--s3-bandwidth 90MB/s] [--demo] [--demo-tenant T]   (pipeline settings from the same STRATA_* variables as the deployed functions)",
  optionHelp: {
    "data-dir":
      "keep the bucket, the queues and their pending messages here across restarts (default .strata/ under the project root: the nearest directory above with a package.json)",
    ephemeral: "keep nothing: everything lives in memory and is gone when strata local stops",
    endpoint:
      "use this S3 + SQS endpoint (LocalStack) instead of the built-in emulator: the bucket, queues and bucket notification are created there if missing; only the worker and the schedule run here",
    port: "port of the S3 + SQS endpoint on 127.0.0.1 (default 4566; 0 = any free port)",
    workers: "concurrent worker invocations, as Lambda's concurrency (default 2)",
    "schedule-interval":
      "how often the scheduled job runs: retention, cleanup, index re-sync (default STRATA_SCHEDULE_INTERVAL or 60s; 0 = never)",
    "s3-latency":
      "the emulator waits this long before each S3 answer, as real S3's first byte (15–30 ms): for measuring (default STRATA_S3_LATENCY or none)",
    "s3-bandwidth":
      "the emulator paces each S3 request's and response's body to this rate, per connection as S3 (80–100 MB/s), e.g. 90MB/s (default STRATA_S3_BANDWIDTH or unpaced)",
    demo: "also upload a few hours of demo blocks",
    "demo-tenant": "the demo blocks' tenant (default demo)",
    "http-port":
      "port of the bucket's page on 127.0.0.1 (as `strata web`, with the queue and DLQ depth; default 10902; 0 = no page)",
  },
  async details() {
    // The settings catalogues, not the engines nor the emulator: `--help` stays fast.
    const { PIPELINE_SETTINGS } = await import("@strata/pipeline/settings");
    const { LOCAL_SETTING_DEFAULTS } = await import("@strata/local/settings");
    const width = Math.max(...PIPELINE_SETTINGS.map((s) => s.name.length), "STRATA_SCHEDULE_INTERVAL".length);
    const local = (name: keyof typeof LOCAL_SETTING_DEFAULTS) =>
      LOCAL_SETTING_DEFAULTS[name] ? `; locally ${LOCAL_SETTING_DEFAULTS[name]}` : "";
    return [
      "Environment (the same settings the deployed functions read, validated by the same code; an unknown STRATA_* variable is refused):",
      ...PIPELINE_SETTINGS.map((s) => `  ${s.name.padEnd(width)}  ${s.help.replace(/\)$/, `${local(s.name)})`)}`),
      `  ${"STRATA_SCHEDULE_INTERVAL".padEnd(width)}  how often the scheduled job runs locally (default 60s; --schedule-interval wins)`,
      "",
      "Examples:",
      "  npm start                                   the pipeline on 127.0.0.1:4566 (npm start runs strata local)",
      "  npm start -- --demo                         the same, with a few hours of blocks for tenant demo",
      "  npm start -- --port 4567                    the S3 + SQS endpoint on another port",
      "  strata local --data-dir /var/tmp/strata     the data kept in /var/tmp/strata (default .strata/)",
      "  strata local --ephemeral --demo             nothing kept: a throw-away pipeline with demo blocks",
      "  strata local --endpoint http://localhost:4566   on a running LocalStack (S3 + SQS) instead of the emulator",
      "  strata local --port 4567 --workers 1        beside LocalStack on 4566, one job at a time",
      "  strata local --s3-latency 20ms --s3-bandwidth 90MB/s   the emulator as slow as real S3, to measure jobs",
      "  STRATA_RETENTION_RAW=30d STRATA_DELETE_DELAY=10m strata local --schedule-interval 10s",
      "                                              retention and cleanup every 10 s, deletions after 10 minutes",
    ].join("\n");
  },
  options: {
    "data-dir": { type: "string" },
    ephemeral: { type: "boolean" },
    endpoint: { type: "string" },
    port: { type: "string" },
    workers: { type: "string" },
    "schedule-interval": { type: "string" },
    "s3-latency": { type: "string" },
    "s3-bandwidth": { type: "string" },
    demo: { type: "boolean" },
    "demo-tenant": { type: "string" },
    "http-port": { type: "string" },
  },
  async run(positionals, values) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const { parseDuration } = await import("@strata/tsdb");
    const { localSettingsFromEnv, localS3Shaping, startLocalRuntime, uploadDemoBlocks } = await import("@strata/local");
    const port = intOption(values.port, "port", 4566);
    const workers = intOption(values.workers, "workers", 2);
    const httpPort = intOption(values["http-port"], "http-port", 10902);
    if (values.ephemeral && values["data-dir"] !== undefined)
      throw new UsageError("--data-dir and --ephemeral: give one (--ephemeral keeps nothing)");
    const endpoint = values.endpoint === undefined ? undefined : endpointOption(String(values.endpoint));
    if (endpoint && (values["data-dir"] !== undefined || values.ephemeral || values.port !== undefined))
      throw new UsageError(
        "--endpoint: the endpoint keeps its own data and port; drop --data-dir, --ephemeral and --port",
      );
    const dataDir =
      values.ephemeral || endpoint ? undefined : resolve(String(values["data-dir"] ?? defaultDataDir(process.cwd())));
    let interval = 60_000;
    let settings;
    let s3Shaping;
    try {
      const text = values["schedule-interval"] ?? process.env.STRATA_SCHEDULE_INTERVAL;
      if (text !== undefined && text !== "")
        interval = parseDuration(
          String(text),
          values["schedule-interval"] !== undefined ? "--schedule-interval" : "STRATA_SCHEDULE_INTERVAL",
        );
      // The local defaults where they differ (a lease below the local visibility timeout).
      settings = localSettingsFromEnv(process.env);
      s3Shaping = localS3Shaping(
        {
          latency: values["s3-latency"] as string | undefined,
          bandwidth: values["s3-bandwidth"] as string | undefined,
        },
        process.env,
      );
    } catch (e) {
      throw new UsageError((e as Error).message, { cause: e });
    }
    if (endpoint && s3Shaping)
      throw new UsageError("--s3-latency, --s3-bandwidth: they shape the built-in emulator; drop them with --endpoint");
    let rt;
    try {
      rt = await startLocalRuntime({
        port,
        workers,
        scheduleIntervalMs: interval,
        settings,
        s3Shaping,
        dataDir,
        endpoint,
        http: httpPort ? { port: httpPort } : undefined,
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") {
        process.stderr.write(
          `strata local: ${(e as Error).message} (LocalStack? another strata?); pick another with --port or --http-port\n`,
        );
        return 1;
      }
      if (endpoint) {
        process.stderr.write(`strata local: setting up ${endpoint}: ${(e as Error).message}\n`);
        return 1;
      }
      throw e;
    }
    const tenant = (values["demo-tenant"] as string | undefined) ?? "demo";
    const stopRequested = stopSignal(); // before the banner says Ctrl-C stops
    process.stderr.write(
      [
        "",
        `strata local: S3 + SQS at ${rt.endpoint} (credentials test/test, region us-east-1)`,
        `  bucket  s3://${rt.bucket}`,
        `  queue   ${rt.queueUrl}`,
        `  DLQ     ${rt.dlqUrl}`,
        ...(rt.httpUrl ? [`  page    ${rt.httpUrl}/`] : []),
        ...(s3Shaping ? [`  shaped  S3 as real S3: ${shapingText(s3Shaping)}`] : []),
        endpoint
          ? `  data    kept by ${endpoint} (its own persistence)`
          : rt.dataDir
            ? `  data    ${rt.dataDir} (objects, queues and pending messages kept across restarts)`
            : "  data    in memory only (--ephemeral): everything is gone when this stops",
        "For the AWS CLI, strata status and strata replay in another shell, paste:",
        ...Object.entries(localEnv(rt)).map(([k, v]) => `  export ${k}=${v}`),
        "Then upload blocks (a directory of <ULID>/ block directories) to set the pipeline going:",
        `  aws s3 cp --recursive ./blocks s3://${rt.bucket}/team-a/`,
        `  npx strata status s3://${rt.bucket}`,
        "One JSON line per event follows. Ctrl-C stops.",
        "",
      ].join("\n"),
    );
    if (values.demo) {
      const metas = await uploadDemoBlocks(rt.s3, { tenant });
      process.stderr.write(`strata local: demo: uploaded ${metas.length} 2h blocks for tenant ${tenant}\n`);
    }
    await stopRequested;
    process.stderr.write("strata local: stopping\n");
    await rt.stop();
    return 0;
  },
};

function shapingText(s: { latencyMs?: number; bandwidthBytesPerSecond?: number }): string {
  const parts = [];
  if (s.latencyMs !== undefined) parts.push(`${s.latencyMs} ms before each answer`);
  if (s.bandwidthBytesPerSecond !== undefined)
    parts.push(`${(s.bandwidthBytesPerSecond / 1e6).toFixed(1)} MB/s per connection`);
  return parts.join(", ");
}

function endpointOption(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `--endpoint: expected an http(s) URL such as http://localhost:4566, got ${JSON.stringify(text)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(
      `--endpoint: expected an http(s) URL such as http://localhost:4566, got ${JSON.stringify(text)}`,
    );
  return text.replace(/\/+$/, "");
}

/** What a shell needs to reach the local runtime (AWS CLI, SDKs, strata replay). */
function localEnv(rt: { endpoint: string; bucket: string; queueUrl: string; dlqUrl: string }): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: rt.endpoint,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    STRATA_QUEUE_URL: rt.queueUrl,
    STRATA_DLQ_URL: rt.dlqUrl,
    STRATA_BUCKET: rt.bucket,
  };
}

/** `.strata/` beside the nearest package.json above `cwd` (npm start runs at the project root), else in `cwd`. */
function defaultDataDir(cwd: string): string {
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return join(dir, ".strata");
    if (dirname(dir) === dir) return join(cwd, ".strata");
  }
}

function intOption(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}
