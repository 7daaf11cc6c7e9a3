// `strata plan <dir> --json` shows each plan's cost-model estimate and the jobs refused as
// over the job budget (`--job-budget`, `--job-memory`; defaults: the pipeline's).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeMeta } from "@strata/tsdb";
import { PlanSchema } from "@strata/compact";
import { runStrata } from "@strata/testkit/cli";
import { m, U } from "./plan-fixtures.ts";

const H = 3_600_000;
let root: string;

/** A 2h block whose meta says it holds `gb` GB of chunks. */
async function put(id: number, i: number, gb: number) {
  const b = m(id, i * 2 * H, (i + 1) * 2 * H, { labels: { cluster: "eu" }, series: 10_000, indexBytes: 50 << 20 });
  b.meta.thanos!.files!.push({ rel_path: "chunks/000001", size_bytes: gb * 1e9 });
  b.meta.stats.numSamples = BigInt(gb * 5e8);
  const d = join(root, "a", b.meta.ulid);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, "meta.json"), serializeMeta(b.meta, { style: "thanos" }));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "strata-plan-budget-"));
  // An 8h window whose first block (12 GB) cannot be compacted in 10 minutes, and a newer block.
  await put(10, 0, 12);
  for (let i = 1; i < 5; i++) await put(10 + i, i, 1);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("strata plan and the job budget", () => {
  it("--json: each plan's estimate, and the refused job with its report", async () => {
    const r = await runStrata(["plan", root, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.refused).toHaveLength(1);
    expect(j.refused[0]).toMatchObject({ blocks: [U(10)], setting: "STRATA_JOB_BUDGET=15m" });
    expect(j.refused[0].reason).toMatch(/needs ~1[01]m \(budget 10m\)/);
    expect(j.refused[0].estimate.seconds).toBeGreaterThan(600);
    expect(j.groups[0].refused).toEqual(j.refused);

    const wide = await runStrata(["plan", root, "--json", "--job-budget", "15m"]);
    const plans = JSON.parse(wide.stdout)
      .groups.flatMap((g: { plans: unknown[] }) => g.plans)
      .map((p: unknown) => PlanSchema.parse(p));
    expect(plans).toHaveLength(1);
    expect(plans[0].inputs).toEqual([U(10), U(11), U(12), U(13)]);
    expect(plans[0].estimate.seconds).toBeLessThanOrEqual(900);
    expect(plans[0].estimate.readBytes).toBeGreaterThan(14e9);
  });

  it("prints estimates and refusals; bad budgets are usage errors", async () => {
    const r = await runStrata(["plan", root]);
    expect(r.stdout).toContain(`refused ${U(10)}: block ${U(10)} alone needs`);
    expect(r.stdout).toMatch(/1 group\(s\), 0 plan\(s\), 1 refused as over the job budget\n$/);
    const ok = await runStrata(["plan", root, "--job-budget", "15m"]);
    expect(ok.stdout).toMatch(/plan merge: .*\[est\. ~\d+m, [\d.]+ GB in, peak \d+ MB\]/);
    const bad = await runStrata(["plan", root, "--job-budget", "1h"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--job-budget: 1h is past the worker's 15-minute timeout");
  });
});
