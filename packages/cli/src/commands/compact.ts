import { mkdir, stat } from "node:fs/promises";
import { compactBlocks, CompactionError, type DedupMode } from "@strata/compact";
import { DirBlockSink, DirBlockSource } from "@strata/tsdb/node";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";

const DEDUP_MODES: readonly DedupMode[] = ["none", "1:1", "penalty"];

export const compactCommand: Command = {
  summary: "compact the given blocks into new block(s); prints each output block's directory",
  usage: "compact <block-dir>... --out <dir> [--dedup none|1:1|penalty] [--replica-label L]... [--shards N] [--json]",
  options: {
    out: { type: "string" },
    dedup: { type: "string" },
    "replica-label": { type: "string", multiple: true },
    shards: { type: "string" },
    json: { type: "boolean" },
  },
  async run(dirs, values) {
    const outDir = values.out as string | undefined;
    if (!outDir) throw new UsageError("--out <dir> is required");
    if (dirs.length === 0) throw new UsageError("at least one block directory is required");
    const dedup = (values.dedup as string | undefined) ?? "1:1";
    if (!DEDUP_MODES.includes(dedup as DedupMode))
      throw new UsageError(`--dedup must be one of ${DEDUP_MODES.join(", ")}, got ${JSON.stringify(dedup)}`);
    const replicaLabels = (values["replica-label"] as string[] | undefined) ?? [];
    if (dedup === "penalty" && replicaLabels.length === 0)
      throw new UsageError("--dedup penalty needs at least one --replica-label (as Thanos' compactor)");
    let shards: number | undefined;
    if (values.shards !== undefined) {
      shards = Number(values.shards);
      if (!Number.isInteger(shards) || shards < 1)
        throw new UsageError(`--shards must be a positive integer, got ${JSON.stringify(values.shards)}`);
    }
    for (const d of dirs) {
      const st = await stat(d).catch(() => undefined);
      if (!st?.isDirectory()) throw new UsageError(`${d}: not a directory`);
    }
    await mkdir(outDir, { recursive: true });

    const sinks: DirBlockSink[] = [];
    const started = performance.now();
    try {
      const r = await compactBlocks(
        dirs.map((d) => new DirBlockSource(d)),
        (_shard, ulid) => {
          const s = new DirBlockSink(outDir, ulid);
          sinks.push(s);
          return s;
        },
        { dedup: dedup as DedupMode, replicaLabels, shards },
      );
      const written: string[] = [];
      for (const o of r.outputs) written.push(await (o.sink as DirBlockSink).commit());
      const seconds = (performance.now() - started) / 1000;
      if (values.json) {
        const report = {
          outputs: r.outputs.map((o, i) => ({
            dir: written[i],
            ulid: o.meta.ulid,
            shard: o.shard,
            minTime: o.meta.minTime,
            maxTime: o.meta.maxTime,
            stats: Object.fromEntries(Object.entries(o.meta.stats).map(([k, v]) => [k, Number(v)])),
          })),
          timings: {
            openMs: round(r.timings.openMs),
            readMs: round(r.timings.readMs),
            mergeMs: round(r.timings.mergeMs),
            writeMs: round(r.timings.writeMs),
            totalMs: round(seconds * 1000),
          },
          peakRssBytes: r.peakRss,
          counters: r.counters,
        };
        process.stdout.write(JSON.stringify(report) + "\n");
      } else {
        for (const w of written) process.stdout.write(w + "\n");
        if (written.length === 0)
          process.stderr.write("strata compact: the inputs hold no samples in range; no block written\n");
      }
    } catch (e) {
      for (const s of sinks) await s.abort().catch(() => {});
      if (e instanceof CompactionError) {
        process.stderr.write(`strata compact: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    return 0;
  },
};

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
