import { beforeAll, describe, expect, it } from "vitest";
import {
  BlockReader,
  EMPTY_TOMBSTONES,
  MemoryBlock,
  labelsFrom,
  labelsToString,
  readMeta,
  type BlockMeta,
} from "@strata/tsdb";
import { compactBlocks, CompactionError, shardOf, COMPACTOR_SHARD_ID_LABEL } from "../src/index.ts";
import { compactInMemory, dumpBlock, memBlock, setTombstones, type SeriesSpec } from "../bench/blocks.ts";

const H2 = 2 * 3600_000;
const T0 = 1_700_006_400_000; // a multiple of 2h

/** 10 series, 15 s scrapes over [from, to). */
function seriesSet(from: number, to: number, extra: Record<string, string> = {}, n = 10): SeriesSpec[] {
  const out: SeriesSpec[] = [];
  for (let s = 0; s < n; s++) {
    const samples: [number, number][] = [];
    for (let t = from; t < to; t += 15_000) samples.push([t, s * 1000 + (t - T0) / 15_000]);
    out.push({ labels: { __name__: s % 2 ? "up" : "requests_total", instance: `host-${s}`, ...extra }, samples });
  }
  return out;
}

const run = compactInMemory;

describe("compactBlocks: three adjacent 2h blocks", () => {
  let inputs: MemoryBlock[];
  let metas: BlockMeta[];
  beforeAll(async () => {
    inputs = [];
    for (let i = 0; i < 3; i++)
      inputs.push(
        await memBlock(seriesSet(T0 + i * H2, T0 + (i + 1) * H2), { minTime: T0 + i * H2, maxTime: T0 + (i + 1) * H2 }),
      );
    metas = await Promise.all(inputs.map((b) => readMeta(b)));
  });

  it("copies every chunk byte for byte and writes Prometheus' meta", async () => {
    const r = await run(inputs, { ulid: "01JC0MPACTED00000000000000" });
    expect(r.outputs.length).toBe(1);
    const out = await dumpBlock(r.blocks[0]!);
    const ins = await Promise.all(inputs.map((b) => dumpBlock(b)));
    expect(out.length).toBe(10);
    for (const s of out) {
      const expected = ins.flatMap((d) => d.find((x) => x.labels === s.labels)!.chunks);
      expect(s.chunks).toEqual(expected);
    }
    expect(r.counters).toMatchObject({ decodedChunks: 0, encodedChunks: 0, trimmedChunks: 0 });
    const meta = r.outputs[0]!.meta;
    expect(meta.ulid).toBe("01JC0MPACTED00000000000000");
    expect(meta.minTime).toBe(T0);
    expect(meta.maxTime).toBe(T0 + 3 * H2);
    expect(meta.compaction.level).toBe(2);
    expect(meta.compaction.sources).toEqual(metas.map((m) => m.ulid).sort());
    expect(meta.compaction.parents).toEqual(
      metas.map((m) => ({ ulid: m.ulid, minTime: m.minTime, maxTime: m.maxTime })),
    );
    expect(meta.stats.numSamples).toBe(BigInt(10 * 3 * 480));
    expect(meta.stats.numSeries).toBe(10n);
    expect(meta.stats.numChunks).toBe(BigInt(10 * 3 * 4));
    expect(meta.thanos).toBeUndefined();
    expect(r.blocks[0]!.files.get("tombstones")).toEqual(EMPTY_TOMBSTONES);
    // The file on "disk" is Prometheus' style (no thanos key) and parses back to the same meta.
    expect(await readMeta(r.blocks[0]!)).toMatchObject({
      ulid: meta.ulid,
      minTime: meta.minTime,
      maxTime: meta.maxTime,
      compaction: meta.compaction,
    });
    expect(new TextDecoder().decode(r.blocks[0]!.files.get("meta.json"))).not.toContain("thanos");
    expect(r.timings.readMs + r.timings.mergeMs + r.timings.writeMs).toBeGreaterThan(0);
    expect(r.peakRss).toBeGreaterThan(0);
  });

  it("trims to the output range, re-encoding only the chunks the boundary cuts", async () => {
    const from = T0 + H2 + 10 * 60_000;
    const r = await run(inputs, { outputRange: { minTime: from, maxTime: T0 + 2 * H2 } });
    const out = await dumpBlock(r.blocks[0]!);
    for (const s of out) {
      expect(s.samples[0]![0]).toBe(from);
      expect(s.samples[s.samples.length - 1]![0]).toBe(T0 + 2 * H2 - 15_000);
      expect(s.samples.length).toBe(480 - 40);
    }
    expect(r.counters.trimmedChunks).toBe(10);
    expect(r.outputs[0]!.meta.minTime).toBe(from);
  });

  it("applies tombstones", async () => {
    const b = await memBlock(seriesSet(T0, T0 + H2), { minTime: T0, maxTime: T0 + H2 });
    await setTombstones(b, [
      { labels: { __name__: "up", instance: "host-1" }, intervals: [{ mint: T0 + 60_000, maxt: T0 + 120_000 }] },
    ]);
    const r = await run([b, inputs[1]!]);
    const s = (await dumpBlock(r.blocks[0]!)).find((x) => x.labels === '{__name__="up", instance="host-1"}')!;
    expect(s.samples.length).toBe(960 - 5);
    expect(s.samples.some(([t]) => t >= T0 + 60_000 && t <= T0 + 120_000)).toBe(false);
    expect(r.blocks[0]!.files.get("tombstones")).toEqual(EMPTY_TOMBSTONES);
  });

  it("writes no block when nothing survives", async () => {
    const b = await memBlock(seriesSet(T0, T0 + H2, {}, 1), { minTime: T0, maxTime: T0 + H2 });
    await setTombstones(b, [
      { labels: { __name__: "requests_total", instance: "host-0" }, intervals: [{ mint: T0, maxt: T0 + H2 }] },
    ]);
    const r = await run([b]);
    expect(r.outputs).toEqual([]);
  });

  it("splits into shards by series hash, the same way on every run", async () => {
    const many = [await memBlock(seriesSet(T0, T0 + H2, {}, 40), { minTime: T0, maxTime: T0 + H2 })];
    const a = await run(many, { shards: 4 });
    const b = await run(many, { shards: 4 });
    const assign = async (r: typeof a) => {
      const m = new Map<string, number>();
      for (let i = 0; i < r.blocks.length; i++)
        for (const s of await dumpBlock(r.blocks[i]!)) m.set(s.labels, r.outputs[i]!.shard);
      return m;
    };
    const ma = await assign(a);
    expect(ma.size).toBe(40);
    expect([...ma]).toEqual([...(await assign(b))]);
    for (const s of seriesSet(T0, T0 + H2, {}, 40)) {
      const ls = labelsFrom(s.labels);
      expect(ma.get(labelsToString(ls))).toBe(shardOf(ls, 4));
    }
    expect(new Set(ma.values()).size).toBeGreaterThan(1);
    for (const o of a.outputs) {
      expect(o.meta.thanos?.labels).toEqual({ [COMPACTOR_SHARD_ID_LABEL]: `${o.shard + 1}_of_4` });
      expect(o.meta.thanos?.source).toBe("compactor");
    }
  });

  it("onlyShards writes just the listed shards, each as the full split writes it (a retried split job)", async () => {
    const many = [await memBlock(seriesSet(T0, T0 + H2, {}, 40), { minTime: T0, maxTime: T0 + H2 })];
    const full = await run(many, { shards: 4 });
    const some = await run(many, { shards: 4, onlyShards: new Set([1, 3]) });
    expect(some.outputs.map((o) => o.shard)).toEqual([1, 3]);
    for (const o of some.outputs) {
      const twin = full.outputs.findIndex((f) => f.shard === o.shard);
      expect(await dumpBlock(o.sink as MemoryBlock)).toEqual(await dumpBlock(full.blocks[twin]!));
      expect(o.meta.thanos?.labels).toEqual({ [COMPACTOR_SHARD_ID_LABEL]: `${o.shard + 1}_of_4` });
    }
    expect(some.counters.seriesWritten).toBe(
      full.outputs.filter((o) => o.shard % 2 === 1).reduce((n, o) => n + Number(o.meta.stats.numSeries), 0),
    );
  });
});

