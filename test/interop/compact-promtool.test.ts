// Prometheus reads what `strata compact` writes: blocks made by promtool are compacted by
// us, and `promtool tsdb dump` of the output equals the union of the inputs' dumps (for
// replicas told apart by a `replica` label: the deduplicated set, i.e. one replica's
// dump); `promtool tsdb analyze --extended` accepts every output.
import { writeFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertPromtool,
  createBlocksFromOpenMetrics,
  diffLineMultisets,
  diffLinesOrdered,
  makePromtoolFixture,
  promtoolAnalyze,
  promtoolDump,
  type BlockInfo,
  type PromtoolFixture,
} from "@strata/testkit/promtool";
import { generateOpenMetrics } from "@strata/testkit/openmetrics";
import { runStrata, runStrataOk } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";

const tmp = new TempDirs();
let fx: PromtoolFixture;
let replicaA: BlockInfo[];
let replicaB: BlockInfo[];
let baseDump: string[];
let inputsDump: string[];

/** The same OpenMetrics text with `replica="<r>"` added to every sample's label set. */
function withReplica(text: string, r: string): string {
  return text
    .split("\n")
    .map((l) => (l.startsWith("#") || l === "" ? l : l.replace("{", `{replica="${r}",`)))
    .join("\n");
}

beforeAll(async () => {
  assertPromtool();
  fx = await makePromtoolFixture(tmp, {
    label: "c-varied",
    seed: 41,
    series: 200,
    durationMs: 5 * 3_600_000,
    intervalMs: 30_000,
  });
  const dir = await tmp.make("c-replicas");
  const gen = generateOpenMetrics({ seed: 42, series: 120, durationMs: 3 * 3_600_000, intervalMs: 30_000 });
  const made: BlockInfo[][] = [];
  for (const r of ["a", "b"]) {
    const om = join(dir, `${r}.om`);
    await writeFile(om, withReplica(gen.text, r));
    made.push(await createBlocksFromOpenMetrics(om, join(dir, r)));
  }
  replicaA = made[0]!;
  replicaB = made[1]!;
  const baseOm = join(dir, "base.om");
  await writeFile(baseOm, gen.text);
  const base = await createBlocksFromOpenMetrics(baseOm, join(dir, "base"));
  baseDump = (await Promise.all(base.map((b) => promtoolDump(b.dir)))).flat();
  inputsDump = (await Promise.all(fx.blocks.map((b) => promtoolDump(b.dir)))).flat();
});

afterAll(() => tmp.cleanup());

async function compact(blocks: readonly BlockInfo[], args: string[] = []): Promise<string[]> {
  const out = await tmp.make("c-out");
  const r = await runStrataOk(["compact", ...blocks.map((b) => b.dir), "--out", out, ...args]);
  const dirs = r.stdout.split("\n").filter((l) => l.trim() !== "");
  expect(dirs.length).toBeGreaterThan(0);
  return dirs;
}

describe("strata compact on promtool blocks", () => {
  it("dump of the output equals the union of the inputs' dumps; analyze accepts it", async () => {
    expect(fx.blocks.length).toBe(3);
    const dir = (await compact(fx.blocks))[0]!;
    const dump = await promtoolDump(dir);
    expect(diffLineMultisets(inputsDump, dump)).toBe("");
    const a = await promtoolAnalyze(dir, { extended: true });
    expect(a.series).toBe(fx.gen.seriesCount);
    const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8"));
    expect(meta.compaction.level).toBe(2);
    expect(meta.compaction.sources).toEqual(fx.blocks.map((b) => b.ulid).sort());
    expect(meta.stats.numSamples).toBe(fx.gen.sampleCount);
  });

  it("sharded output: the shards' dumps together are the inputs' union, each shard passes analyze", async () => {
    const dirs = await compact(fx.blocks, ["--shards", "3"]);
    expect(dirs.length).toBe(3);
    const dumps = await Promise.all(dirs.map((d) => promtoolDump(d)));
    expect(diffLineMultisets(inputsDump, dumps.flat())).toBe("");
    for (const d of dirs) await promtoolAnalyze(d);
    const labels = await Promise.all(
      dirs.map(async (d) => JSON.parse(await readFile(join(d, "meta.json"), "utf8")).thanos.labels),
    );
    expect(labels).toEqual([1, 2, 3].map((i) => ({ __compactor_shard_id__: `${i}_of_3` })));
  });

  for (const dedup of ["1:1", "penalty"]) {
    it(`overlapping replicas with --dedup ${dedup} --replica-label replica give one replica's samples`, async () => {
      const dirs = await compact([...replicaA, ...replicaB], ["--dedup", dedup, "--replica-label", "replica"]);
      expect(dirs.length).toBe(1);
      const dump = await promtoolDump(dirs[0]!);
      // One block: promtool prints series in label order, the base blocks' union in any order.
      expect(diffLineMultisets(baseDump, dump)).toBe("");
      expect(diffLinesOrdered([...dump].sort(), [...baseDump].sort())).toBe("");
      await promtoolAnalyze(dirs[0]!, { extended: true });
    });
  }

  it("--json reports outputs, timings and peak memory", async () => {
    const out = await tmp.make("c-json");
    const r = await runStrataOk(["compact", fx.blocks[0]!.dir, fx.blocks[1]!.dir, "--out", out, "--json"]);
    const j = JSON.parse(r.stdout);
    expect(j.outputs).toHaveLength(1);
    expect(j.outputs[0].dir.startsWith(out)).toBe(true);
    expect(Object.keys(j.timings)).toEqual(["openMs", "readMs", "mergeMs", "writeMs", "totalMs"]);
    expect(j.peakRssBytes).toBeGreaterThan(1 << 20);
  });

  it("usage errors exit 2 and name the problem", async () => {
    const out = await tmp.make("c-bad");
    await mkdir(join(out, "x"), { recursive: true });
    const r1 = await runStrata(["compact", fx.blocks[0]!.dir, "--out", out, "--dedup", "penalty"]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/--replica-label/);
    const r2 = await runStrata(["compact", fx.blocks[0]!.dir, "--out", out, "--shards", "0"]);
    expect(r2.code).toBe(2);
    const r3 = await runStrata(["compact", fx.blocks[0]!.dir, fx.blocks[0]!.dir, "--out", out]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/given twice/);
  });
});
