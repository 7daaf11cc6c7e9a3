import { blockResolution, encodingName, chunkSamples, METRIC_NAME, type BlockMeta } from "@strata/tsdb";
import { UsageError, type Command } from "../command.ts";
import { inBlock, openBlockReader } from "../block-args.ts";

interface EncodingStats {
  chunks: number;
  bytes: number;
  samples: number;
  minBytes: number;
  maxBytes: number;
}

export interface InspectReport {
  /** The block as named on the command line: its directory, or its URL. */
  dir: string;
  meta: unknown;
  index: { version: number; bytes: number; symbols: number; labelNames: number; postingsLists: number };
  segments: { name: string; bytes: number }[];
  stats: { series: number; chunks: number; samples: number; tombstoneIntervals: number };
  encodings: Record<string, EncodingStats & { avgBytes: number; avgSamplesPerChunk: number }>;
  labels: { name: string; values: number; series: number }[];
  metrics: { name: string; series: number }[];
}

export const inspectCommand: Command = {
  summary: "show a block's meta, stats, label cardinalities and chunk encodings",
  usage: "inspect <block-dir|block-url> [--json] [--top N]",
  options: { json: { type: "boolean" }, top: { type: "string" } },
  optionHelp: {
    json: "the whole report as one JSON object",
    top: "how many label names and metrics to list (default 20)",
  },
  details: async () =>
    [
      "The block is a directory or a block URL, read in place with ranged GETs:",
      "s3://bucket[/prefix]/<tenant>/<ULID> or file:///path/<tenant>/<ULID> (__root__ is the",
      "tenant of blocks at the bucket root; S3 endpoint and credentials from the AWS_* environment).",
      "",
      "Examples:",
      "  strata inspect ./data/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --top 5",
      "  strata inspect s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --json",
    ].join("\n"),
  run: async ([dir, ...extra], values) => {
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const top = values.top === undefined ? 20 : Number(values.top);
    if (!Number.isSafeInteger(top) || top < 0)
      throw new UsageError(`--top must be a non-negative integer, got ${JSON.stringify(values.top)}`);
    const report = await inspectBlock(dir);
    if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else process.stdout.write(renderReport(report, top));
    return 0;
  },
};

/** Reads the whole block (a directory or a block URL) once: stats, encodings, cardinalities. */
export async function inspectBlock(arg: string | undefined): Promise<InspectReport> {
  const { reader: block, name, close } = await openBlockReader(arg);
  try {
    const encodings = new Map<number, EncodingStats>();
    const seriesPerName = new Map<string, number>();
    const seriesPerMetric = new Map<string, number>();
    let series = 0;
    let chunks = 0;
    let samples = 0;
    for await (const s of block.series()) {
      series++;
      for (const l of s.labels) {
        seriesPerName.set(l.name, (seriesPerName.get(l.name) ?? 0) + 1);
        if (l.name === METRIC_NAME) seriesPerMetric.set(l.value, (seriesPerMetric.get(l.value) ?? 0) + 1);
      }
      for (const c of s.chunks) {
        const chunk = c.chunk!;
        chunks++;
        const n = chunkSamples(chunk);
        samples += n;
        let e = encodings.get(chunk.encoding);
        if (!e)
          encodings.set(chunk.encoding, (e = { chunks: 0, bytes: 0, samples: 0, minBytes: Infinity, maxBytes: 0 }));
        e.chunks++;
        e.samples += n;
        e.bytes += chunk.data.length;
        if (chunk.data.length < e.minBytes) e.minBytes = chunk.data.length;
        if (chunk.data.length > e.maxBytes) e.maxBytes = chunk.data.length;
      }
    }
    const idx = block.index;
    const labels = idx
      .labelNames()
      .map((name) => ({ name, values: idx.labelValues(name).length, series: seriesPerName.get(name) ?? 0 }))
      .sort((a, b) => b.values - a.values || (a.name < b.name ? -1 : 1));
    const metrics = [...seriesPerMetric]
      .map(([name, n]) => ({ name, series: n }))
      .sort((a, b) => b.series - a.series || (a.name < b.name ? -1 : 1));
    const enc: InspectReport["encodings"] = {};
    for (const [k, e] of [...encodings].sort((a, b) => a[0] - b[0])) {
      enc[encodingName(k)] = {
        ...e,
        avgBytes: e.chunks ? e.bytes / e.chunks : 0,
        avgSamplesPerChunk: e.chunks ? e.samples / e.chunks : 0,
      };
    }
    return {
      dir: name,
      meta: jsonSafe(block.meta),
      index: {
        version: idx.version,
        bytes: idx.size,
        symbols: idx.symbols.length,
        labelNames: labels.length,
        postingsLists: idx.postingsOffsets().length,
      },
      segments: block.chunks.segments.map((s) => ({ name: s.name, bytes: s.size })),
      stats: { series, chunks, samples, tombstoneIntervals: block.tombstones.total() },
      encodings: enc,
      labels,
      metrics,
    };
  } catch (e) {
    throw inBlock(name, e);
  } finally {
    await close();
  }
}

