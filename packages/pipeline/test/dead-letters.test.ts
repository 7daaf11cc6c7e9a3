// What `strata dlq` shows beside a dead letter: the body read as the worker reads it, and what
// the pipeline recorded about the job in a directory bucket (attempt records, refusal marks,
// quarantine), bounded and parsed however hostile the bucket.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@strata/bucket";
import { MARKER_VERSION_1, newUlid, type NoCompactMark } from "@strata/tsdb";
import { planId, type Plan } from "@strata/compact";
import {
  JOB_FAILED_REASON,
  PLAN_REPORT_FILE,
  QUARANTINE_REASON,
  VERIFY_REPORT_FILE,
  StoreLeases,
  StoreStorage,
  compactLeaseName,
  downsampleLeaseName,
  encodeJob,
  pipelineLayout,
} from "@strata/pipeline";
import { MAX_RECORD_BYTES, describeDeadLetter, recordedErrors } from "../src/dead-letters.ts";

const T = Date.UTC(2026, 0, 1);
const B = [1, 2, 3].map((i) => newUlid(T + i * 7_200_000, new Uint8Array(10).fill(i)));
let dir: string;
let store: FsStore;
let storage: StoreStorage;
let leases: StoreLeases;
const layout = pipelineLayout();

const plan: Plan = (() => {
  const p: Plan = {
    id: "",
    tenant: "t",
    groupKey: "0@1",
    kind: "merge",
    range: 28_800_000,
    window: { minTime: T, maxTime: T + 14_400_000 },
    level: 2,
    inputs: [B[0]!, B[1]!],
    overlapping: false,
    labels: {},
    resolution: 0,
    reason: "a full 8h window",
  };
  return { ...p, id: planId(p) };
})();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-dlq-"));
  store = new FsStore(dir);
  storage = new StoreStorage(store, layout);
  leases = new StoreLeases(store, layout);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("describeDeadLetter", () => {
  it("reads jobs, S3 events and bodies the worker cannot read", () => {
    expect(
      describeDeadLetter(encodeJob({ version: 1, type: "downsample", tenant: "t", block: B[0]!, resolution: 300_000 })),
    ).toMatchObject({ kind: "job", items: [{ type: "downsample", tenant: "t", target: B[0] }] });
    expect(describeDeadLetter(encodeJob({ version: 1, type: "retention" }))).toMatchObject({
      kind: "job",
      items: [{ type: "retention", tenant: undefined, target: undefined }],
    });
    const s3 = {
      Records: [
        {
          eventSource: "aws:s3",
          eventName: "ObjectCreated:Put",
          eventTime: "2026-01-01T00:00:00Z",
          s3: { bucket: { name: "b" }, object: { key: `t/${B[2]}/meta.json` } },
        },
      ],
    };
    expect(describeDeadLetter(JSON.stringify(s3))).toMatchObject({
      kind: "s3-event",
      items: [{ type: "verify", tenant: "t", target: B[2] }],
    });
    expect(describeDeadLetter(JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "b" }))).toEqual({
      kind: "s3-test-event",
      items: [],
    });
    expect(describeDeadLetter("not json")).toMatchObject({
      kind: "invalid",
      problem: expect.stringContaining("not JSON"),
    });
  });
});

