// `strata dlq list|show|redrive`: look at dead letters, with what the pipeline recorded about
// their work, before moving them back to the jobs queue. Looking does not consume: messages
// are received with a short visibility timeout and made visible again at once.
import { tenantName, type ObjectStore } from "@strata/bucket";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { QUEUE_HELP, type Received, type Sqs, openSqs, peek, queueArg, redrive, sqsProblem } from "../sqs.ts";

/** The most messages one look holds (each up to 256 KiB). */
const MAX_LOOK = 1000;

export const dlqCommand: Command = {
  summary: "list, show or redrive dead letters, with the error the pipeline recorded for each",
  usage:
    "dlq list [--bucket URL] [--dlq URL] [--max N] [--json] | dlq show <message-id> [--bucket URL] [--dlq URL] [--json] | dlq redrive [--id ID...] [--dlq URL] [--queue URL] [--max N]",
  options: {
    bucket: { type: "string" },
    dlq: { type: "string" },
    queue: { type: "string" },
    max: { type: "string" },
    id: { type: "string", multiple: true },
    json: { type: "boolean" },
  },
  optionHelp: {
    bucket:
      "the blocks bucket (file:///dir or s3://bucket[/prefix]; default s3://$STRATA_BUCKET), read for each job's recorded error",
    dlq: QUEUE_HELP.dlq,
    queue: `${QUEUE_HELP.queue}: where redrive sends`,
    max: `list: at most N messages (default 100); show, redrive --id: look among at most N (default ${MAX_LOOK}); redrive: move at most N (default all)`,
    id: "redrive: only this message (repeatable); nothing is moved if one is not in the DLQ",
    json: "list, show: JSON instead of text",
  },
  details: async () =>
    [
      "list prints one line per dead letter: message id, receives (SQS's count, leaving out this look; each look",
      "counts as one), first receive (SQS) and last recorded attempt (the bucket: SQS keeps no last-receive time),",
      "job, tenant, block or plan id, and the last error the pipeline recorded: the attempt record beside a",
      "compaction's or downsampling's lease, the no-compact / no-downsample marks of a refused job, a quarantined",
      "block's mark and verify report, or an unreadable body's parse error; \"no error recorded\" otherwise (the",
      "worker's log has it). show prints one message in full. redrive moves messages back to the jobs queue (sent",
      "first, deleted second: a crash duplicates one, never loses it).",
      QUEUE_HELP.env,
      "",
      "Examples:",
      "  strata dlq list --bucket s3://strata-blocks",
      "  strata dlq show 6f0c7b1e-1b9c-4a55-9d2e-0d6f3b0f7c11 --bucket s3://strata-blocks",
      "  strata dlq redrive --id 6f0c7b1e-1b9c-4a55-9d2e-0d6f3b0f7c11",
      "  strata dlq redrive",
    ].join("\n"),
  run: async ([action, ...rest], values) => {
    if (action !== "list" && action !== "show" && action !== "redrive")
      throw new UsageError(`expected "list", "show" or "redrive", got ${JSON.stringify(action ?? "")}`);
    const id = action === "show" ? rest.shift() : undefined;
    if (action === "show" && !id) throw new UsageError("show needs a message id (strata dlq list prints them)");
    if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    if (values.id !== undefined && action !== "redrive") throw new UsageError("--id is for redrive");
    const max = maxArg(values.max);
    const dlq = queueArg(values, "dlq");
    if (action === "redrive") {
      const queue = queueArg(values, "queue");
      const ids = values.id as string[] | undefined;
      return ids ? redriveIds(dlq, queue, ids, max ?? MAX_LOOK) : redriveAll("dlq", dlq, queue, max);
    }
    const bucket = (values.bucket as string | undefined) ?? envBucket();
    const store = bucket === undefined ? undefined : await openBucketArg(bucket);
    try {
      // A wrong bucket would read as "no error recorded" for every job: it must hold something.
      const page = await store?.list("", { delimiter: "/", maxKeys: 1 });
      if (page && page.objects.length === 0 && page.prefixes.length === 0) {
        process.stderr.write(`strata dlq: ${store?.url}: no objects (is --bucket the blocks bucket?)\n`);
        return 1;
      }
      return await look(dlq, store, action, id, max, values.json === true);
    } finally {
      await store?.close?.();
    }
  },
};

