// The hourly schedule's fan-out: the scheduled run sends one schedule-page job; each page sends
// its tenants' retention, cleanup and index-sync in batches, then the next page; failed sends
// are retried, then reported (the page fails and is redelivered), never dropped; the root
// tenant is visited once even when its block folders span pages.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@strata/bucket";
import { newUlid } from "@strata/tsdb";
import {
  JOB_MESSAGE_VERSION,
  QueueSendError,
  SCHEDULED_TENANT_JOBS,
  StoreStorage,
  encodeJob,
  handleRecord,
  jobTenant,
  parseQueueBody,
  pipelineLayout,
  runSchedule,
  sendJobs,
  type Job,
  type JobQueue,
} from "@strata/pipeline";
import { harness, twoHourBlock, type Harness } from "@strata/testkit/pipeline";
import { describeDeadLetter } from "../src/dead-letters.ts";

/** Runs schedule-page jobs off the recording queue until none is left; returns the other jobs sent. */
async function drainPages(h: Harness): Promise<{ pages: Job[]; jobs: Job[] }> {
  const pages: Job[] = [];
  const jobs: Job[] = [];
  for (;;) {
    const sent = h.queue.sent.splice(0);
    h.queue.drain();
    const next = sent.filter((j) => j.type === "schedule-page");
    jobs.push(...sent.filter((j) => j.type !== "schedule-page"));
    if (next.length === 0) return { pages, jobs };
    for (const p of next) {
      pages.push(p);
      await handleRecord(encodeJob(p), h.deps, { messageId: `page-${pages.length}` });
    }
  }
}

/** tenant → the job types it got, in order. */
function byTenant(jobs: readonly Job[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const j of jobs) {
    const t = jobTenant(j) ?? "?";
    m.set(t, [...(m.get(t) ?? []), j.type]);
  }
  return m;
}

describe("runSchedule", () => {
  it("sends one schedule-page job whatever the tenant count: the scheduled function's whole work", async () => {
    const h = harness();
    for (let i = 0; i < 50; i++) h.bucket.upload(`t${i}`, twoHourBlock(0));
    const out = await runSchedule(h.deps);
    expect(out).toEqual({ enqueued: 1, run: `schedule-${new Date(h.clock.now()).toISOString()}` });
    expect(h.queue.sent).toEqual([{ version: 1, id: out.run, type: "schedule-page", page: 0 }]);
    expect(h.queue.batches).toEqual([]);
  });
});

