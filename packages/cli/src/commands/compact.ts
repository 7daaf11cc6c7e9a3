import { compactBlocks, CompactionError, type DedupMode } from "@strata/compact";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { BlockArgs, inBlock } from "../block-args.ts";
import { openBlockOutput, type OutputSink } from "../block-out.ts";

const DEDUP_MODES: readonly DedupMode[] = ["none", "1:1", "penalty"];

export const compactCommand: Command = {
  summary: "compact the given blocks into new block(s); prints each output block's directory",
  usage:
    "compact <block-dir|block-url>... --out <dir|bucket-url/tenant> [--dedup none|1:1|penalty] [--replica-label L]... [--shards N] [--json]",
  options: {
    out: { type: "string" },
    dedup: { type: "string" },
    "replica-label": { type: "string", multiple: true },
    shards: { type: "string" },
    json: { type: "boolean" },
  },
  optionHelp: {
    out: "where the new block(s) go: a directory, or a tenant in a bucket (s3://bucket[/prefix]/<tenant>, file:///path/<tenant>)",
    dedup:
      "how overlapping series merge: 1:1 (default) or none, Prometheus' merge (one sample per timestamp, the earliest input's), or penalty, Thanos' HA dedup (needs --replica-label)",
    "replica-label": "an external label that tells HA replicas apart (repeat for several); the output is without it",
    shards: "split the output into N blocks by series hash (Mimir's split-and-merge; __compactor_shard_id__ label)",
    json: "one JSON line: each output (where, ULID, shard, time range, stats), timings, peak RSS",
  },
  details: async () =>
    [
      "Compacts exactly the blocks given, in one job; each is a directory or a block URL",
      "(s3://bucket[/prefix]/<tenant>/<ULID>, file:///path/<tenant>/<ULID>; __root__ is the tenant of blocks at",
      "the bucket root), read in place with ranged GETs through one page cache shared by the inputs. Into a bucket",
      "each output streams straight to the store, meta.json last, and its URL is printed.",
      "",
      "Examples:",
      "  strata compact ./data/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 ./data/01JB3YD1R0WQ4KX6S2N8C5T7V9 --out ./compacted",
      "  strata compact s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 s3://metrics/team-a/01JB3YD1R0WQ4KX6S2N8C5T7V9 \\",
      "    --dedup penalty --replica-label replica --out s3://metrics/team-a",
    ].join("\n"),
  run: async (dirs, values) => {
    const outArg = values.out as string | undefined;
    if (!outArg) throw new UsageError("--out <dir|bucket-url/tenant> is required");
    if (dirs.length === 0) throw new UsageError("at least one block directory or block URL is required");
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
    // One job: its inputs share one page cache (RangeCache.forJob), as the pipeline's compactions.
    const args = new BlockArgs({ inputs: dirs.length, progress: "compacting" });
    try {
      const inputs = [];
      for (const d of dirs) inputs.push(await args.open(d));
      const out = await openBlockOutput(outArg);
      try {
        // Which input a FormatError is in is known only when there is one.
        const only = inputs.length === 1 ? inputs[0]!.name : undefined;
        return await compact(
          inputs.map((i) => i.source),
          out.sink.bind(out),
          { dedup: dedup as DedupMode, replicaLabels, shards },
          values.json === true,
          () => args.endProgress(),
        ).catch((e: unknown) => {
          throw only === undefined ? e : inBlock(only, e);
        });
      } finally {
        await out.close();
      }
    } finally {
      await args.close();
    }
  },
};

/** Runs the compaction and prints its outputs; a failure removes the outputs not yet committed. */
async function compact(
  sources: Parameters<typeof compactBlocks>[0],
  newSink: (ulid: string) => OutputSink,
  opts: Parameters<typeof compactBlocks>[2],
  json: boolean,
  beforeOutput: () => void,
): Promise<number> {
  const pending = new Set<OutputSink>();
  const started = performance.now();
  try {
    const r = await compactBlocks(
      sources,
      (_shard, ulid) => {
        const s = newSink(ulid);
        pending.add(s);
        return s;
      },
      opts,
    );
    const written: string[] = [];
    for (const o of r.outputs) {
      const sink = o.sink as OutputSink;
      written.push(await sink.commit());
      pending.delete(sink);
    }
    beforeOutput();
    const seconds = (performance.now() - started) / 1000;
    if (json) {
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
    // Committed outputs are whole blocks and stay; an abort would delete them file by file.
    for (const s of pending) await s.abort().catch(() => {});
    if (e instanceof CompactionError) {
      process.stderr.write(`strata compact: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return 0;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
