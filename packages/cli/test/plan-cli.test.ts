// `strata plan <dir>` on a temporary local bucket of meta.json files and markers.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_COMPACT_MARK_FILE, serializeMarker, serializeMeta } from "@strata/tsdb";
import { PlanSchema } from "@strata/compact";
import { runStrata } from "@strata/testkit/cli";
import { m, U } from "./plan-fixtures.ts";

const H = 3_600_000;
let root: string;

async function put(dir: string, b: ReturnType<typeof m>, noCompact = false) {
  const d = join(dir, b.meta.ulid);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, "meta.json"), serializeMeta(b.meta, { style: "thanos" }));
  if (noCompact)
    await writeFile(
      join(d, NO_COMPACT_MARK_FILE),
      serializeMarker(NO_COMPACT_MARK_FILE, { id: b.meta.ulid, version: 1, no_compact_time: 1, reason: "manual" }),
    );
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "strata-plan-"));
  // Tenant "a": four 2h blocks filling an 8h window, plus a fresh one.
  for (let i = 0; i < 5; i++)
    await put(join(root, "a"), m(10 + i, i * 2 * H, (i + 1) * 2 * H, { labels: { cluster: "eu" } }));
  // Tenant "b": two replicas of one 2h block, and a no-compact block.
  await put(join(root, "b"), m(20, 0, 2 * H, { labels: { cluster: "us", replica: "r1" } }));
  await put(join(root, "b"), m(21, 0, 2 * H, { labels: { cluster: "us", replica: "r2" } }));
  await put(join(root, "b"), m(22, 2 * H, 4 * H, { labels: { cluster: "us", replica: "r1" } }), true);
  // A partial upload.
  await mkdir(join(root, "b", U(23)), { recursive: true });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("strata plan", () => {
  it("prints groups, plans and skip reasons", async () => {
    const r = await runStrata(["plan", root, "--replica-label", "replica"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Group 0@\d+ {2}tenant a {2}\{cluster="eu"\}/);
    expect(r.stdout).toMatch(/plan merge: 1970-01-01T00:00:00Z \.\. 1970-01-01T08:00:00Z {2}\(8h range, level 2\)/);
    expect(r.stdout).toMatch(/plan vertical: .*2 blocks overlap/);
    expect(r.stdout).toContain(`skipped ${U(22)}: no-compact-mark.json present`);
    expect(r.stdout).toContain(`skipped ${U(14)}: newest block of the group, held back`);
    expect(r.stdout).toMatch(/Skipped .*: no meta.json \(partial upload\)/);
    expect(r.stdout).toMatch(/2 group\(s\), 2 plan\(s\)\n$/);
  });

  it("prints JSON whose plans parse with PlanSchema", async () => {
    const r = await runStrata(["plan", root, "--json", "--replica-label", "replica"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const plans = j.groups.flatMap((g: { plans: unknown[] }) => g.plans).map((p: unknown) => PlanSchema.parse(p));
    expect(plans.map((p: { kind: string; tenant: string; inputs: string[] }) => [p.tenant, p.kind, p.inputs])).toEqual([
      ["a", "merge", [U(10), U(11), U(12), U(13)]],
      ["b", "vertical", [U(20), U(21)]],
    ]);
    expect(j.skipped).toHaveLength(1);
  });

  it("plans split jobs with --shards", async () => {
    const r = await runStrata(["plan", root, "--json", "--replica-label", "replica", "--shards", "4"]);
    expect(r.code).toBe(0);
    const kinds = JSON.parse(r.stdout).groups.flatMap((g: { plans: { kind: string; shardCount?: number }[] }) =>
      g.plans.map((p) => `${p.kind}:${p.shardCount}`),
    );
    expect(kinds.every((k: string) => k === "split:4")).toBe(true);
  });

  it("usage errors exit 2", async () => {
    expect((await runStrata(["plan"])).code).toBe(2);
    expect((await runStrata(["plan", root, "--ranges", "2x"])).code).toBe(2);
    const r = await runStrata(["plan", root, "--ranges", "2h,5h"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ranges\[1\]/);
  });
});