describe("compactBlocks: replicas and Thanos metadata", () => {
  const thanos = (replica: string) => ({
    labels: { cluster: "eu", replica },
    downsample: { resolution: 0 },
    source: "sidecar",
  });

  it("vertical compaction of replicas named by an external label, Thanos meta out", async () => {
    const a = await memBlock(seriesSet(T0, T0 + H2), { minTime: T0, maxTime: T0 + H2, thanos: thanos("a") });
    const shifted = seriesSet(T0 + 5_000, T0 + H2).map((s) => ({
      ...s,
      samples: s.samples!.map(([t, v]) => [t, v + 0.5] as [number, number]),
    }));
    const b = await memBlock(shifted, { minTime: T0, maxTime: T0 + H2, thanos: thanos("b") });
    const r = await run([a, b], { dedup: "penalty", replicaLabels: ["replica"] });
    const out = await dumpBlock(r.blocks[0]!);
    const ins = await dumpBlock(a);
    // Replica A starts first and never has a gap: penalty dedup keeps exactly A.
    expect(out.map((s) => s.samples)).toEqual(ins.map((s) => s.samples));
    const t = r.outputs[0]!.meta.thanos!;
    expect(t.labels).toEqual({ cluster: "eu" });
    expect(t.source).toBe("compactor");
    expect(t.downsample).toEqual({ resolution: 0 });
    expect(t.files?.map((f) => f.rel_path)).toEqual(["chunks/000001", "index", "meta.json"]);
    expect(t.index_stats?.series_max_size).toBeGreaterThan(0);
  });

  it("1:1 dedup of replicas named by a series label, both in one block and across blocks", async () => {
    const base = seriesSet(T0, T0 + H2);
    const withReplica = (r: string) => base.map((s) => ({ ...s, labels: { ...s.labels, replica: r } }));
    const ab = await memBlock([...withReplica("a"), ...withReplica("b")], { minTime: T0, maxTime: T0 + H2 });
    const c = await memBlock(withReplica("c"), { minTime: T0, maxTime: T0 + H2 });
    const r = await run([ab, c], { dedup: "1:1", replicaLabels: ["replica"] });
    const out = await dumpBlock(r.blocks[0]!);
    const expected = await dumpBlock(await memBlock(base, { minTime: T0, maxTime: T0 + H2 }));
    expect(out.map((s) => [s.labels, s.samples])).toEqual(expected.map((s) => [s.labels, s.samples]));
    expect(r.counters.duplicateChunks).toBe(10 * 4 * 2);
    expect(r.counters.decodedChunks).toBe(0);
  });

  it("marks a stream left without external labels as deduplicated, as Thanos does", async () => {
    const only = { labels: { replica: "a" }, downsample: { resolution: 0 } };
    const a = await memBlock(seriesSet(T0, T0 + H2, {}, 1), { minTime: T0, maxTime: T0 + H2, thanos: only });
    const r = await run([a], { replicaLabels: ["replica"] });
    expect(r.outputs[0]!.meta.thanos?.labels).toEqual({ replica: "deduped" });
  });
});

