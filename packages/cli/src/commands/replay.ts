// `strata replay`: send any job the worker accepts for a bucket's blocks or tenants to the jobs
// queue (`--dry-run`: only list them); `--from-dlq` is `strata dlq redrive`.
// The SQS SDK and the pipeline load only when the command runs (start-up stays light).
import { isUlid, resolutionName, tryParseDuration } from "@strata/tsdb";
import { tenantFromName, tenantName } from "@strata/bucket";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { QUEUE_HELP, openSqs, queueArg, sendBody, sqsProblem } from "../sqs.ts";

/** Every job type of the worker's message contract (`JOB_TYPES` of @strata/pipeline), in its order. */
const JOBS = [
  "verify",
  "compact",
  "downsample",
  "plan",
  "retention",
  "cleanup",
  "index-sync",
  "schedule-page",
  "convert",
] as const;
type JobKind = (typeof JOBS)[number];
const TENANT_JOBS: readonly JobKind[] = ["plan", "retention", "cleanup", "index-sync"];

export const replayCommand: Command = {
  summary:
    "send any job (verify, compact, downsample, plan, retention, cleanup, index-sync, schedule-page, convert) to the jobs queue",
  usage:
    "replay <bucket-url> [--job KIND] [--tenant T] [--block ULID... | --since TIME | --all] [--dry-run] [--queue URL] | replay --from-dlq [--dlq URL] [--queue URL]",
  options: {
    job: { type: "string" },
    tenant: { type: "string" },
    block: { type: "string", multiple: true },
    since: { type: "string" },
    all: { type: "boolean" },
    "dry-run": { type: "boolean" },
    queue: { type: "string" },
    dlq: { type: "string" },
    "from-dlq": { type: "boolean" },
  },
  optionHelp: {
    job: `what to send: ${JOBS.join(", ")} (default verify); ${TENANT_JOBS.join(", ")} go once per tenant; schedule-page once (the hourly schedule's run over every tenant)`,
    tenant: "only this tenant (__root__: blocks at the bucket root); default every tenant",
    block: "only this block (repeatable); verify, compact (plans with it as an input), downsample, convert",
    since:
      "only blocks whose time range ends at or after TIME (block time, meta.json's maxTime, not upload time): RFC 3339 (2026-01-02T00:00:00Z), epoch milliseconds, or a duration back from now (6h, 2d, 1h30m)",
    all: "every block (for verify, compact, downsample, convert one of --block, --since, --all is required)",
    "dry-run": "print what would be sent, one line per message (job, tenant, block or plan id); send nothing",
    queue: QUEUE_HELP.queue,
    dlq: `${QUEUE_HELP.dlq}; with --from-dlq`,
    "from-dlq": "move every dead letter back to the jobs queue (the same as `strata dlq redrive`)",
  },
  details: async () =>
    [
      "verify goes to every block with a meta.json (as its upload event would); compact and downsample are the",
      "jobs the planner finds due now over the indexed blocks (what a plan job would send); plan, retention,",
      "cleanup and index-sync are sent once for each tenant; schedule-page is sent once and runs the hourly schedule",
      "(the worker sends retention, cleanup and index-sync for every tenant, a page of tenants at a time); convert goes",
      "to every indexed block at or above STRATA_PARQUET_MIN_RANGE (a Parquet backfill).",
      "Bodies are the pipeline's own (encodeJob).",
      QUEUE_HELP.env,
      "",
      "Examples:",
      "  strata replay s3://strata-blocks --tenant demo --since 6h --dry-run",
      "  strata replay s3://strata-blocks --job compact --all",
      "  strata replay file:///data/bucket --job index-sync --queue http://127.0.0.1:4566/000000000000/strata-jobs",
      "  strata replay --from-dlq",
    ].join("\n"),
  run: async (positionals, values) => {
    if (values["from-dlq"]) {
      if (positionals.length) throw new UsageError("--from-dlq takes no bucket URL");
      const [dlq, queue] = [queueArg(values, "dlq"), queueArg(values, "queue")];
      const { redriveAll } = await import("./dlq.ts");
      return redriveAll("replay", dlq, queue);
    }
    const [url, ...extra] = positionals;
    if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const job = ((values.job as string | undefined) ?? "verify") as JobKind;
    if (!JOBS.includes(job))
      throw new UsageError(`--job: expected one of ${JOBS.join(", ")}, got ${JSON.stringify(job)}`);
    const blocks = (values.block as string[] | undefined)?.map(blockArg);
    const since = values.since !== undefined ? parseSince(String(values.since)) : undefined;
    if (job === "schedule-page") {
      if (blocks || since !== undefined || values.all === true || values.tenant !== undefined)
        throw new UsageError(
          "--job schedule-page runs over every tenant: --tenant, --block, --since and --all do not apply",
        );
    } else if (TENANT_JOBS.includes(job)) {
      if (blocks || since !== undefined)
        throw new UsageError(`--job ${job} is sent once per tenant: --block and --since do not apply`);
    } else if ([blocks !== undefined, since !== undefined, values.all === true].filter(Boolean).length !== 1)
      throw new UsageError("choose exactly one of --block ULID, --since TIME, --all");
    const dryRun = values["dry-run"] === true;
    // The queue is checked before any bucket work; a dry run needs none.
    const queueUrl = dryRun ? undefined : queueArg(values, "queue");
    const tenant = tenantArg(values.tenant);
    const store = await openBucketArg(url);
    const sqs = queueUrl ? await openSqs(queueUrl) : undefined;
    let sqsLine: string | undefined;
    try {
      const { replayJobs } = await import("@strata/pipeline/operations");
      const r = await replayJobs(store, {
        job,
        tenant,
        blocks,
        since,
        send:
          sqs && queueUrl
            ? async (body) => {
                try {
                  await sendBody(sqs, queueUrl, body);
                } catch (e) {
                  sqsLine = sqsProblem(e);
                  throw e;
                }
              }
            : undefined,
      });
      if ("problem" in r) {
        process.stderr.write(`strata replay: ${r.problem}\n`);
        return 1;
      }
      for (const m of r.messages) {
        const who = m.tenant === undefined ? "(every tenant)" : tenantName(m.tenant);
        const what = [m.type, who, m.target, m.resolution && `to ${resolutionName(m.resolution)}`];
        process.stdout.write(`${dryRun ? "" : "sent "}${what.filter(Boolean).join(" ")}\n`);
      }
      process.stdout.write(
        dryRun
          ? `${r.messages.length} job(s) would be sent (dry run: nothing sent)\n`
          : `${r.messages.length} job(s) sent to ${queueUrl}\n`,
      );
      return 0;
    } catch (e) {
      // Only a failed send is the queue's; the bucket's errors are reported as such.
      if (sqsLine === undefined) throw e;
      process.stderr.write(`strata replay: ${queueUrl}: ${sqsLine}\n`);
      return 1;
    } finally {
      sqs?.client.destroy();
      await store.close?.();
    }
  },
};

/** `--tenant`: the root tenant's name (`__root__`) stands for the root tenant itself (""). */
export function tenantArg(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return tenantFromName(String(v));
}

function blockArg(b: string): string {
  if (!isUlid(b)) throw new UsageError(`--block: expected a block ULID, got ${JSON.stringify(b)}`);
  return b.toUpperCase();
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * `--since`: an RFC 3339 time, epoch milliseconds, or a duration back from now (tsdb's
 * durations: "6h" is now minus 6 hours). Returns epoch milliseconds.
 */
export function parseSince(s: string, now: number = Date.now()): number {
  if (/^\d+$/.test(s)) {
    const ms = Number(s);
    if (Number.isSafeInteger(ms)) return ms;
  } else if (RFC3339.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  } else {
    const d = tryParseDuration(s);
    if (d !== undefined) return now - d;
  }
  throw new UsageError(
    `--since: expected an RFC 3339 time (2026-01-02T15:04:05Z), epoch milliseconds or a duration (6h, 2d, 1h30m), got ${JSON.stringify(s)}`,
  );
}
