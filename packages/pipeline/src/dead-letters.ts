/**
 * What `strata dlq` shows beside a dead letter: what the message stands for (job, tenant,
 * block or plan) and what the pipeline recorded in the bucket about that work. The worker
 * logs each failure, but the message carries none of it; the bucket keeps:
 *
 *  - the attempt record beside a compaction's or downsampling's lease
 *    (`<tenant>/leases/<name>.attempts.json`: attempts started, each one's error);
 *  - once `STRATA_JOB_MAX_ATTEMPTS` were used up, or an output failed verification, the
 *    no-compact marks on a plan's inputs (no-downsample mark on a downsampling's source) with
 *    their reason and details, and `strata-plan-report.json` beside them;
 *  - a quarantined block's mark and `strata-verify-report.json`.
 *
 * An invalid body fails the same way on every delivery, so its error is the parser's, made
 * again here. Everything read from the bucket is bounded (`MAX_RECORD_BYTES`) and parsed.
 */
import { NO_COMPACT_MARK_FILE, NO_DOWNSAMPLE_MARK_FILE, parseMarker } from "@strata/tsdb";
import type { ObjectStore } from "@strata/bucket";
import { pipelineLayout } from "./bindings/index.ts";
import { StoreLeases } from "./bindings/leases.ts";
import { compactLeaseName, downsampleLeaseName } from "./blocks.ts";
import { QUARANTINE_REASON, VERIFY_REPORT_FILE } from "./jobs/verify.ts";
import { PLAN_REPORT_FILE } from "./jobs/admit.ts";
import { MessageError, jobTenant, parseQueueBody, type Job, type JobType } from "./messages.ts";

/** The most of one record, mark or report read from the bucket (a larger one is cut). */
export const MAX_RECORD_BYTES = 64 * 1024;

/** One piece of work a dead letter stands for. */
export interface DeadLetterItem {
  /** A job type; an S3 upload event's records are verify jobs. */
  type: JobType;
  /** Undefined for a job that fans out over every tenant (schedule-page; retention or cleanup without one). */
  tenant?: string;
  /** The block (verify, downsample), the plan id (compact) or `page N` (schedule-page). */
  target?: string;
  job: Job;
}

export interface DeadLetter {
  /** `s3-event`: an upload notification (one verify per record); `invalid`: a body the worker cannot read. */
  kind: "job" | "s3-event" | "s3-test-event" | "invalid";
  items: DeadLetterItem[];
  /** Why the body cannot be processed (the worker's `MessageError`, made again). */
  problem?: string;
}

/** Reads a dead letter's body as the worker does. */
export function describeDeadLetter(body: string): DeadLetter {
  let parsed: ReturnType<typeof parseQueueBody>;
  try {
    parsed = parseQueueBody(body);
  } catch (e) {
    if (e instanceof MessageError) return { kind: "invalid", items: [], problem: e.message };
    throw e;
  }
  if (parsed.kind === "test-event") return { kind: "s3-test-event", items: [] };
  if (parsed.kind === "s3")
    return {
      kind: "s3-event",
      items: parsed.records.map((r) => ({
        type: "verify",
        tenant: r.tenant,
        target: r.block,
        job: { version: 1, type: "verify", tenant: r.tenant, block: r.block },
      })),
    };
  const job = parsed.job;
  const target =
    job.type === "compact"
      ? job.plan.id
      : job.type === "schedule-page"
        ? `page ${job.page ?? 0}`
        : "block" in job
          ? job.block
          : undefined;
  return { kind: "job", items: [{ type: job.type, tenant: jobTenant(job), target, job }] };
}

/** Something the pipeline recorded about a dead letter's work. */
export interface RecordedError {
  what: "invalid-message" | "attempts" | "no-compact-mark" | "no-downsample-mark" | "quarantine" | "report";
  /** The object it was read from (absent for an invalid message). */
  key?: string;
  /** One line. */
  text: string;
  /** More lines: every attempt's error, a report's text (show only). */
  details?: string[];
  /** When it was recorded (ms since the epoch), where the record says. */
  time?: number;
}

/**
 * What is recorded for a dead letter, most telling first: the parser's error for an invalid
 * body; else the attempt record, then the marks (their details carry every attempt's error
 * once the job was refused), with the reports when `reports` is set. Empty: nothing recorded.
 * Without a store only the parser's error can be known.
 */
