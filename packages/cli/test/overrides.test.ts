// `strata overrides show|set|unset` against a `file://` bucket and the S3 emulator: edits are
// compare-and-swaps on the document's ETag, bad flags and URLs are one line with exit 2, a bad
// stored document is one line with exit 1.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OVERRIDES_KEY } from "@strata/pipeline/operations";
import { cli, startHarness, type Harness, type TestBucket } from "./queue-fixtures.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness("overrides-test");
});
afterAll(async () => {
  await h?.close();
});

describe.each(["file", "s3"] as const)("strata overrides, %s:// bucket", (kind) => {
  let b: TestBucket;
  const run = (...args: string[]) => cli(["overrides", ...args], h.env);
  beforeAll(() => {
    b = h.buckets.find((x) => x.kind === kind)!;
  });

  it("show on a bucket without the document: every tenant on the global settings", async () => {
    const r = await run("show", b.url);
    expect(r.code).toBe(0);
    expect(r.out).toContain("absent; every tenant runs on the global settings");
  });

  it("set, show, set again (merged), unset", async () => {
    const set = await run("set", b.url, "--tenant", "team-a", "--retention-raw", "30d", "--replica-label", "replica");
    expect(set.err).toBe("");
    expect(set.code).toBe(0);
    expect(set.out).toContain("team-a: written, ETag");
    const more = await run("set", b.url, "--tenant", "team-a", "--retention-1h", "1y", "--split-shards", "4");
    expect(more.code).toBe(0);
    const shown = await run("show", b.url, "--tenant", "team-a", "--json");
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.out);
    expect(view.document).toEqual({
      tenants: { "team-a": { retention: { raw: "30d", "1h": "1y" }, replicaLabels: ["replica"], splitShards: 4 } },
    });
    expect(view.tenants["team-a"]).toMatchObject({
      enabled: true,
      retention: { raw: "30d", "5m": "0", "1h": "365d" },
      replicaLabels: ["replica"],
      dedup: "penalty",
      splitShards: 4,
      overridden: true,
    });
    const text = await run("show", b.url);
    expect(text.out).toMatch(/team-a \(overridden\): enabled, retention raw 30d 5m 0 1h 365d/);
    const dry = await run("set", b.url, "--defaults", "--enabled", "false", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("would write (dry run)");
    expect(JSON.parse((await run("show", b.url, "--json")).out).document.defaults).toBeUndefined();
    const unset = await run("unset", b.url, "--tenant", "team-a");
    expect(unset.code).toBe(0);
    expect(JSON.parse((await run("show", b.url, "--json")).out).document).toEqual({});
  });

  it("a stale --if-match loses (nothing written, exit 1); the current ETag wins", async () => {
    await run("set", b.url, "--tenant", "t1", "--enabled", "false");
    const etag = JSON.parse((await run("show", b.url, "--json")).out).etag as string;
    await run("set", b.url, "--tenant", "t2", "--retention-5m", "90d");
    const stale = await run("set", b.url, "--tenant", "t1", "--enabled", "true", "--if-match", etag);
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(
      /strata overrides: strata-overrides.json: changed since it was read .*run the command again/,
    );
    expect(JSON.parse((await run("show", b.url, "--json")).out).document.tenants.t1).toEqual({ enabled: false });
    const now = JSON.parse((await run("show", b.url, "--json")).out).etag as string;
    expect((await run("set", b.url, "--tenant", "t1", "--enabled", "true", "--if-match", now)).code).toBe(0);
  });

  it("a bad stored document: show and set say what is wrong (exit 1), and nothing is written", async () => {
    await b.store.put(OVERRIDES_KEY, '{"tenants":{"x":{"retention":{"raw":"soon"}}}}');
    const shown = await run("show", b.url);
    expect(shown.code).toBe(1);
    expect(shown.err.trim()).toBe(
      "strata overrides: strata-overrides.json: tenants.x.retention.raw: expected a duration like 0, 90s, 15m, 48h or 30d",
    );
    const set = await run("set", b.url, "--tenant", "x", "--retention-raw", "1d");
    expect(set.code).toBe(1);
    expect(set.err).toContain("the stored document is invalid: fix or delete it");
    await b.store.delete(OVERRIDES_KEY);
  });

  it.each([
    [["set", "--tenant", "a", "--retention-raw", "30 days"], "--retention-raw: expected a duration"],
    [["set", "--tenant", "a", "--enabled", "yes"], "--enabled: expected true or false"],
    [["set", "--tenant", "a", "--split-shards", "1000"], "--split-shards: expected 0 (off) to 128"],
    [["set", "--tenant", "a", "--replica-label", "a-b"], "--replica-label: expected a label name"],
    [["set", "--tenant", "a"], "nothing to set"],
    [["set", "--retention-raw", "1d"], "give --tenant T or --defaults"],
    [["show", "--retention-raw", "1d"], "--retention-raw: only strata overrides set takes it"],
    [["set", "--tenant", "../x", "--enabled", "true"], "--tenant: invalid tenant"],
  ])("bad input %j: one line, exit 2", async (args, message) => {
    const [action, ...rest] = args;
    const r = await run(action!, b.url, ...rest);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err.split("\n").filter(Boolean)).toHaveLength(1);
  });
});

describe("strata overrides: usage", () => {
  it("a malformed bucket URL or an unknown action is a usage error", async () => {
    const bad = await cli(["overrides", "show", "s4://x"], h.env);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^strata overrides: .*s4:\/\/x/);
    const act = await cli(["overrides", "edit", "file:///tmp"], h.env);
    expect(act.code).toBe(2);
    expect(act.err).toContain("expected show, set, unset");
  });
});
