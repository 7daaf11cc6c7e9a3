import {
  AggrType,
  Encoding,
  decodeAggrChunk,
  decodeXOR,
  encodingName,
  floatHistogramToString,
  formatGoFloat,
  histogramToString,
  isDeleted,
  labelsToString,
  xorNumSamples,
  FloatHistogramIterator,
  HistogramIterator,
  type Chunk,
  type Interval,
} from "@strata/tsdb";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { inBlock, openBlockReader } from "../block-args.ts";
import { Output } from "../output.ts";

const AGGREGATES = {
  count: AggrType.Count,
  sum: AggrType.Sum,
  min: AggrType.Min,
  max: AggrType.Max,
  counter: AggrType.Counter,
} as const;

export const dumpCommand: Command = {
  summary: "print every sample of a block, as `promtool tsdb dump` does ({labels} value timestamp)",
  usage: "dump <block-dir|block-url> [--aggregate count|sum|min|max|counter]",
  options: { aggregate: { type: "string" } },
  optionHelp: {
    aggregate:
      "which aggregate of a downsampled block's chunks to print (count, sum, min, max or counter); without it aggregate chunks are skipped",
  },
  details: async () =>
    [
      "The block is a directory or a block URL, read in place with ranged GETs:",
      "s3://bucket[/prefix]/<tenant>/<ULID> or file:///path/<tenant>/<ULID> (__root__ is the",
      "tenant of blocks at the bucket root; S3 endpoint and credentials from the AWS_* environment).",
      "Output stops quietly when the reader goes away (strata dump … | head).",
      "",
      "Examples:",
      "  strata dump ./data/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 | head",
      "  strata dump s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --aggregate max",
    ].join("\n"),
  run: async ([dir, ...extra], values) => {
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const aggName = values.aggregate as string | undefined;
    if (aggName !== undefined && !(aggName in AGGREGATES))
      throw new UsageError(`--aggregate must be one of ${Object.keys(AGGREGATES).join(", ")}`);
    const aggregate = aggName === undefined ? undefined : AGGREGATES[aggName as keyof typeof AGGREGATES];
    const { reader: block, name, close } = await openBlockReader(dir);
    const out = new Output();
    const dec = new SampleDecoder();
    const skipped = new Map<string, number>();
    try {
      for await (const s of block.series()) {
        if (out.isClosed) break;
        const ls = labelsToString(s.labels);
        for (const cm of s.chunks) {
          let chunk = cm.chunk!;
          if (chunk.encoding === Encoding.Aggr) {
            if (aggregate === undefined) {
              skipped.set("aggr (use --aggregate)", (skipped.get("aggr (use --aggregate)") ?? 0) + 1);
              continue;
            }
            const part = decodeAggrChunk(chunk.data)[aggregate];
            if (!part) continue;
            chunk = part;
          }
          const printed = await dec.print(chunk, ls, s.deleted, out);
          if (!printed) skipped.set(encodingName(chunk.encoding), (skipped.get(encodingName(chunk.encoding)) ?? 0) + 1);
        }
      }
      await out.flush();
    } catch (e) {
      throw inBlock(name, e);
    } finally {
      await close();
    }
    for (const [enc, n] of skipped) process.stderr.write(`strata dump: skipped ${n} chunk(s) with encoding ${enc}\n`);
    return 0;
  },
};

/** Decodes chunks into reusable buffers and prints their samples. */
class SampleDecoder {
  private ts = new Float64Array(256);
  private vs = new Float64Array(256);
  private hist = new HistogramIterator();
  private fhist = new FloatHistogramIterator();

  /** Returns false when the encoding cannot be printed. */
  async print(chunk: Chunk, ls: string, deleted: readonly Interval[] | undefined, out: Output): Promise<boolean> {
    switch (chunk.encoding) {
      case Encoding.XOR: {
        const n = xorNumSamples(chunk.data);
        if (n > this.ts.length) {
          this.ts = new Float64Array(n);
          this.vs = new Float64Array(n);
        }
        const got = decodeXOR(chunk.data, this.ts, this.vs);
        for (let i = 0; i < got; i++) {
          const t = this.ts[i]!;
          if (deleted && isDeleted(deleted, t)) continue;
          await out.line(`${ls} ${formatGoFloat(this.vs[i]!)} ${t}`);
        }
        return true;
      }
      case Encoding.Histogram: {
        const it = this.hist;
        it.reset(chunk.data);
        while (it.next()) {
          if (deleted && isDeleted(deleted, it.t)) continue;
          await out.line(`${ls} ${histogramToString(it.h)} ${it.t}`);
        }
        return true;
      }
      case Encoding.FloatHistogram: {
        const it = this.fhist;
        it.reset(chunk.data);
        while (it.next()) {
          if (deleted && isDeleted(deleted, it.t)) continue;
          await out.line(`${ls} ${floatHistogramToString(it.h)} ${it.t}`);
        }
        return true;
      }
      default:
        return false;
    }
  }
}
