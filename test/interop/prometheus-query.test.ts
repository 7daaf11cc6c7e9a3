// A real Prometheus server answers PromQL on Strata-written blocks exactly as
// it does on the promtool-written originals. One server per block set: the
// originals and the rewrites overlap in time, and a server holding both would
// merge them (vertical compaction) instead of serving what we wrote.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JAN_2023_MS, UNIQUE_UNICODE_CITY } from "@strata/testkit/openmetrics";
import { PrometheusServer, sortResult, type PromSample, type QueryData } from "@strata/testkit/prometheus";
import { assertPromtool, listBlocks, makePromtoolFixture, type PromtoolFixture } from "@strata/testkit/promtool";
import { runStrataOk } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";

const MINUTE = 60_000;
const tmp = new TempDirs();
let fx: PromtoolFixture;
const servers: { name: string; server: PrometheusServer }[] = [];
let original: PrometheusServer;
const dirsUsed: string[] = [];

// Data spans 00:17–05:17 UTC on 2023-01-01 (3 blocks).
const START = JAN_2023_MS + 17 * MINUTE;
const END = START + 5 * 60 * MINUTE;
const INSTANTS = [START + 30 * MINUTE, JAN_2023_MS + 2 * 60 * MINUTE, START + 150 * MINUTE, END - MINUTE];

beforeAll(async () => {
  assertPromtool();
  fx = await makePromtoolFixture(tmp, {
    label: "q",
    seed: 31,
    series: 200,
    startMs: START,
    durationMs: END - START,
    intervalMs: 60_000,
  });

  // Rewrite every block, plain and re-encoded, into two block directories.
  const dirs = { rewritten: "", reencoded: "" };
  for (const mode of ["rewritten", "reencoded"] as const) {
    const out = await tmp.make(mode);
    for (const b of fx.blocks) {
      const args = ["rewrite", b.dir, "--out", out];
      if (mode === "reencoded") args.push("--reencode");
      await runStrataOk(args);
    }
    expect((await listBlocks(out)).length).toBe(fx.blocks.length);
    dirs[mode] = out;
  }
  dirsUsed.push(fx.blocksDir, dirs.rewritten, dirs.reencoded);
  const started = await Promise.allSettled([
    PrometheusServer.start(fx.blocksDir),
    PrometheusServer.start(dirs.rewritten),
    PrometheusServer.start(dirs.reencoded),
  ]);
  ["original", "rewritten", "reencoded"].forEach((name, i) => {
    const s = started[i]!;
    if (s.status === "fulfilled") servers.push({ name, server: s.value });
  });
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  original = servers[0]!.server;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.server.stop()));
  await tmp.cleanup();
});

const others = () => servers.slice(1);

/** Runs a query on every server and expects the rewrites to answer like the original. */
async function sameAnswer(run: (s: PrometheusServer) => Promise<QueryData>): Promise<QueryData> {
  const want = sortResult(await run(original));
  for (const { name, server } of others()) {
    expect(sortResult(await run(server)), name).toEqual(want);
  }
  return want;
}

function vector(d: QueryData): PromSample[] {
  expect(d.resultType).toBe("vector");
  return d.result as PromSample[];
}

function matrix(d: QueryData): PromSample[] {
  expect(d.resultType).toBe("matrix");
  return d.result as PromSample[];
}

describe("PromQL on rewritten blocks answers like on the promtool originals", () => {
  it("count of series at several instants, including a block boundary", async () => {
    for (const t of INSTANTS) {
      const v = vector(await sameAnswer((s) => s.query('count({__name__=~".+"})', t)));
      expect(Number(v[0]!.value![1])).toBeGreaterThan(50);
    }
    const byName = vector(await sameAnswer((s) => s.query('count by (__name__) ({__name__=~".+"})', INSTANTS[2]!)));
    expect(byName.length).toBe(fx.gen.families.length);
  });

  it("series listing over the whole range", async () => {
    const want = (await original.series('{__name__=~".+"}', START, END)).map((m) => JSON.stringify(m)).sort();
    expect(want.length).toBe(fx.gen.seriesCount);
    for (const { name, server } of others()) {
      const got = (await server.series('{__name__=~".+"}', START, END)).map((m) => JSON.stringify(m)).sort();
      expect(got, name).toEqual(want);
    }
  });

  it("sum over a metric at an instant and over time", async () => {
    for (const t of INSTANTS) {
      const v = vector(await sameAnswer((s) => s.query("sum(http_requests_total)", t)));
      expect(Number(v[0]!.value![1])).toBeGreaterThan(0);
    }
    const m = matrix(
      await sameAnswer((s) => s.queryRange("sum by (mode) (node_cpu_seconds_total)", START, END, 5 * MINUTE)),
    );
    expect(m.length).toBeGreaterThan(0);
  });

  it("rate() and resets() over counters with resets", async () => {
    const resets = vector(await sameAnswer((s) => s.query("sum(resets(http_requests_total[6h]))", END)));
    expect(Number(resets[0]!.value![1])).toBeGreaterThan(0);
    const rate = matrix(
      await sameAnswer((s) => s.queryRange("rate(http_requests_total[10m])", START, END, 5 * MINUTE)),
    );
    expect(rate.length).toBeGreaterThan(10);
    const total = matrix(
      await sameAnswer((s) => s.queryRange("sum(rate(node_cpu_seconds_total[15m]))", START, END, 7 * MINUTE)),
    );
    expect(total[0]!.values!.length).toBeGreaterThan(10);
  });

  it("a label value outside the BMP selects its series", async () => {
    const sel = fx.gen.unicodeSelector!;
    const m = matrix(await sameAnswer((s) => s.queryRange(sel, START, END, 2 * MINUTE)));
    expect(m.length).toBe(1);
    expect(m[0]!.metric.city).toBe(UNIQUE_UNICODE_CITY);
    expect(m[0]!.values!.length).toBeGreaterThan(10);
    const re = vector(await sameAnswer((s) => s.query('count(count_over_time({city=~".*タワー 🗼"}[6h]))', END)));
    expect(Number(re[0]!.value![1])).toBe(1);
  });

  it("raw samples with NaN, ±Inf, denormals and odd label values", async () => {
    const edge = matrix(await sameAnswer((s) => s.queryRange("edge_values", START, END, MINUTE)));
    const values = new Set(edge.flatMap((x) => x.values!.map((v) => v[1])));
    expect(values.has("NaN")).toBe(true);
    expect(values.has("+Inf")).toBe(true);
    const torture = matrix(await sameAnswer((s) => s.queryRange("label_torture", START, END, 10 * MINUTE)));
    expect(torture.length).toBeGreaterThan(0);
    // A range selector returns the stored samples themselves, timestamps to the ms.
    const raw = matrix(await sameAnswer((s) => s.query("temperature_celsius[1h]", INSTANTS[2]!)));
    expect(raw.length).toBeGreaterThan(0);
  });

  it("left the blocks it was given as they were (no compaction, no retention deletes)", async () => {
    for (let i = 0; i < servers.length; i++) {
      const want = (await listBlocks(dirsUsed[i]!)).map((b) => b.ulid);
      const have = (await listBlocks(servers[i]!.server.dataDir)).map((b) => b.ulid);
      expect(have, servers[i]!.name).toEqual(want);
    }
  });
});