describe("schedule-page", () => {
  it("visits every tenant once, three jobs each, in batches of 10, a page at a time", async () => {
    const h = harness();
    h.bucket.tenantPageSize = 7;
    const tenants = ["", ...Array.from({ length: 30 }, (_, i) => `team-${String(i).padStart(2, "0")}`)];
    for (const t of tenants) h.bucket.upload(t, twoHourBlock(0));
    await runSchedule(h.deps);
    const { pages, jobs } = await drainPages(h);
    // ⌈31 / 7⌉ pages, numbered, the run's id carried along.
    expect(pages.map((p) => (p.type === "schedule-page" ? p.page : -1))).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(pages.map((p) => p.id)).size).toBe(1);
    const got = byTenant(jobs);
    expect([...got.keys()].sort()).toEqual([...tenants].sort());
    // A standard queue keeps no order, and batches go out concurrently: each tenant's three, in any order.
    for (const t of tenants) expect(got.get(t)?.sort()).toEqual([...SCHEDULED_TENANT_JOBS].sort());
    // 21 jobs a full page: batches of 10, 10 and 1; the last page (3 tenants) 9 jobs.
    expect(h.queue.batches).toEqual([10, 10, 1, 10, 10, 1, 10, 10, 1, 10, 10, 1, 9]);
    const logged = h.lines.filter((l) => l.event === "schedule-page-enqueued");
    expect(logged.map((l) => [l.page, l.tenants, l.enqueued, l.last])).toEqual([
      [0, 7, 21, false],
      [1, 7, 21, false],
      [2, 7, 21, false],
      [3, 7, 21, false],
      [4, 3, 9, true],
    ]);
  });

  it("a page whose sends fail fails before sending the next page; its redelivery converges", async () => {
    const h = harness();
    h.bucket.tenantPageSize = 4;
    for (let i = 0; i < 6; i++) h.bucket.upload(`t${i}`, twoHourBlock(0));
    h.queue.failEntry = (j) =>
      jobTenant(j) === "t2" && j.type === "cleanup"
        ? { code: "InternalError", message: "boom", senderFault: false }
        : undefined;
    const body = encodeJob({ version: JOB_MESSAGE_VERSION, type: "schedule-page", page: 0 });
    const err = await handleRecord(body, h.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueSendError);
    expect((err as QueueSendError).message).toMatch(
      /^1 of 12 job\(s\) not sent to the queue: cleanup "t2": InternalError: boom/,
    );
    // Everything else of the page was sent; the next page was not.
    expect(h.queue.sent.map((j) => j.type)).not.toContain("schedule-page");
    expect(h.queue.sent).toHaveLength(11);
    expect(h.lines.find((l) => l.event === "job-failed")).toMatchObject({ job: "schedule-page" });
    // SQS redelivers the page once the queue takes the entry again: the page's jobs again
    // (idempotent), then the next page, and the run completes.
    h.queue.failEntry = undefined;
    h.queue.drain();
    await handleRecord(body, h.deps);
    const { jobs } = await drainPages(h);
    const got = byTenant(jobs);
    expect([...got.keys()].sort()).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
    for (const types of got.values()) expect(types.sort()).toEqual([...SCHEDULED_TENANT_JOBS].sort());
  });

  it("a listing that fails fails the page (SQS redelivers it), sending nothing", async () => {
    const h = harness();
    h.bucket.upload("t", twoHourBlock(0));
    h.bucket.faults.set("listTenantPage", 1);
    const body = encodeJob({ version: JOB_MESSAGE_VERSION, type: "schedule-page" });
    await expect(handleRecord(body, h.deps)).rejects.toThrow(/injected fault in listTenantPage/);
    expect(h.queue.sent).toEqual([]);
    await handleRecord(body, h.deps);
    expect(h.queue.sent.map((j) => j.type)).toEqual([...SCHEDULED_TENANT_JOBS]);
  });

  it("runs for a bucket with no tenant: nothing to send, no next page", async () => {
    const h = harness();
    await handleRecord(encodeJob({ version: JOB_MESSAGE_VERSION, type: "schedule-page" }), h.deps);
    expect(h.queue.sent).toEqual([]);
    expect(h.lines.find((l) => l.event === "job-done")).toMatchObject({ job: "schedule-page", enqueued: 0 });
  });
});