describe("compactBlocks: refusals before writing", () => {
  it("refuses inputs of different resolutions, streams or duplicate blocks", async () => {
    const a = await memBlock(seriesSet(T0, T0 + H2, {}, 1), {
      minTime: T0,
      maxTime: T0 + H2,
      thanos: { labels: { x: "1" }, downsample: { resolution: 0 } },
    });
    const b = await memBlock(seriesSet(T0, T0 + H2, {}, 1), {
      minTime: T0,
      maxTime: T0 + H2,
      thanos: { labels: { x: "1" }, downsample: { resolution: 300_000 } },
    });
    const c = await memBlock(seriesSet(T0, T0 + H2, {}, 1), {
      minTime: T0,
      maxTime: T0 + H2,
      thanos: { labels: { x: "2" }, downsample: { resolution: 0 } },
    });
    let created = 0;
    const sinks = () => {
      created++;
      return new MemoryBlock();
    };
    await expect(compactBlocks([a, b], sinks)).rejects.toThrow(/different resolutions/);
    await expect(compactBlocks([a, c], sinks)).rejects.toThrow(/different streams/);
    await expect(compactBlocks([a, a], sinks)).rejects.toThrow(/given twice/);
    expect(created).toBe(0);
  });

  it("refuses when the output index could exceed the format's limits", async () => {
    const a = await memBlock(seriesSet(T0, T0 + H2, {}, 50), { minTime: T0, maxTime: T0 + H2 });
    const r = await BlockReader.open(a);
    const size = r.index.size;
    await r.close();
    let created = 0;
    const sinks = () => {
      created++;
      return new MemoryBlock();
    };
    const err = await compactBlocks([a], sinks, { indexLimits: { total: size / 2, section: 2 ** 30 } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CompactionError);
    expect(String(err)).toMatch(/index could reach .* split the job into shards/);
    const err2 = await compactBlocks([a], sinks, { indexLimits: { total: 2 ** 40, section: 10 } }).catch(
      (e: unknown) => e,
    );
    expect(String(err2)).toMatch(/symbol table could reach/);
    expect(created).toBe(0);
    // Four shards share the series out and fit.
    const ok = await compactBlocks([a], () => new MemoryBlock(), {
      shards: 4,
      indexLimits: { total: size / 2, section: 2 ** 30 },
    });
    expect(ok.outputs.length).toBeGreaterThan(1);
  });
});
