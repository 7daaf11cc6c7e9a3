// `strata local` (what `npm start` runs): the whole pipeline on this machine, no AWS account.
import type { Command } from "../main.ts";
import { UsageError } from "../main.ts";

export const localCommand: Command = {
  summary: "run the pipeline locally: S3 + SQS emulator on 127.0.0.1:4566, the worker, notifications, the schedule",
  usage: "local [--port N] [--workers N] [--schedule-interval 60s] [--demo] [--demo-tenant T]",
  options: {
    port: { type: "string" },
    workers: { type: "string" },
    "schedule-interval": { type: "string" },
    demo: { type: "boolean" },
    "demo-tenant": { type: "string" },
  },
  async run(positionals, values) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const { parseDuration } = await import("@strata/pipeline/config");
    const port = intOption(values.port, "port", 4566);
    const workers = intOption(values.workers, "workers", 2);
    let interval = 60_000;
    if (values["schedule-interval"] !== undefined) {
      try {
        interval = parseDuration(String(values["schedule-interval"]), "--schedule-interval");
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const { startLocalRuntime, uploadDemoBlocks } = await import("@strata/local");
    let rt;
    try {
      rt = await startLocalRuntime({ port, workers, scheduleIntervalMs: interval });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") {
        process.stderr.write(`strata local: port ${port} on 127.0.0.1 is in use (LocalStack?); pick another with --port\n`);
        return 1;
      }
      throw e;
    }
    const tenant = (values["demo-tenant"] as string | undefined) ?? "demo";
    process.stderr.write(
      [
        "",
        `strata local: S3 + SQS at ${rt.endpoint} (credentials test/test, region us-east-1)`,
        `  bucket  s3://${rt.bucket}`,
        `  queue   ${rt.queueUrl}`,
        `  DLQ     ${rt.dlqUrl}`,
        "Upload blocks (a directory of <ULID>/ block directories) to set the pipeline going:",
        `  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 aws --endpoint-url ${rt.endpoint} s3 cp --recursive ./blocks s3://${rt.bucket}/team-a/`,
        `Watch the bucket:  AWS_ENDPOINT_URL=${rt.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test npx strata status s3://${rt.bucket}`,
        "One JSON line per event follows. Ctrl-C stops.",
        "",
      ].join("\n"),
    );
    if (values.demo) {
      const metas = await uploadDemoBlocks(rt.s3, { tenant });
      process.stderr.write(`strata local: demo: uploaded ${metas.length} 2h blocks for tenant ${tenant}\n`);
    }
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
    process.stderr.write("strata local: stopping\n");
    await rt.stop();
    return 0;
  },
};

function intOption(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}