describe("recordedErrors", () => {
  const compact = () => describeDeadLetter(encodeJob({ version: 2, type: "compact", plan }));

  it("an invalid body's error is the parser's, with or without a bucket", async () => {
    const l = describeDeadLetter('{"hello":"world"}');
    const want = [{ what: "invalid-message", text: expect.stringContaining("unrecognised message") }];
    expect(await recordedErrors(l, undefined)).toEqual(want);
    expect(await recordedErrors(l, store)).toEqual(want);
    expect(await recordedErrors(compact(), undefined)).toEqual([]);
  });

  it("nothing recorded: an empty list", async () => {
    expect(await recordedErrors(compact(), store)).toEqual([]);
    expect(
      await recordedErrors(describeDeadLetter(encodeJob({ version: 1, type: "plan", tenant: "t" })), store),
    ).toEqual([]);
  });

  it("a compaction's attempt record, then the refusal marks on its inputs, once per distinct mark", async () => {
    const name = compactLeaseName(plan.id);
    await leases.writeAttempts("t", name, {
      version: 1,
      attempts: 2,
      errors: ["attempt 1: disk full"],
      job: "compact",
      blocks: plan.inputs,
      first_time: 100,
      last_time: 200,
    });
    expect(await recordedErrors(compact(), store)).toEqual([
      {
        what: "attempts",
        key: layout.leaseKey("t", `${name}.attempts`),
        text: "2 attempt(s) started; last: attempt 2: no error recorded (killed or out of time, or still running)",
        details: ["attempt 1: disk full"],
        time: 200_000,
      },
    ]);
    const details = "2 attempts failed: attempt 1: disk full; attempt 2: boom";
    for (const block of plan.inputs) {
      await storage.putReport({ tenant: "t", block }, PLAN_REPORT_FILE, `{"details": "${details}"}\n`);
      await storage.markNoCompact(
        { tenant: "t", block },
        { id: block, version: MARKER_VERSION_1, details, no_compact_time: 300, reason: JOB_FAILED_REASON },
      );
    }
    const got = await recordedErrors(compact(), store, { reports: true });
    expect(got.map((r) => r.what)).toEqual(["attempts", "no-compact-mark", "report"]);
    expect(got[1]).toMatchObject({
      text: `${plan.inputs.join(",")}: [${JOB_FAILED_REASON}] ${details}`,
      time: 300_000,
    });
    expect(got[2]).toMatchObject({
      text: `${PLAN_REPORT_FILE} of ${plan.inputs[0]}`,
      details: [`{"details": "${details}"}`],
    });
  });

  it("a downsampling's attempts and no-downsample mark; a quarantined block's mark and report", async () => {
    await leases.writeAttempts("t", downsampleLeaseName(B[2]!, 300_000), {
      version: 1,
      attempts: 1,
      errors: ["attempt 1: out of memory"],
      job: "downsample",
      blocks: [B[2]!],
      first_time: 1,
      last_time: 1,
    });
    await storage.markNoDownsample(
      { tenant: "t", block: B[2]! },
      { id: B[2]!, version: MARKER_VERSION_1, details: "gave up", no_downsample_time: 5, reason: JOB_FAILED_REASON },
    );
    const ds = describeDeadLetter(
      encodeJob({ version: 1, type: "downsample", tenant: "t", block: B[2]!, resolution: 300_000 }),
    );
    expect((await recordedErrors(ds, store)).map((r) => r.text)).toEqual([
      "1 attempt(s) started; last: attempt 1: out of memory",
      `${B[2]}: [${JOB_FAILED_REASON}] gave up`,
    ]);

    const q = { tenant: "u", block: B[0]! };
    await storage.putReport(q, VERIFY_REPORT_FILE, '{\n  "problems": ["index: bad"]\n}\n');
    await storage.markNoCompact(q, {
      id: q.block,
      version: MARKER_VERSION_1,
      details: "index: bad",
      no_compact_time: 7,
      reason: QUARANTINE_REASON,
    });
    const v = describeDeadLetter(encodeJob({ version: 1, type: "verify", ...q }));
    expect(await recordedErrors(v, store, { reports: true })).toEqual([
      {
        what: "quarantine",
        key: layout.blockFile("u", q.block, "no-compact-mark.json"),
        time: 7000,
        text: `${q.block} quarantined: index: bad`,
      },
      expect.objectContaining({ what: "report", details: ["{", '  "problems": ["index: bad"]', "}"] }),
    ]);
  });

  it("reads hostile records bounded: too large or unparsable is said, never thrown", async () => {
    const h = { tenant: "h", block: B[1]! };
    const quarantine: NoCompactMark = {
      id: h.block,
      version: MARKER_VERSION_1,
      details: "bad",
      no_compact_time: 1,
      reason: QUARANTINE_REASON,
    };
    await storage.markNoCompact(h, quarantine);
    await store.put(layout.blockFile("h", h.block, VERIFY_REPORT_FILE), "y".repeat(MAX_RECORD_BYTES * 2));
    const report = (
      await recordedErrors(describeDeadLetter(encodeJob({ version: 1, type: "verify", ...h })), store, {
        reports: true,
      })
    )[1];
    expect(report?.details).toEqual(["y".repeat(MAX_RECORD_BYTES), `… (cut at ${MAX_RECORD_BYTES} bytes)`]);
    await store.put(layout.blockFile("h", h.block, "no-compact-mark.json"), "x".repeat(MAX_RECORD_BYTES + 1));
    const v = describeDeadLetter(encodeJob({ version: 1, type: "verify", ...h }));
    expect((await recordedErrors(v, store))[0]).toMatchObject({
      what: "no-compact-mark",
      text: expect.stringContaining(`unreadable no-compact-mark.json: larger than ${MAX_RECORD_BYTES} bytes`),
    });
    await store.put(layout.blockFile("h", h.block, "no-compact-mark.json"), "{nope");
    expect((await recordedErrors(v, store))[0]!.text).toContain("unreadable no-compact-mark.json");
    await store.put(
      layout.leaseKey("h", `${downsampleLeaseName(h.block, 300_000)}.attempts`),
      "z".repeat(MAX_RECORD_BYTES + 1),
    );
    const ds = describeDeadLetter(encodeJob({ version: 1, type: "downsample", ...h, resolution: 300_000 }));
    expect((await recordedErrors(ds, store))[0]!.text).toBe(
      `attempt record of ${MAX_RECORD_BYTES + 1} bytes, larger than a record can be`,
    );
  });
});