async function look(
  dlq: string,
  store: ObjectStore | undefined,
  action: "list" | "show",
  id: string | undefined,
  max: number | undefined,
  json: boolean,
): Promise<number> {
  const limit = action === "list" ? (max ?? 100) : (max ?? MAX_LOOK);
  const msgs = await withSqs("dlq", dlq, (sqs) => peek(sqs, dlq, limit));
  if (msgs === undefined) return 1;
  // The queue is as it was: what follows reads the bucket only.
  const wanted = id === undefined ? msgs : msgs.filter((m) => m.MessageId === id);
  if (id !== undefined && wanted.length === 0) {
    process.stderr.write(`strata dlq: message ${JSON.stringify(id)} is not in ${dlq} (looked at ${msgs.length})\n`);
    return 1;
  }
  const letters = await describe(wanted, store, action === "show");
  if (json) process.stdout.write(`${JSON.stringify(id === undefined ? letters : letters[0], null, 2)}\n`);
  else if (action === "show") process.stdout.write(showText(letters[0]!));
  else {
    for (const l of letters) process.stdout.write(`${listLine(l)}\n`);
    process.stdout.write(
      `${letters.length} dead letter(s) in ${dlq}${letters.length === limit ? ` (at most ${limit} shown: --max)` : ""}\n`,
    );
  }
  return 0;
}

/** Every dead letter back to the jobs queue (also `strata replay --from-dlq`). */
export async function redriveAll(cmd: string, dlq: string, queue: string, max?: number): Promise<number> {
  const r = await withSqs(cmd, dlq, (sqs) => redrive(sqs, dlq, queue, { max }));
  if (r === undefined) return 1;
  if (!("moved" in r)) throw new Error("redrive without ids reported missing ids");
  process.stdout.write(`redrove ${r.moved.length} message(s) from ${dlq} to ${queue}\n`);
  return 0;
}

async function redriveIds(dlq: string, queue: string, ids: string[], max: number): Promise<number> {
  const r = await withSqs("dlq", dlq, (sqs) => redrive(sqs, dlq, queue, { ids, max }));
  if (r === undefined) return 1;
  if ("missing" in r) {
    const which = r.missing.map((m) => JSON.stringify(m)).join(", ");
    process.stderr.write(`strata dlq: message ${which} not in ${dlq} (looked at ${r.looked}); nothing moved\n`);
    return 1;
  }
  for (const m of r.moved) process.stdout.write(`redrove ${m}\n`);
  process.stdout.write(`redrove ${r.moved.length} message(s) from ${dlq} to ${queue}\n`);
  return 0;
}

/**
 * Runs `fn` with a client. An SQS failure a person can act on is printed as one line and
 * gives undefined (exit 1); anything else is a bug and is thrown.
 */
async function withSqs<T>(cmd: string, url: string, fn: (sqs: Sqs) => Promise<T>): Promise<T | undefined> {
  const sqs = await openSqs(url);
  try {
    return await fn(sqs);
  } catch (e) {
    const line = sqsProblem(e);
    if (line === undefined) throw e;
    process.stderr.write(`strata ${cmd}: ${url}: ${line}\n`);
    return undefined;
  } finally {
    sqs.client.destroy();
  }
}

function maxArg(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > MAX_LOOK)
    throw new UsageError(`--max: expected a whole number from 1 to ${MAX_LOOK}, got ${JSON.stringify(s)}`);
  return n;
}

/** STRATA_BUCKET is the bucket's name, as the deployed functions have it. */
function envBucket(): string | undefined {
  const b = process.env.STRATA_BUCKET;
  return b ? (b.includes("://") ? b : `s3://${b}`) : undefined;
}

interface Letter {
  id: string;
  /** Receives before this look. */
  receives: number;
  sent?: string;
  firstReceive?: string;
  /** The newest time the bucket's records give (the last attempt, a refusal). */
  lastRecorded?: string;
  kind: string;
  jobs: { type: string; tenant?: string; target?: string }[];
  /** The most telling recorded error, "no error recorded", or why none was looked up. */
  error: string;
  recorded: { what: string; key?: string; text: string; details?: string[]; time?: string }[];
  body: unknown;
  attributes: Record<string, string>;
  messageAttributes: Record<string, string>;
}