/** meta.json values with bigints as numbers where exact, else as strings. */
function jsonSafe(meta: BlockMeta): unknown {
  return JSON.parse(
    JSON.stringify(meta, (_k, v) =>
      typeof v === "bigint" ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v,
    ),
  );
}

const fmtBytes = (n: number) =>
  n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
const fmtTime = (ms: number) => new Date(ms).toISOString();

function renderReport(r: InspectReport, top: number): string {
  const m = r.meta as {
    ulid: string;
    minTime: number;
    maxTime: number;
    compaction: { level: number; sources?: string[] };
    stats: Record<string, number>;
    thanos?: { labels?: Record<string, string>; downsample?: { resolution: number } };
  };
  const out: string[] = [];
  out.push(`Block ${m.ulid}  (${r.dir})`);
  out.push(
    `  time range   ${fmtTime(m.minTime)} .. ${fmtTime(m.maxTime)}  (${((m.maxTime - m.minTime) / 3_600_000).toFixed(2)}h)`,
  );
  out.push(`  compaction   level ${m.compaction.level}, ${m.compaction.sources?.length ?? 0} source(s)`);
  if (m.thanos) {
    out.push(`  thanos       labels ${JSON.stringify(m.thanos.labels ?? {})}, resolution ${blockResolution(m)}ms`);
  }
  out.push(
    `  meta stats   ${Object.entries(m.stats)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  );
  out.push(
    `  read stats   series=${r.stats.series} chunks=${r.stats.chunks} samples=${r.stats.samples} tombstones=${r.stats.tombstoneIntervals}`,
  );
  out.push(
    `  index        v${r.index.version}, ${fmtBytes(r.index.bytes)}, ${r.index.symbols} symbols, ${r.index.labelNames} label names, ${r.index.postingsLists} postings lists`,
  );
  out.push(`  segments     ${r.segments.map((s) => `${s.name} (${fmtBytes(s.bytes)})`).join(", ") || "none"}`);
  out.push("", "Chunk encodings:");
  out.push(
    `  ${"encoding".padEnd(16)}${"chunks".padStart(10)}${"samples".padStart(14)}${"bytes".padStart(14)}${"avg B".padStart(9)}${"min B".padStart(8)}${"max B".padStart(8)}${"smp/chk".padStart(9)}`,
  );
  for (const [name, e] of Object.entries(r.encodings)) {
    out.push(
      `  ${name.padEnd(16)}${String(e.chunks).padStart(10)}${String(e.samples).padStart(14)}${String(e.bytes).padStart(14)}${e.avgBytes.toFixed(1).padStart(9)}${String(e.minBytes).padStart(8)}${String(e.maxBytes).padStart(8)}${e.avgSamplesPerChunk.toFixed(1).padStart(9)}`,
    );
  }
  out.push("", `Label names by number of values (top ${top}):`);
  for (const l of r.labels.slice(0, top))
    out.push(`  ${l.name.padEnd(40)} ${String(l.values).padStart(8)} values ${String(l.series).padStart(9)} series`);
  out.push("", `Metrics by number of series (top ${top}):`);
  for (const x of r.metrics.slice(0, top)) out.push(`  ${x.name.padEnd(40)} ${String(x.series).padStart(9)} series`);
  return out.join("\n") + "\n";
}