export async function recordedErrors(
  letter: DeadLetter,
  store: ObjectStore | undefined,
  opts: { reports?: boolean } = {},
): Promise<RecordedError[]> {
  if (letter.problem !== undefined) return [{ what: "invalid-message", text: letter.problem }];
  if (!store) return [];
  const out: RecordedError[] = [];
  const reader = new RecordReader(store);
  for (const { job } of letter.items) {
    if (job.type === "verify") {
      const mark = await reader.marker(job.tenant, job.block, NO_COMPACT_MARK_FILE);
      if (mark?.reason === QUARANTINE_REASON) {
        out.push({ ...mark.at, what: "quarantine", text: `${job.block} quarantined: ${mark.details}` });
        if (opts.reports) out.push(...(await reader.report(job.tenant, job.block, VERIFY_REPORT_FILE)));
      } else if (mark) out.push({ ...mark.at, what: "no-compact-mark", text: `${job.block}: ${mark.text}` });
    } else if (job.type === "compact") {
      const { tenant, inputs, id } = job.plan;
      out.push(...(await reader.attempts(tenant, compactLeaseName(id))));
      // The same refusal is written on every input: one line per distinct mark.
      const marks = new Map<string, { blocks: string[]; mark: MarkRead }>();
      for (const block of inputs) {
        const mark = await reader.marker(tenant, block, NO_COMPACT_MARK_FILE);
        if (!mark) continue;
        const seen = marks.get(mark.text);
        if (seen) seen.blocks.push(block);
        else marks.set(mark.text, { blocks: [block], mark });
      }
      for (const { blocks, mark } of marks.values())
        out.push({ ...mark.at, what: "no-compact-mark", text: `${blocks.join(",")}: ${mark.text}` });
      if (opts.reports && marks.size > 0) {
        const seen = new Set<string>();
        for (const block of inputs)
          for (const r of await reader.report(tenant, block, PLAN_REPORT_FILE)) {
            const body = r.details?.join("\n") ?? "";
            if (!seen.has(body)) seen.add(body), out.push(r);
          }
      }
    } else if (job.type === "downsample") {
      out.push(...(await reader.attempts(job.tenant, downsampleLeaseName(job.block, job.resolution))));
      const mark = await reader.marker(job.tenant, job.block, NO_DOWNSAMPLE_MARK_FILE);
      if (mark) {
        out.push({ ...mark.at, what: "no-downsample-mark", text: `${job.block}: ${mark.text}` });
        if (opts.reports) out.push(...(await reader.report(job.tenant, job.block, PLAN_REPORT_FILE)));
      }
    }
    // plan, retention, cleanup, index-sync: nothing of theirs is recorded in the bucket.
  }
  return out;
}

interface MarkRead {
  reason: string;
  details: string;
  /** `[reason] details` */
  text: string;
  at: { key: string; time: number };
}

/** Bounded, parsed reads of the pipeline's records; an unreadable one is reported as such, never thrown. */
class RecordReader {
  private readonly layout = pipelineLayout();
  private readonly store: ObjectStore;
  private readonly leases: StoreLeases;
  constructor(store: ObjectStore) {
    this.store = store;
    this.leases = new StoreLeases(store, this.layout);
  }

  async attempts(tenant: string, lease: string): Promise<RecordedError[]> {
    const key = this.layout.leaseKey(tenant, `${lease}.attempts`);
    const head = await this.store.head(key, { etag: false });
    if (!head) return [];
    if (head.size > MAX_RECORD_BYTES)
      return [{ what: "attempts", key, text: `attempt record of ${head.size} bytes, larger than a record can be` }];
    const r = await this.leases.readAttempts(tenant, lease);
    if (!r) return [];
    const last = r.errors.find((e) => e.startsWith(`attempt ${r.attempts}: `));
    return [
      {
        what: "attempts",
        key,
        text: `${r.attempts} attempt(s) started; last: ${last ?? `attempt ${r.attempts}: no error recorded (killed or out of time, or still running)`}`,
        details: r.errors,
        time: r.last_time > 0 ? r.last_time * 1000 : undefined,
      },
    ];
  }

  async marker(
    tenant: string,
    block: string,
    file: typeof NO_COMPACT_MARK_FILE | typeof NO_DOWNSAMPLE_MARK_FILE,
  ): Promise<MarkRead | undefined> {
    const key = this.layout.blockFile(tenant, block, file);
    const r = await this.read(key);
    if (!r) return undefined;
    try {
      if (r.truncated) throw new Error(`larger than ${MAX_RECORD_BYTES} bytes`);
      const m = parseMarker(file, r.body);
      const reason = m.reason;
      const details = m.details ?? "";
      const time = ("no_compact_time" in m ? m.no_compact_time : m.no_downsample_time) * 1000;
      return { reason, details, text: `[${reason}] ${details}`, at: { key, time } };
    } catch (e) {
      const why = `unreadable ${file}: ${e instanceof Error ? e.message : String(e)}`;
      return { reason: "", details: why, text: why, at: { key, time: r.lastModified } };
    }
  }

  async report(tenant: string, block: string, file: string): Promise<RecordedError[]> {
    const key = this.layout.blockFile(tenant, block, file);
    const r = await this.read(key);
    if (!r) return [];
    const text = new TextDecoder().decode(r.body);
    const lines = text.replace(/\n$/, "").split("\n");
    if (r.truncated) lines.push(`… (cut at ${MAX_RECORD_BYTES} bytes)`);
    return [{ what: "report", key, text: `${file} of ${block}`, details: lines, time: r.lastModified }];
  }

  private async read(key: string): Promise<{ body: Uint8Array; truncated: boolean; lastModified: number } | undefined> {
    const head = await this.store.head(key, { etag: false });
    if (!head) return undefined;
    const length = Math.min(head.size, MAX_RECORD_BYTES);
    let r: Awaited<ReturnType<ObjectStore["get"]>>;
    try {
      r = length === 0 ? await this.store.get(key) : await this.store.get(key, { offset: 0, length });
    } catch (e) {
      // Shrunk or deleted since the head: read it as gone (a job rewrote it).
      if (e instanceof RangeError) return undefined;
      throw e;
    }
    if (!r) return undefined;
    return { body: r.body.subarray(0, length), truncated: head.size > length, lastModified: r.lastModified.getTime() };
  }
}