async function describe(
  msgs: readonly Received[],
  store: ObjectStore | undefined,
  reports: boolean,
): Promise<Letter[]> {
  const { describeDeadLetter, recordedErrors } = await import("@strata/pipeline/operations");
  const out: Letter[] = [];
  for (const m of msgs) {
    const body = m.Body ?? "";
    const letter = describeDeadLetter(body);
    const recorded = await recordedErrors(letter, store, { reports });
    const lookedUp = store !== undefined || letter.problem !== undefined;
    const a = m.Attributes ?? {};
    const times = recorded.flatMap((r) => (r.time === undefined ? [] : [r.time]));
    out.push({
      id: m.MessageId,
      receives: Math.max(0, Number(a.ApproximateReceiveCount ?? 1) - 1),
      sent: iso(a.SentTimestamp),
      firstReceive: iso(a.ApproximateFirstReceiveTimestamp),
      lastRecorded: times.length ? new Date(Math.max(...times)).toISOString() : undefined,
      kind: letter.kind,
      jobs: letter.items.map((i) => ({ type: i.type, tenant: i.tenant, target: i.target })),
      error: lookedUp
        ? (recorded[0]?.text ?? "no error recorded")
        : "errors not looked up (no --bucket or STRATA_BUCKET)",
      recorded: recorded.map((r) => ({
        ...r,
        time: r.time === undefined ? undefined : new Date(r.time).toISOString(),
      })),
      body: parseOrText(body),
      attributes: Object.fromEntries(Object.entries(a).filter((e): e is [string, string] => e[1] !== undefined)),
      messageAttributes: Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? `(${v.DataType})`]),
      ),
    });
  }
  return out;
}

function listLine(l: Letter): string {
  const first = l.jobs[0];
  const job = first
    ? [first.type, first.tenant === undefined ? "(every tenant)" : tenantName(first.tenant), first.target]
        .filter(Boolean)
        .join(" ") + (l.jobs.length > 1 ? ` (+${l.jobs.length - 1} more)` : "")
    : l.kind;
  return [
    l.id,
    `${l.receives} receive(s)`,
    `first ${l.firstReceive ?? "-"}`,
    `last ${l.lastRecorded ?? "-"}`,
    l.kind === "s3-event" ? `s3-event: ${job}` : job,
    `error: ${l.error}`,
  ].join("  ");
}

function showText(l: Letter): string {
  const lines = [`message ${l.id}`, `  kind: ${l.kind}`];
  for (const j of l.jobs)
    lines.push(
      `  job: ${[j.type, j.tenant === undefined ? "(every tenant)" : tenantName(j.tenant), j.target].filter(Boolean).join(" ")}`,
    );
  lines.push(`  receives before this look: ${l.receives}`);
  for (const [k, v] of Object.entries(l.attributes).sort()) lines.push(`  ${k}: ${v}${timeNote(k, v)}`);
  for (const [k, v] of Object.entries(l.messageAttributes).sort()) lines.push(`  attribute ${k}: ${v}`);
  lines.push(
    "body:",
    ...JSON.stringify(l.body, null, 2)
      .split("\n")
      .map((s) => `  ${s}`),
  );
  lines.push("recorded:");
  if (l.recorded.length === 0) lines.push(`  ${l.error}`);
  for (const r of l.recorded) {
    lines.push(`  ${r.what}${r.key ? ` (${r.key})` : ""}${r.time ? ` at ${r.time}` : ""}: ${r.text}`);
    for (const d of r.details ?? []) lines.push(`    ${d}`);
  }
  return `${lines.join("\n")}\n`;
}

function timeNote(k: string, v: string): string {
  return k.endsWith("Timestamp") && /^\d+$/.test(v) ? ` (${iso(v)})` : "";
}

function iso(ms: string | undefined): string | undefined {
  const n = Number(ms);
  return ms !== undefined && Number.isFinite(n) && n > 0 ? new Date(n).toISOString() : undefined;
}

function parseOrText(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
