// `strata dlq list|show|redrive` against the emulator's SQS, with real dead letters (a jobs
// queue whose redrive policy moves a message on its second receive) and what the pipeline
// records in a `file://` and an `s3://` bucket: an attempt record, a refusal mark, a quarantine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MARKER_VERSION_1 } from "@strata/tsdb";
import {
  JOB_FAILED_REASON,
  QUARANTINE_REASON,
  StoreLeases,
  StoreStorage,
  VERIFY_REPORT_FILE,
  compactLeaseName,
  parseQueueBody,
  pipelineLayout,
} from "@strata/pipeline";
import { replayJobs } from "@strata/pipeline/operations";
import {
  cli,
  createQueues,
  deadLetter,
  depth,
  drain,
  seedBucket,
  startHarness,
  type Harness,
  type Seeded,
} from "./queue-fixtures.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness("dlq-test");
});
afterAll(async () => {
  await h?.close();
});

describe.each(["file", "s3"] as const)("strata dlq, %s:// bucket", (kind) => {
  let url: string;
  let seeded: Seeded;
  let q: { queue: string; dlq: string };
  let env: Record<string, string>;
  const ids: Record<"compact" | "downsample" | "verify" | "invalid" | "retention", string> = {} as never;
  let planId = "";

  beforeAll(async () => {
    const b = h.buckets.find((x) => x.kind === kind)!;
    url = b.url;
    seeded = await seedBucket(b.store);
    q = await createQueues(h.sqs, h.emu.endpoint, `dlq-${kind}`);
    env = { ...h.env, STRATA_QUEUE_URL: q.queue, STRATA_DLQ_URL: q.dlq };
    const layout = pipelineLayout();
    const storage = new StoreStorage(b.store, layout);
    const { demo, long } = seeded;
    // What the worker leaves in the bucket for failing jobs, through the pipeline's own ports.
    const replayed = await replayJobs(b.store, { job: "compact", tenant: "demo" });
    if ("problem" in replayed) throw new Error(replayed.problem);
    const compactBody = replayed.messages[0]!.body;
    const parsed = parseQueueBody(compactBody);
    planId = parsed.kind === "job" && parsed.job.type === "compact" ? parsed.job.plan.id : "";
    await new StoreLeases(b.store, layout).writeAttempts("demo", compactLeaseName(planId), {
      version: 1,
      attempts: 2,
      errors: ["attempt 1: read ECONNRESET", "attempt 2: chunk 3 of 01ABC: checksum mismatch"],
      job: "compact",
      blocks: demo.slice(0, 4).map((m) => m.ulid),
      first_time: 1_767_225_600,
      last_time: 1_767_229_200,
    });
    await storage.markNoDownsample(
      { tenant: "long", block: long.ulid },
      {
        id: long.ulid,
        version: MARKER_VERSION_1,
        details: "3 attempts failed",
        no_downsample_time: 1,
        reason: JOB_FAILED_REASON,
      },
    );
    const bad = { tenant: "demo", block: demo[4]!.ulid };
    await storage.putReport(bad, VERIFY_REPORT_FILE, '{"problems":["index: postings out of order"]}\n');
    await storage.markNoCompact(bad, {
      id: bad.block,
      version: MARKER_VERSION_1,
      details: "index: postings out of order",
      no_compact_time: 1,
      reason: QUARANTINE_REASON,
    });
    ids.compact = await deadLetter(h.sqs, q, compactBody);
    ids.downsample = await deadLetter(
      h.sqs,
      q,
      JSON.stringify({ version: 1, type: "downsample", tenant: "long", block: long.ulid, resolution: 300_000 }),
    );
    ids.verify = await deadLetter(h.sqs, q, JSON.stringify({ version: 1, type: "verify", ...bad }));
    ids.invalid = await deadLetter(h.sqs, q, '{"hello":"world"}');
    ids.retention = await deadLetter(h.sqs, q, JSON.stringify({ version: 1, type: "retention", tenant: "demo" }));
    expect(await depth(h.sqs, q.dlq)).toEqual({ visible: 5, inFlight: 0 });
  });

  it("list peeks at every dead letter with its recorded error, and consumes none", async () => {
    const r = await cli(["dlq", "list", "--bucket", url], env);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const line = (id: string) => r.out.split("\n").find((l) => l.startsWith(id)) ?? "";
    expect(line(ids.compact)).toContain(`compact demo ${planId}`);
    expect(line(ids.compact)).toContain(
      "error: 2 attempt(s) started; last: attempt 2: chunk 3 of 01ABC: checksum mismatch",
    );
    expect(line(ids.compact)).toContain("last 2026-01-01T01:00:00.000Z");
    expect(line(ids.compact)).toMatch(/ 2 receive\(s\) {2}first 20\d\d-/);
    expect(line(ids.downsample)).toContain(`downsample long ${seeded.long.ulid}`);
    expect(line(ids.downsample)).toContain(`error: ${seeded.long.ulid}: [${JOB_FAILED_REASON}] 3 attempts failed`);
    expect(line(ids.verify)).toContain(`error: ${seeded.demo[4]!.ulid} quarantined: index: postings out of order`);
    expect(line(ids.invalid)).toContain("error: unrecognised message");
    expect(line(ids.retention)).toContain("retention demo");
    expect(line(ids.retention)).toContain("error: no error recorded");
    expect(r.out).toContain(`5 dead letter(s) in ${q.dlq}`);
    // Nothing consumed, nothing left hidden.
    expect(await depth(h.sqs, q.dlq)).toEqual({ visible: 5, inFlight: 0 });

    const json = await cli(["dlq", "list", "--bucket", url, "--json", "--max", "2"], env);
    const letters = JSON.parse(json.out) as { id: string; error: string }[];
    expect(letters).toHaveLength(2);
    expect(await depth(h.sqs, q.dlq)).toEqual({ visible: 5, inFlight: 0 });
    // Without a bucket only a body's own problem is known.
    const bare = await cli(["dlq", "list"], env);
    expect(bare.out).toContain("error: errors not looked up (no --bucket or STRATA_BUCKET)");
    expect(bare.out.split("\n").find((l) => l.startsWith(ids.invalid))).toContain("error: unrecognised message");
  });

  it("show prints one message in full: body, attributes, every recorded error", async () => {
    const r = await cli(["dlq", "show", ids.compact, "--bucket", url], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`message ${ids.compact}`);
    expect(r.out).toContain('    "type": "compact",');
    expect(r.out).toMatch(/ApproximateFirstReceiveTimestamp: \d+ \(20\d\d-/);
    expect(r.out).toContain("    attempt 1: read ECONNRESET\n    attempt 2: chunk 3 of 01ABC: checksum mismatch");
    const v = await cli(["dlq", "show", ids.verify, "--bucket", url, "--json"], env);
    const shown = JSON.parse(v.out) as { recorded: { what: string; details?: string[] }[]; body: unknown };
    expect(shown.body).toMatchObject({ type: "verify", tenant: "demo" });
    expect(shown.recorded.map((x) => x.what)).toEqual(["quarantine", "report"]);
    expect(shown.recorded[1]!.details).toEqual(['{"problems":["index: postings out of order"]}']);
    expect(await depth(h.sqs, q.dlq)).toEqual({ visible: 5, inFlight: 0 });
  });

  it("redrive --id moves only the given messages; an unknown id moves none", async () => {
    const none = await cli(["dlq", "redrive", "--id", ids.invalid, "--id", "no-such-id"], env);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^strata dlq: message "no-such-id" not in .* \(looked at 5\); nothing moved\n$/);
    expect(await depth(h.sqs, q.dlq)).toEqual({ visible: 5, inFlight: 0 });

    const r = await cli(["dlq", "redrive", "--id", ids.retention], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`redrove ${ids.retention}`);
    expect(await drain(h.sqs, q.queue)).toEqual([JSON.stringify({ version: 1, type: "retention", tenant: "demo" })]);
    expect(await depth(h.sqs, q.dlq)).toEqual({ visible: 4, inFlight: 0 });
  });

  it("redrive moves the rest, and `replay --from-dlq` is its alias", async () => {
    const one = await cli(["dlq", "redrive", "--max", "1"], env);
    expect(one.out).toContain("redrove 1 message(s)");
    const rest = await cli(["replay", "--from-dlq"], env);
    expect(rest.code).toBe(0);
    expect(rest.out).toContain(`redrove 3 message(s) from ${q.dlq} to ${q.queue}`);
    expect(await depth(h.sqs, q.dlq)).toEqual({ visible: 0, inFlight: 0 });
    const bodies = await drain(h.sqs, q.queue);
    expect(bodies).toHaveLength(4);
    expect(bodies).toContain('{"hello":"world"}');
  });

  it("bad input: one line and its exit code", async () => {
    const cases: [string[], Record<string, string | undefined>, number, RegExp][] = [
      [["dlq", "show", "no-such-id"], env, 1, /^strata dlq: message "no-such-id" is not in .* \(looked at 0\)$/],
      [
        ["dlq", "list"],
        { ...env, STRATA_DLQ_URL: undefined },
        2,
        /^strata dlq: the DLQ is unknown: pass --dlq URL or set STRATA_DLQ_URL$/,
      ],
      [["dlq", "list", "--dlq", "not a url"], env, 2, /^strata dlq: --dlq: expected a queue URL/],
      [["dlq", "list", "--bucket", "s3://Bad_Bucket"], env, 2, /^strata dlq: invalid bucket URL/],
      [["dlq", "redrive"], { ...env, STRATA_QUEUE_URL: undefined }, 2, /^strata dlq: the jobs queue is unknown/],
      [["dlq", "list", "--bucket", "s3://no-such-bucket"], env, 1, /^strata dlq: S3: NoSuchBucket/],
      [
        ["dlq", "list", "--bucket", `${url}/empty-prefix`],
        env,
        1,
        // On S3 an empty prefix; a file:// bucket must be an existing directory.
        /^strata dlq: .*empty-prefix: (no objects \(is --bucket|no such directory \(a file:\/\/ bucket is a directory\)$)/,
      ],
      [["dlq", "peek"], env, 2, /^strata dlq: expected "list", "show" or "redrive", got "peek"$/],
      [["dlq", "list", "--max", "0"], env, 2, /^strata dlq: --max: expected a whole number from 1 to 1000/],
      [
        ["dlq", "list", "--dlq", `${h.emu.endpoint}/000000000000/no-such-queue`],
        env,
        1,
        /^strata dlq: .*no-such-queue: SQS: /,
      ],
    ];
    for (const [args, e, code, line] of cases) {
      const r = await cli(args, e);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.err.split("\n")).toHaveLength(2);
      expect(r.err.trimEnd()).toMatch(line);
    }
  });
});
