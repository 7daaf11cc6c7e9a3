/**
 * Many jobs onto the queue at once: batches of at most 10 entries (SQS SendMessageBatch) and
 * 256 KiB, a few batches in flight, each failed entry sent again, and whatever still fails
 * reported (`QueueSendError`), never dropped. A queue without `sendBatch` gets the same rules
 * one `send` per entry.
 *
 * Entries are retried unless SQS says the sender is at fault (too large, invalid: the same
 * body fails the same way); a batch call that fails whole counts as every entry failing
 * transiently (the SDK has already retried it). The caller's own retry (the SQS redelivery of
 * the message that sent them) then repeats them all: every job sent so is idempotent.
 */
import { PipelineError } from "./errors.ts";
import { jobTenant, type Job } from "./messages.ts";
import type { BatchEntry, BatchEntryFailure, JobQueue, SendOptions } from "./ports.ts";

/** SQS's limits on one SendMessageBatch call. */
export const SEND_BATCH_MAX_ENTRIES = 10;
export const SEND_BATCH_MAX_BYTES = 256 * 1024;

export interface SendJobsOptions extends SendOptions {
  /** Batch calls in flight (default 8). */
  concurrency?: number;
  /** Sends of a failed entry, the first included (default 3). */
  attempts?: number;
  /** Wait before the first resend, doubled for each next one (default 200 ms). */
  backoffMs?: number;
}

export interface SendJobsResult {
  sent: number;
  /** Batch calls made (for a queue without `sendBatch`: groups of up to 10 `send`s). */
  calls: number;
  /** Entries sent more than once because an earlier send failed. */
  retried: number;
}

/** One job that was not sent, and why (the last attempt's error). */
export interface UnsentJob {
  job: Job;
  code: string;
  message: string;
  senderFault: boolean;
}

/** Some jobs could not be sent after every attempt; the others were. */
export class QueueSendError extends PipelineError {
  override readonly name = "QueueSendError";
  readonly unsent: readonly UnsentJob[];
  readonly sent: number;
  constructor(unsent: readonly UnsentJob[], sent: number, options?: ErrorOptions) {
    const shown = unsent
      .slice(0, 3)
      .map((u) => `${describe(u.job)}: ${u.code}${u.senderFault ? " (sender fault)" : ""}: ${u.message.slice(0, 200)}`);
    const more = unsent.length > shown.length ? `; and ${unsent.length - shown.length} more` : "";
    super(
      `${unsent.length} of ${unsent.length + sent} job(s) not sent to the queue: ${shown.join("; ")}${more}`,
      options,
    );
    this.unsent = unsent;
    this.sent = sent;
  }
}

/** Sends every job; throws `QueueSendError` naming those it could not send after `attempts`. */
export async function sendJobs(
  queue: JobQueue,
  jobs: readonly Job[],
  opts: SendJobsOptions = {},
): Promise<SendJobsResult> {
  const { concurrency = 8, attempts = 3, backoffMs = 200, delaySeconds } = opts;
  const sendOpts = delaySeconds === undefined ? undefined : { delaySeconds };
  const sendBatch = queue.sendBatch ? queue.sendBatch.bind(queue) : oneByOne(queue);
  const result: SendJobsResult = { sent: 0, calls: 0, retried: 0 };
  // Entries by their index in `jobs` (a job may be there twice).
  let pending = jobs.map((_, i) => i);
  const unsent = new Map<number, BatchEntryFailure>();
  for (let attempt = 1; pending.length > 0 && attempt <= attempts; attempt++) {
    if (attempt > 1) {
      result.retried += pending.length;
      await sleep(backoffMs * 2 ** (attempt - 2));
    }
    const again: number[] = [];
    const batches = batchesOf(jobs, pending);
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        result.calls++;
        let fails: BatchEntryFailure[];
        try {
          fails = await sendBatch(batch.map((i) => ({ job: jobs[i]!, opts: sendOpts })));
        } catch (e) {
          const code = e instanceof Error ? e.name : "Error";
          const message = e instanceof Error ? e.message : String(e);
          fails = batch.map((_, index) => ({ index, code, message, senderFault: false }));
        }
        const byIndex = new Map(fails.map((f) => [f.index, f]));
        batch.forEach((i, at) => {
          const f = byIndex.get(at);
          if (f === undefined) {
            unsent.delete(i);
            result.sent++;
            return;
          }
          unsent.set(i, f);
          if (!f.senderFault) again.push(i);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
    pending = again.sort((a, b) => a - b);
  }
  if (unsent.size > 0)
    throw new QueueSendError(
      [...unsent]
        .sort(([a], [b]) => a - b)
        .map(([i, f]) => ({ job: jobs[i]!, code: f.code, message: f.message, senderFault: f.senderFault })),
      result.sent,
    );
  return result;
}

/**
 * The entries (indices into `jobs`) in consecutive batches within SQS's entry and byte limits;
 * a job larger than the byte limit goes alone (SQS refuses it, as a sender fault).
 */
function batchesOf(jobs: readonly Job[], entries: readonly number[]): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  for (const i of entries) {
    const size = Buffer.byteLength(JSON.stringify(jobs[i]));
    if (cur.length > 0 && (cur.length === SEND_BATCH_MAX_ENTRIES || bytes + size > SEND_BATCH_MAX_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** `sendBatch` over `send`, for a queue that has no batch call. */
function oneByOne(queue: JobQueue): (entries: readonly BatchEntry[]) => Promise<BatchEntryFailure[]> {
  return async (entries) => {
    const out: BatchEntryFailure[] = [];
    for (const [index, e] of entries.entries()) {
      try {
        await queue.send(e.job, e.opts);
      } catch (err) {
        out.push({
          index,
          code: err instanceof Error ? err.name : "Error",
          message: err instanceof Error ? err.message : String(err),
          senderFault: false,
        });
      }
    }
    return out;
  };
}

function describe(job: Job): string {
  const t = jobTenant(job);
  return t === undefined ? job.type : `${job.type} ${JSON.stringify(t)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
