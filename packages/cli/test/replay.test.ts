// `strata replay` against the emulator's SQS, with a `file://` and an `s3://` bucket: every job
// kind the worker accepts, each message read back by the pipeline's own parser; `--since` as a
// time and as a duration (block time); `--dry-run`; bad input as one line with its exit code.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_TYPES, parseQueueBody, type Job } from "@strata/pipeline";
import { cli, createQueues, drain, startHarness, seedBucket, type Harness, type Seeded } from "./queue-fixtures.ts";

const HOUR = 3_600_000;
let h: Harness;
beforeAll(async () => {
  h = await startHarness("replay-test");
});
afterAll(async () => {
  await h?.close();
});

function jobsOf(bodies: string[]): Job[] {
  return bodies.map((b) => {
    const p = parseQueueBody(b);
    if (p.kind !== "job") throw new Error(`not a job: ${b}`);
    return p.job;
  });
}

describe.each(["file", "s3"] as const)("strata replay, %s:// bucket", (kind) => {
  let url: string;
  let seeded: Seeded;
  let q: { queue: string; dlq: string };
  let env: Record<string, string>;
  beforeAll(async () => {
    const b = h.buckets.find((x) => x.kind === kind)!;
    url = b.url;
    seeded = await seedBucket(b.store);
    q = await createQueues(h.sqs, h.emu.endpoint, `replay-${kind}`);
    env = { ...h.env, STRATA_QUEUE_URL: q.queue, STRATA_DLQ_URL: q.dlq };
  });

  it("sends every job kind, each the message the worker reads", async () => {
    for (const job of JOB_TYPES) {
      const noSelection = ["plan", "retention", "cleanup", "index-sync", "schedule-page"].includes(job);
      const r = await cli(["replay", url, "--job", job, ...(noSelection ? [] : ["--all"])], env);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const jobs = jobsOf(await drain(h.sqs, q.queue));
      expect(r.out).toContain(`${jobs.length} job(s) sent to ${q.queue}`);
      expect(jobs.every((j) => j.type === job)).toBe(true);
      const { demo, long } = seeded;
      switch (job) {
        case "verify":
          expect(jobs.map((j) => j.type === "verify" && `${j.tenant}/${j.block}`).sort()).toEqual(
            [...demo.map((m) => `demo/${m.ulid}`), `long/${long.ulid}`].sort(),
          );
          break;
        case "compact": {
          // The planner's plan as the plan job sends it: the first four blocks' 8h window.
          expect(jobs).toHaveLength(1);
          const plan = jobs[0]!.type === "compact" ? jobs[0]!.plan : undefined;
          expect(plan?.tenant).toBe("demo");
          expect([...(plan?.inputs ?? [])].sort()).toEqual(
            demo
              .slice(0, 4)
              .map((m) => m.ulid)
              .sort(),
          );
          expect(r.out).toContain(`sent compact demo ${plan?.id}`);
          break;
        }
        case "downsample":
          expect(jobs).toEqual([expect.objectContaining({ tenant: "long", block: long.ulid, resolution: 300_000 })]);
          expect(r.out).toContain(`sent downsample long ${long.ulid} to 5m`);
          break;
        case "convert":
          // The 48h block only (a 2d range, at least the 12h Parquet range).
          expect(jobs).toEqual([expect.objectContaining({ tenant: "long", block: long.ulid })]);
          break;
        case "schedule-page":
          // Once: the first page of the schedule's run over every tenant.
          expect(jobs).toEqual([expect.objectContaining({ type: "schedule-page", page: 0 })]);
          expect(r.out).toContain("sent schedule-page (every tenant) page 0");
          break;
        default:
          // Once per tenant, naming it.
          expect(jobs.map((j) => ("tenant" in j ? j.tenant : undefined)).sort()).toEqual(["demo", "long"]);
      }
    }
  });

  it("--since filters on block time: an RFC 3339 time, epoch milliseconds, a duration", async () => {
    const { demo } = seeded;
    // Halfway between two blocks' ends, so the few ms the command takes never cross a block.
    const cut = demo[2]!.maxTime + HOUR;
    const want = demo.filter((m) => m.maxTime >= cut).map((m) => m.ulid);
    expect(want).toHaveLength(2);
    const minutes = Math.round((Date.now() - cut) / 60_000);
    for (const since of [new Date(cut).toISOString(), String(cut), `${minutes}m`]) {
      const r = await cli(["replay", url, "--tenant", "demo", "--since", since], env);
      expect(r.code).toBe(0);
      const jobs = jobsOf(await drain(h.sqs, q.queue));
      expect(jobs.map((j) => (j.type === "verify" ? j.block : "")).sort()).toEqual([...want].sort());
    }
  });

  it("--dry-run lists one line per message and sends nothing (no queue needed)", async () => {
    const { demo, long } = seeded;
    const r = await cli(
      ["replay", url, "--job", "verify", "--block", demo[0]!.ulid, "--block", long.ulid, "--dry-run"],
      {
        ...env,
        STRATA_QUEUE_URL: undefined,
      },
    );
    expect(r.code).toBe(0);
    expect(r.out.split("\n")).toEqual([
      `verify demo ${demo[0]!.ulid}`,
      `verify long ${long.ulid}`,
      "2 job(s) would be sent (dry run: nothing sent)",
      "",
    ]);
    const plan = await cli(["replay", url, "--job", "retention", "--dry-run"], env);
    expect(plan.out).toBe("retention demo\nretention long\n2 job(s) would be sent (dry run: nothing sent)\n");
    expect(await drain(h.sqs, q.queue)).toEqual([]);
  });

  it("bad input: one line, exit 1 for what the bucket lacks, 2 for usage", async () => {
    const cases: [string[], Record<string, string | undefined>, number, RegExp][] = [
      [
        ["replay", url, "--tenant", "nobody", "--all"],
        env,
        1,
        /^strata replay: unknown tenant "nobody" in .* \(no blocks under it\)$/,
      ],
      [
        ["replay", url, "--block", "01J00000000000000000000000"],
        env,
        1,
        /^strata replay: block 01J00000000000000000000000: no meta.json in any tenant of /,
      ],
      [["replay", "s3://Not_A_Bucket", "--all"], env, 2, /^strata replay: invalid bucket URL "s3:\/\/Not_A_Bucket"/],
      [
        ["replay", url, "--all"],
        { ...env, STRATA_QUEUE_URL: undefined },
        2,
        /^strata replay: the jobs queue is unknown: pass --queue URL or set STRATA_QUEUE_URL$/,
      ],
      [["replay", url, "--all", "--queue", "jobs"], env, 2, /^strata replay: --queue: expected a queue URL/],
      [["replay", url, "--since", "yesterday"], env, 2, /^strata replay: --since: expected an RFC 3339 time/],
      [["replay", url, "--job", "plan", "--since", "1h"], env, 2, /^strata replay: --job plan is sent once per tenant/],
      [
        ["replay", url, "--job", "schedule-page", "--tenant", "demo"],
        env,
        2,
        /^strata replay: --job schedule-page runs over every tenant: --tenant, --block, --since and --all do not apply$/,
      ],
      [
        ["replay", url, "--job", "frobnicate", "--all"],
        env,
        2,
        /^strata replay: --job: expected one of verify, compact/,
      ],
      [["replay", url], env, 2, /^strata replay: choose exactly one of --block ULID, --since TIME, --all$/],
      [["replay", "s3://no-such-bucket", "--all", "--dry-run"], env, 1, /^strata replay: S3: NoSuchBucket/],
      [
        ["replay", url, "--job", "plan", "--queue", `${h.emu.endpoint}/000000000000/no-such-queue`],
        env,
        1,
        /^strata replay: http:\/\/.*\/no-such-queue: SQS: /,
      ],
    ];
    for (const [args, e, code, line] of cases) {
      const r = await cli(args, e);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.err.split("\n")).toHaveLength(2); // one line, newline-terminated
      expect(r.err.trimEnd()).toMatch(line);
    }
    expect(await drain(h.sqs, q.queue)).toEqual([]);
  });

  it("--help says what --since filters on, with examples", async () => {
    const r = await cli(["replay", "--help"], env);
    expect(r.out).toContain("block time, meta.json's maxTime, not upload time");
    expect(r.out).toContain("strata replay s3://strata-blocks --tenant demo --since 6h --dry-run");
  });
});