describe("sendJobs", () => {
  const jobs = (n: number): Job[] =>
    Array.from({ length: n }, (_, i) => ({ version: JOB_MESSAGE_VERSION, type: "retention", tenant: `t${i}` }));

  it("retries a failed entry and a failed call, then has sent everything once", async () => {
    const h = harness();
    const failedOnce = new Set<string>();
    h.queue.failEntry = (j) => {
      const t = jobTenant(j)!;
      if (!["t3", "t17"].includes(t) || failedOnce.has(t)) return undefined;
      failedOnce.add(t);
      return { code: "ServiceUnavailable", message: "try again", senderFault: false };
    };
    h.queue.failCalls = 1;
    const r = await sendJobs(h.queue, jobs(25), { backoffMs: 1 });
    // 3 batches: the first call fails whole and t17's entry fails; then those 11 in 2 batches,
    // where t3's entry fails (its first real try); then t3 alone.
    expect(r).toEqual({ sent: 25, calls: 3 + 2 + 1, retried: 11 + 1 });
    expect(h.queue.sent.map((j) => jobTenant(j)).sort()).toEqual(
      jobs(25)
        .map((j) => jobTenant(j))
        .sort(),
    );
  });

  it("reports what still fails after every attempt, and a sender fault without retrying it", async () => {
    const h = harness();
    const calls = new Map<string, number>();
    h.queue.failEntry = (j) => {
      const t = jobTenant(j)!;
      calls.set(t, (calls.get(t) ?? 0) + 1);
      if (t === "t1") return { code: "InternalError", message: "down", senderFault: false };
      if (t === "t4") return { code: "InvalidParameterValue", message: "too long", senderFault: true };
      return undefined;
    };
    const err = await sendJobs(h.queue, jobs(12), { backoffMs: 1, attempts: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueSendError);
    const e = err as QueueSendError;
    expect(e.sent).toBe(10);
    expect(e.unsent.map((u) => [jobTenant(u.job), u.code, u.senderFault])).toEqual([
      ["t1", "InternalError", false],
      ["t4", "InvalidParameterValue", true],
    ]);
    expect(e.message).toContain('2 of 12 job(s) not sent to the queue: retention "t1": InternalError: down');
    expect([calls.get("t1"), calls.get("t4"), calls.get("t0")]).toEqual([3, 1, 1]);
    expect(h.queue.sent).toHaveLength(10);
  });

  it("keeps batches within SQS's 10 entries and 256 KiB; one job per call on a queue without sendBatch", async () => {
    const h = harness();
    const big: Job = { version: JOB_MESSAGE_VERSION, type: "plan", tenant: "t", groupKey: "g".repeat(100_000) };
    await sendJobs(h.queue, [big, big, big, ...jobs(11)]);
    // Two 100 kB jobs fit in 256 KiB, the third starts a batch.
    expect(h.queue.batches).toEqual([2, 10, 2]);
    const sent: Job[] = [];
    let fail = 2;
    const plain: JobQueue = {
      async send(job) {
        if (fail-- > 0) throw new Error("socket hang up");
        sent.push(job);
      },
    };
    expect(await sendJobs(plain, jobs(12), { backoffMs: 1 })).toEqual({ sent: 12, calls: 3, retried: 2 });
    expect(sent).toHaveLength(12);
  });
});

describe("the schedule-page message", () => {
  it("is validated like every job, covers every tenant, and the DLQ tooling names its page", () => {
    const body = encodeJob({
      version: JOB_MESSAGE_VERSION,
      type: "schedule-page",
      token: "t-0999/",
      page: 3,
      rootSeen: true,
    });
    const p = parseQueueBody(body);
    expect(p.kind === "job" && jobTenant(p.job)).toBe(undefined);
    expect(describeDeadLetter(body)).toMatchObject({
      kind: "job",
      items: [{ type: "schedule-page", tenant: undefined, target: "page 3" }],
    });
    const bad = (extra: Record<string, unknown>) => () =>
      parseQueueBody(JSON.stringify({ version: 1, type: "schedule-page", ...extra }));
    expect(bad({ tenant: "t" })).toThrow(/invalid schedule-page job: .*tenant/);
    expect(bad({ token: "" })).toThrow(/token/);
    expect(bad({ token: "x".repeat(5000) })).toThrow(/token/);
    expect(bad({ page: -1 })).toThrow(/page/);
    expect(bad({ rootSeen: false })).toThrow(/rootSeen/);
  });
});

describe("StoreStorage.listTenantPage over a directory bucket", () => {
  let dir: string;
  let store: FsStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-schedule-"));
    store = new FsStore(dir);
    // Root-tenant blocks (ULID folders) that span several pages, and tenants among them.
    for (let i = 0; i < 5; i++)
      await store.put(`${newUlid(Date.UTC(2026, 0, 1 + i), new Uint8Array(10))}/meta.json`, "{}");
    for (const t of ["0-team", "9-team", "team-a", "team-b", "team-c"])
      await store.put(`${t}/bucket-index.json.gz`, "x");
    await store.put("markers/x", "x");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("pages through exactly listTenants' tenants, the root tenant once", async () => {
    const layout = pipelineLayout();
    const storage = new StoreStorage(store, layout, { tenantPageSize: 2 });
    const all = await storage.listTenants();
    expect(all).toEqual(["", "0-team", "9-team", "team-a", "team-b", "team-c"]);
    const seen: string[] = [];
    let token: string | undefined;
    let rootSeen = false;
    let pages = 0;
    do {
      const page = await storage.listTenantPage(token, { rootSeen });
      seen.push(...page.tenants);
      rootSeen ||= page.tenants.includes("");
      token = page.next;
      pages++;
    } while (token !== undefined);
    expect(seen.sort()).toEqual([...all].sort());
    expect(pages).toBe(6); // 11 top-level folders, 2 a page
  });
});
