import { describe, expect, it } from "vitest";
import { ROOT_TENANT } from "@strata/bucket";
import {
  MessageError,
  decodeS3Key,
  encodeJob,
  jobTenant,
  parseQueueBody,
  type Job,
  type ParsedMessage,
} from "@strata/pipeline";
import { S3_TEST_EVENT, fakeGroupKey, planFor, s3EventBody, ulid } from "@strata/testkit/pipeline";

const B = ulid();
const B2 = ulid();
const B3 = ulid();

function s3(body: string) {
  const m = parseQueueBody(body);
  if (m.kind !== "s3") throw new Error(`expected an s3 message, got ${m.kind}`);
  return m;
}

function messageError(body: string): MessageError {
  try {
    parseQueueBody(body);
  } catch (e) {
    expect(e).toBeInstanceOf(MessageError);
    return e as MessageError;
  }
  throw new Error("expected a MessageError");
}

describe("S3 event notifications", () => {
  it("reads a tenant block upload, keys URL-decoded (space as %20 or +)", () => {
    // What S3 sends for "team a/<ULID>/meta.json": the space encoded as '+'.
    const plus = s3(s3EventBody([`team a/${B}/meta.json`]));
    expect(plus.records).toEqual([
      {
        tenant: "team a",
        block: B,
        bucket: "strata-blocks",
        key: `team a/${B}/meta.json`,
        eventName: "ObjectCreated:Put",
        eventTime: "2026-01-03T00:00:00.000Z",
        eTag: "d41d8cd98f00b204e9800998ecf8427e",
        sequencer: "0055AED6DCD90280",
      },
    ]);
    const raw = JSON.parse(s3EventBody([`team a/${B}/meta.json`]));
    expect(raw.Records[0].s3.object.key).toBe(`team+a/${B}/meta.json`);

    const pct = s3(s3EventBody([`team%20a/${B}/meta.json`], { encode: false }));
    expect(pct.records[0]!.tenant).toBe("team a");
    // A literal '+' arrives as %2B and must stay a '+'.
    const literalPlus = s3(s3EventBody([`a%2Bb/${B}/meta.json`], { encode: false }));
    expect(literalPlus.records[0]!.tenant).toBe("a+b");
    expect(decodeS3Key("x+y%2Bz%C3%A9")).toBe("x y+zé");
  });

  it("reads a root-level (Thanos) block as the root tenant, and multipart completions", () => {
    const m = s3(s3EventBody([`${B}/meta.json`], { eventName: "ObjectCreated:CompleteMultipartUpload" }));
    expect(m.records.map((r) => [r.tenant, r.block, r.eventName])).toEqual([
      [ROOT_TENANT, B, "ObjectCreated:CompleteMultipartUpload"],
    ]);
  });

  it("keeps every record of a multi-record notification, in order", () => {
    const m = s3(s3EventBody([`t1/${B}/meta.json`, `t2/${B2}/meta.json`]));
    expect(m.records.map((r) => `${r.tenant}/${r.block}`)).toEqual([`t1/${B}`, `t2/${B2}`]);
  });

  it("acknowledges, with a reason, records that are not block uploads", () => {
    const m = s3(
      s3EventBody([
        `team/${B}/index`,
        `a/b/${B}/meta.json`,
        `team/not-a-ulid/meta.json`,
        `team/${B.toLowerCase()}/meta.json`,
        `./${B}/meta.json`,
        `team/markers/${B}-meta.json`,
      ]),
    );
    expect(m.records).toEqual([]);
    expect(m.ignored.map((r) => r.reason)).toEqual([
      "not a meta.json",
      `expected <tenant>/<ULID>/<file> or <ULID>/<file>; folder "b" under tenant "a" is not a ULID`,
      `expected <tenant>/<ULID>/<file> or <ULID>/<file>; folder "not-a-ulid" under tenant "team" is not a ULID`,
      `directory "${B.toLowerCase()}" is not a canonical ULID`,
      `"." is not a valid tenant: tenant must not be '.' or '..'`,
      "not a meta.json",
    ]);
    const removed = s3(s3EventBody([`team/${B}/meta.json`], { eventName: "ObjectRemoved:Delete" }));
    expect(removed.ignored).toEqual([
      {
        bucket: "strata-blocks",
        key: `team/${B}/meta.json`,
        eventName: "ObjectRemoved:Delete",
        reason: "not an ObjectCreated event",
      },
    ]);
  });

  it("ignores, with the reason, uploads under names no tenant may have (the schedule would never visit them)", () => {
    const T = ulid(); // a ULID-shaped "tenant"
    const m = s3(
      s3EventBody([
        `markers/${B}/meta.json`,
        `leases/${B}/meta.json`,
        `${T}/${B}/meta.json`,
        `__x/${B}/meta.json`,
        `.x/${B}/meta.json`,
        `a\u202Eb/${B}/meta.json`,
        `bucket-index.json.gz/${B}/meta.json`,
        `${B}/sub/meta.json`,
      ]),
    );
    expect(m.records).toEqual([]);
    expect(m.ignored.map((r) => r.reason)).toEqual([
      `"markers" is not a valid tenant: tenant "markers" is a reserved name (written at a tenant's or the bucket's root)`,
      `"leases" is not a valid tenant: tenant "leases" is a reserved name (written at a tenant's or the bucket's root)`,
      `top-level folder "${T}" holds block folders, so it is a tenant, not a root block; and a tenant must not be ULID-shaped`,
      `"__x" is not a valid tenant: tenant must not start with '__' (reserved)`,
      `".x" is not a valid tenant: tenant must not start with '.'`,
      `"a\\u202eb" is not a valid tenant: tenant contains a bidirectional formatting character (U+202E) at character 1`,
      `"bucket-index.json.gz" is not a valid tenant: tenant "bucket-index.json.gz" is a reserved name (written at a tenant's or the bucket's root)`,
      `expected <tenant>/<ULID>/meta.json or <ULID>/meta.json`,
    ]);
  });

  it("recognises the s3:TestEvent", () => {
    expect(parseQueueBody(S3_TEST_EVENT)).toEqual({
      kind: "test-event",
      bucket: "strata-blocks",
    } satisfies ParsedMessage);
  });

  it("rejects a malformed notification, naming the record and field", () => {
    const badKey = messageError(s3EventBody([`team%ZZ/${B}/meta.json`], { encode: false }));
    expect(badKey.issues).toEqual([
      { path: "Records.0.s3.object.key", message: `not a URL-encoded key: "team%ZZ/${B}/meta.json"` },
    ]);

    const body = JSON.parse(s3EventBody([`t/${B}/meta.json`, `t/${B2}/meta.json`]));
    delete body.Records[1].s3.bucket.name;
    body.Records[0].eventSource = "aws:sqs";
    const e = messageError(JSON.stringify(body));
    expect(e.message).toMatch(/^invalid S3 event notification: /);
    expect(e.issues.map((i) => i.path)).toEqual(["Records.0.eventSource", "Records.1.s3.bucket.name"]);
    expect(e.message).toContain('Records.0.eventSource: Invalid input: expected "aws:s3"');

    expect(messageError(JSON.stringify({ Records: [] })).message).toBe(
      "invalid S3 event notification: Records: no records",
    );
  });
});

