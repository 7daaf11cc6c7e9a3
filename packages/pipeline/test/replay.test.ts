// `replayJobs` over a directory bucket: every job kind the worker accepts, each body read back
// by the worker's own parser; selection by block and by block time; dry runs; unknown tenants
// and blocks as values.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@strata/bucket";
import { newUlid, type BlockMeta } from "@strata/tsdb";
import { planId } from "@strata/compact";
import { JOB_TYPES, parseQueueBody, type Job } from "@strata/pipeline";
import { rebuildIndex } from "../src/index-rebuild.ts";
import { replayJobs, type ReplayOptions } from "../src/replay.ts";
import { writeLongBlock } from "@strata/testkit/pipeline";
import { HOUR, writeStoreBlock } from "./store-blocks.ts";

const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let store: FsStore;
let a: BlockMeta[];
let long: BlockMeta;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-replay-"));
  store = new FsStore(dir);
  a = [];
  for (let i = 0; i < 5; i++) a.push(await writeStoreBlock(store, "team-a", T0 + 2 * i * HOUR, i + 1));
  long = await writeLongBlock(store, "team-b", T0 - 72 * HOUR, new Uint8Array(10).fill(9));
  for (const t of ["team-a", "team-b"]) expect((await rebuildIndex(store, t)).quarantined).toEqual([]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Replays, sending into an array; returns the parsed jobs. */
async function replay(opts: Omit<ReplayOptions, "send">): Promise<Job[]> {
  const bodies: string[] = [];
  const r = await replayJobs(store, { ...opts, send: async (b) => void bodies.push(b) });
  if ("problem" in r) throw new Error(r.problem);
  expect(r.messages.map((m) => m.body)).toEqual(bodies);
  return bodies.map((b) => {
    const p = parseQueueBody(b);
    if (p.kind !== "job") throw new Error(`not a job: ${b}`);
    return p.job;
  });
}

describe("replayJobs", () => {
  it("sends every kind the worker accepts, each read back by the worker's parser", async () => {
    const kinds = new Set<string>();
    for (const job of JOB_TYPES) {
      const jobs = await replay({ job });
      for (const j of jobs) kinds.add(j.type);
      expect(jobs.every((j) => j.type === job && j.id?.startsWith("replay-"))).toBe(true);
      if (job === "verify")
        expect(jobs.map((j) => (j.type === "verify" ? `${j.tenant}/${j.block}` : ""))).toEqual([
          ...a.map((m) => `team-a/${m.ulid}`),
          `team-b/${long.ulid}`,
        ]);
      else if (job === "compact") {
        expect(jobs).toHaveLength(1);
        const j = jobs[0]!;
        if (j.type !== "compact") throw new Error("compact");
        // The planner's plan: the first 8h window (the newest block is held back), its id its own.
        expect([...j.plan.inputs].sort()).toEqual(
          a
            .slice(0, 4)
            .map((m) => m.ulid)
            .sort(),
        );
        expect(j.plan.id).toBe(planId(j.plan));
        expect(j.version).toBe(2);
      } else if (job === "downsample")
        expect(jobs).toEqual([expect.objectContaining({ tenant: "team-b", block: long.ulid, resolution: 300_000 })]);
      else if (job === "schedule-page")
        // One message, the first page of the schedule's run over every tenant.
        expect(jobs).toEqual([expect.objectContaining({ type: "schedule-page", page: 0 })]);
      else if (job === "convert")
        // The 48h block (a 2d range, at least the 12h Parquet range); the 2h blocks are below it.
        expect(jobs).toEqual([expect.objectContaining({ tenant: "team-b", block: long.ulid })]);
      else expect(jobs.map((j) => ("tenant" in j ? j.tenant : undefined))).toEqual(["team-a", "team-b"]);
    }
    expect([...kinds].sort()).toEqual([...JOB_TYPES].sort());
  });

  it("selects by block time (maxTime at or after --since), by block and by tenant", async () => {
    const verify = await replay({ job: "verify", tenant: "team-a", since: a[3]!.maxTime });
    expect(verify.map((j) => (j.type === "verify" ? j.block : ""))).toEqual([a[3]!.ulid, a[4]!.ulid]);
    // A compaction goes when any of its inputs ends at or after the time.
    expect(await replay({ job: "compact", since: a[3]!.maxTime })).toHaveLength(1);
    expect(await replay({ job: "compact", since: a[3]!.maxTime + 1 })).toEqual([]);
    expect(await replay({ job: "downsample", since: long.maxTime + 1 })).toEqual([]);
    expect(await replay({ job: "compact", blocks: [a[1]!.ulid] })).toHaveLength(1);
    expect(await replay({ job: "compact", blocks: [a[4]!.ulid] })).toEqual([]);
    const one = await replay({ job: "verify", blocks: [a[2]!.ulid] });
    expect(one).toEqual([expect.objectContaining({ tenant: "team-a", block: a[2]!.ulid })]);
    expect(await replay({ job: "retention", tenant: "team-b" })).toEqual([
      expect.objectContaining({ type: "retention", tenant: "team-b" }),
    ]);
  });

  it("a dry run lists the messages and sends nothing", async () => {
    const r = await replayJobs(store, { job: "index-sync" });
    expect(r).toMatchObject({
      sent: false,
      messages: [{ type: "index-sync", tenant: "team-a" }, { tenant: "team-b" }],
    });
  });

  it("an unknown tenant or block is a problem, and nothing is sent", async () => {
    const bodies: string[] = [];
    const send = async (b: string) => void bodies.push(b);
    expect(await replayJobs(store, { job: "plan", tenant: "nobody", send })).toEqual({
      problem: `unknown tenant "nobody" in ${store.url} (no blocks under it)`,
    });
    expect(await replayJobs(store, { job: "verify", tenant: "", send })).toMatchObject({
      problem: expect.stringContaining('unknown tenant "__root__"'),
    });
    const ghost = newUlid(T0, new Uint8Array(10));
    expect(await replayJobs(store, { job: "verify", blocks: [a[0]!.ulid, ghost], send })).toEqual({
      problem: `block ${ghost}: no meta.json in any tenant of ${store.url}`,
    });
    expect(await replayJobs(store, { job: "downsample", tenant: "team-a", blocks: [ghost], send })).toEqual({
      problem: `block ${ghost}: not in the bucket index of tenant "team-a" of ${store.url}`,
    });
    expect(await replayJobs(store, { job: "schedule-page", tenant: "team-a", send })).toEqual({
      problem: "schedule-page runs the schedule over every tenant: a tenant, block or time does not apply",
    });
    expect(bodies).toEqual([]);
  });
});
