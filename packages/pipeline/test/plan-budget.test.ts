// The job budget through the real bindings over a directory bucket: the plan job marks the
// inputs of a job the planner refused as over the budget (no-compact, reason
// strata-job-over-budget, the report as details), logs plan-refused, and plans the rest of
// the window without them in the same round.
import { mkdtemp, rm, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@strata/bucket";
import { StoreBlockSink } from "@strata/bucket";
import {
  BlockWriter,
  Encoding,
  compareLabels,
  compareStrings,
  encodeXOR,
  newUlid,
  parseMarker,
  type BlockMeta,
  type Label,
} from "@strata/tsdb";
import { bindPipeline, handleRecord, jsonLogger, pipelineLayout, type Job, type WorkerDeps } from "@strata/pipeline";

const HOUR = 3_600_000;
const MiB = 2 ** 20;
const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let store: FsStore;
const sent: Job[] = [];
const lines: Record<string, unknown>[] = [];
let deps: WorkerDeps;
const layout = pipelineLayout();

/** A 2h block of `series` series (one 120-sample chunk each). */
async function writeBlock(minT: number, seed: number, series: number): Promise<BlockMeta> {
  const ulid = newUlid(minT + 2 * HOUR, new Uint8Array(10).fill(seed));
  const sink = new StoreBlockSink(store, layout.blockPrefix("team-a", ulid));
  const names = Array.from({ length: series }, (_, i) => String(i).padStart(6, "0"));
  const all: Label[][] = names
    .map((v) => [
      { name: "__name__", value: "up" },
      { name: "i", value: v },
    ])
    .sort(compareLabels);
  const w = new BlockWriter(sink);
  await w.addSymbols(["__name__", "i", "up", ...names].sort(compareStrings));
  const ts = Float64Array.from({ length: 120 }, (_, j) => minT + j * 60_000);
  const vs = Float64Array.from({ length: 120 }, (_, j) => j * seed);
  const chunk = {
    minTime: ts[0]!,
    maxTime: ts[119]!,
    chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 0, 120) },
  };
  for (const s of all) await w.addSeries(s, [chunk]);
  const written = await w.finish({
    ulid,
    minTime: minT,
    maxTime: minT + 2 * HOUR,
    stats: {},
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    thanos: { labels: { cluster: "a" }, source: "sidecar", downsample: { resolution: 0 } },
  });
  await sink.commit();
  return written.meta;
}

const run = (job: Job) => handleRecord(JSON.stringify(job), deps, { messageId: `m-${job.type}` });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-budget-"));
  store = new FsStore(dir);
  // 75 MiB of job memory: a block of 20,000 series needs ~78 MiB alone at the measured
  // bytes per series (cost model, with a 1 MiB page cache), three small blocks ~65 MiB together.
  // The walls are the deployed worker's (15 minutes; 3008 MB less the runtime's 208 MiB).
  const engine = {
    jobBudget: { seconds: 600, memoryBytes: 75 * MiB, limitSeconds: 900, limitMemoryBytes: 2800 * MiB },
    pageCacheBytes: MiB,
  };
  deps = bindPipeline({
    store,
    queue: { send: async (j) => void sent.push(j) },
    log: jsonLogger((l) => lines.push(JSON.parse(l))),
    engine,
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("plan job with a job budget", () => {
  it("marks the inputs of a refused job no-compact with the report and plans the rest of the window", async () => {
    const blocks = [await writeBlock(T0, 1, 20_000)];
    for (let i = 1; i < 5; i++) blocks.push(await writeBlock(T0 + 2 * i * HOUR, i + 1, 3));
    // Each verify plans the group; the last one completes the 8h window.
    for (const m of blocks)
      expect((await run({ version: 1, type: "verify", tenant: "team-a", block: m.ulid })).results[0]!.status).toBe(
        "done",
      );

    const big = blocks[0]!.ulid;
    const mark = parseMarker("no-compact-mark.json", await readFile(join(dir, "team-a", big, "no-compact-mark.json")));
    expect(mark).toMatchObject({ id: big, reason: "strata-job-over-budget" });
    expect((mark as { details?: string }).details).toMatch(
      /alone needs ~\d+ MB of memory \(budget 79 MB\); raise STRATA_JOB_MEMORY to \d+MiB/,
    );
    const refused = lines.filter((l) => l.event === "plan-refused");
    expect(refused).toHaveLength(1);
    expect(JSON.stringify(refused[0])).toContain(big);
    expect(JSON.stringify(refused[0])).toContain("strata-job-over-budget");

    // The rest of the 8h window is planned in the same round, without the refused block; its plan fits.
    const compacts = sent.filter((j) => j.type === "compact");
    expect(compacts).toHaveLength(1);
    const plan = compacts[0]!.type === "compact" ? compacts[0]!.plan : undefined;
    expect(plan!.inputs).toEqual(blocks.slice(1, 4).map((m) => m.ulid));
    expect(plan!.estimate!.peakBytes).toBeLessThanOrEqual(75 * MiB);

    // Planning again finds the mark (the index reads it) and refuses nothing more.
    lines.length = 0;
    sent.length = 0;
    expect((await run({ version: 1, type: "plan", tenant: "team-a" })).results[0]!.status).toBe("done");
    expect(lines.filter((l) => l.event === "plan-refused")).toHaveLength(0);
    // The same plan again (sent, or found already on the queue).
    expect(lines.find((l) => l.event === "planned")).toMatchObject({ compactions: 1, blocks: 5 });
  });
});