describe("job messages", () => {
  const G = fakeGroupKey({});
  const jobs: Job[] = [
    { version: 1, type: "verify", tenant: "team-a", block: B },
    { version: 2, type: "compact", plan: planFor("team-a", G, [B, B2]) },
    {
      version: 2,
      type: "compact",
      id: "replay-2",
      retry: 3,
      plan: planFor("", G, [B2], { kind: "split", shardCount: 4, splitGroup: "1_of_1" }),
    },
    { version: 1, type: "downsample", tenant: "", block: B, resolution: 300_000 },
    { version: 1, type: "downsample", tenant: "t", block: B, resolution: 3_600_000, id: "replay-1" },
    { version: 1, type: "plan", tenant: "team-a" },
    { version: 1, type: "plan", tenant: "team-a", groupKey: "0@{}" },
    { version: 1, type: "retention" },
    { version: 1, type: "retention", tenant: "team-a" },
    { version: 1, type: "cleanup" },
    { version: 1, type: "index-sync", tenant: "team-a" },
  ];

  it.each(jobs.map((j) => [`${j.type} ${JSON.stringify(j)}`, j] as const))("round-trips %s", (_name, job) => {
    expect(parseQueueBody(encodeJob(job))).toEqual({ kind: "job", job });
  });

  it.each([
    [
      "version",
      { type: "verify", tenant: "t", block: B },
      "unsupported job message version undefined: this worker reads version 1",
    ],
    [
      "version 2",
      { version: 2, type: "verify", tenant: "t", block: B },
      "unsupported job message version 2: this worker reads version 1",
    ],
    [
      "type",
      { version: 1, type: "merge", tenant: "t" },
      'unknown job type "merge": expected one of verify, compact, downsample, plan, retention, cleanup, index-sync, schedule-page, convert',
    ],
    [
      "missing block",
      { version: 1, type: "verify", tenant: "t" },
      "invalid verify job: block: Invalid input: expected string, received undefined",
    ],
    [
      "bad ULID",
      { version: 1, type: "verify", tenant: "t", block: "01J" },
      "invalid verify job: block: not a canonical (upper-case) ULID",
    ],
    [
      "tenant with /",
      { version: 1, type: "index-sync", tenant: "a/b" },
      "invalid index-sync job: tenant: tenant must not contain '/'",
    ],
    [
      "reserved tenant",
      { version: 1, type: "cleanup", tenant: "markers" },
      `invalid cleanup job: tenant: tenant "markers" is a reserved name (written at a tenant's or the bucket's root)`,
    ],
    [
      "ULID-shaped tenant",
      { version: 1, type: "cleanup", tenant: B.toLowerCase() },
      "invalid cleanup job: tenant: tenant is ULID-shaped (the name of a block folder)",
    ],
    [
      "__ tenant",
      { version: 1, type: "retention", tenant: "__root__" },
      "invalid retention job: tenant: tenant must not start with '__' (reserved)",
    ],
    [
      "long tenant",
      { version: 1, type: "plan", tenant: "é".repeat(76) },
      "invalid plan job: tenant: tenant is 152 bytes of UTF-8, more than 150",
    ],
    [
      "typo'd field",
      { version: 1, type: "plan", tennant: "t" },
      'invalid plan job: tenant: Invalid input: expected string, received undefined; Unrecognized key: "tennant"',
    ],
    [
      "duplicate inputs",
      { version: 2, type: "compact", plan: planFor("t", G, [B, B]) },
      "invalid compact job: plan.inputs: input blocks must be distinct",
    ],
    [
      "lower-case input",
      { version: 2, type: "compact", plan: planFor("t", G, [B, B2.toLowerCase()]) },
      "invalid compact job: plan.inputs.1: not a canonical (upper-case) ULID",
    ],
    [
      "plan tenant",
      { version: 2, type: "compact", plan: planFor("markers", G, [B, B2]) },
      `invalid compact job: plan.tenant: tenant "markers" is a reserved name (written at a tenant's or the bucket's root)`,
    ],
    [
      "plan id",
      { version: 2, type: "compact", plan: { ...planFor("t", G, [B, B2]), id: "t/x" } },
      `invalid compact job: plan.id: "t/x" is not the id of the plan's inputs and output (${planFor("t", G, [B, B2]).id}); the lease is keyed on it`,
    ],
    [
      "plan not an object",
      { version: 2, type: "compact", plan: [1] },
      "invalid compact job: plan: Invalid input: expected object, received array",
    ],
    [
      "copies beside the plan",
      { version: 2, type: "compact", tenant: "t", plan: planFor("t", G, [B, B2]) },
      'invalid compact job: Unrecognized key: "tenant"',
    ],
    [
      "compact version",
      { version: 3, type: "compact", plan: planFor("t", G, [B, B2]) },
      "unsupported job message version 3: this worker reads version 2 (and converts version 1)",
    ],
    [
      "version 1 duplicate inputs",
      { version: 1, type: "compact", tenant: "t", groupKey: G, blocks: [B, B], plan: planFor("t", G, [B, B]) },
      "invalid compact job (version 1): blocks: input blocks must be distinct",
    ],
    [
      "version 1 plan for other blocks",
      { version: 1, type: "compact", tenant: "t", groupKey: G, blocks: [B, B2], plan: planFor("t", G, [B2, B3]) },
      `invalid compact job (version 1): plan.inputs: plan inputs [${B2},${B3}] differ from the job's blocks [${B},${B2}]`,
    ],
    [
      "version 1 without its copies",
      { version: 1, type: "compact", plan: planFor("t", G, [B, B2]) },
      "invalid compact job (version 1): tenant: Invalid input: expected string, received undefined; groupKey: Invalid input: expected string, received undefined; blocks: Invalid input: expected array, received undefined",
    ],
    [
      "resolution",
      { version: 1, type: "downsample", tenant: "t", block: B, resolution: 60_000 },
      "invalid downsample job: resolution: resolution must be 300000 (5m) or 3600000 (1h) milliseconds",
    ],
  ])("rejects a job with a bad %s", (_name, body, message) => {
    expect(messageError(JSON.stringify(body)).message).toBe(message);
  });

  it("reads a version-1 compact job (still queued after an upgrade) as version 2: copies dropped, the plan's id made again", () => {
    const plan = planFor("team-a", G, [B, B2]);
    const oldId = `team-a/${G}/merge/${8 * 3600_000}/0-1`; // a version-1 plan id did not name its inputs
    const v1 = {
      version: 1,
      type: "compact",
      id: "replay-7",
      retry: 2,
      tenant: "team-a",
      groupKey: G,
      blocks: [B2, B],
      plan: { ...plan, id: oldId },
    };
    const parsed = parseQueueBody(JSON.stringify(v1));
    expect(parsed).toEqual({ kind: "job", job: { version: 2, type: "compact", id: "replay-7", retry: 2, plan } });
    // What a producer sends for it now is the same job: duplicates share the lease.
    expect(parsed.kind === "job" && encodeJob(parsed.job)).toBe(
      encodeJob({ version: 2, type: "compact", id: "replay-7", retry: 2, plan }),
    );
    expect(parsed.kind === "job" && jobTenant(parsed.job)).toBe("team-a");
  });

  it("refuses to encode an invalid job (producers cannot send one)", () => {
    expect(() => encodeJob({ version: 1, type: "verify", tenant: "t", block: "nope" })).toThrow(MessageError);
  });
});

describe("bodies that are none of the three", () => {
  it.each([
    ["", 'body is not JSON (Unexpected end of JSON input); it starts ""'],
    ["{oops", "body is not JSON"],
    ["[1,2]", "body must be a JSON object, found an array"],
    ["null", "body must be a JSON object, found null"],
    ["42", "body must be a JSON object, found number"],
    [
      JSON.stringify({ hello: "world", n: 1 }),
      "unrecognised message: expected an S3 event notification (Records), an s3:TestEvent, or a Strata job ({version, type, …}); found keys [hello, n]",
    ],
  ])("rejects %j", (body, message) => {
    expect(messageError(body).message).toContain(message);
  });
});
