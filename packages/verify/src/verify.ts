/**
 * verifyBlock: every invariant of a TSDB block (tsdb-block-format.md §10) and Thanos'
 * index health checks, collected into one bounded report. Nothing a block's bytes can
 * hold makes it throw: format errors become `reject` problems with file and offset, and
 * anything unexpected becomes CriticalErr.
 */
import type { BlockMeta, BlockSource, ByteSource } from "@strata/tsdb";
import { readIndexHead, type IndexHead } from "./index-head.ts";
import { checkStats, checkThanosFiles, checkTombstones, readMetaChecked } from "./meta-check.ts";
import { checkPostings } from "./postings-check.ts";
import { Code, Problems, SEVERITY, type VerifyReport, type VerifyStats } from "./report.ts";
import { Segments } from "./segments.ts";
import { checkSeries, type SeriesResult } from "./series-check.ts";

import type { VerifyOptions } from "./options.ts";

export type { VerifyOptions };

export function emptyStats(): VerifyStats {
  return {
    indexBytes: 0,
    chunkBytes: 0,
    symbols: 0,
    series: 0,
    chunks: 0,
    samples: 0,
    floatSamples: 0,
    histogramSamples: 0,
    postingsLists: 0,
    tombstoneIntervals: 0,
    seriesMaxSize: 0,
    chunkMaxSize: 0,
    outOfOrderSeries: 0,
  };
}

export async function verifyBlock(source: BlockSource, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const problems = new Problems(opts.maxProblemsPerCode ?? 100);
  const stats = emptyStats();
  const withChunks = opts.chunks ?? true;
  let segs: Segments | undefined;
  let indexSrc: ByteSource | undefined;
  try {
    const meta = await step(problems, "meta.json", () => readMetaChecked(source, opts, problems));
    segs = await step(problems, "chunks", () => Segments.open(source, problems));
    if (segs) stats.chunkBytes = segs.totalBytes;
    indexSrc = await step(problems, "index", async () => {
      const s = await source.tryOpen("index");
      if (!s) problems.add({ code: Code.IndexMissing, file: "index", message: "block has no index file" });
      return s;
    });
    let head: IndexHead | undefined;
    let series: SeriesResult | undefined;
    if (indexSrc) {
      stats.indexBytes = indexSrc.size;
      head = await step(problems, "index", () => readIndexHead(indexSrc!, problems));
    }
    if (head) {
      stats.symbols = head.symbols.length;
      const range = meta && meta.minTime < meta.maxTime ? { minTime: meta.minTime, maxTime: meta.maxTime } : undefined;
      series = await step(problems, "index", () =>
        checkSeries(head!, withChunks ? segs : undefined, range, problems, stats),
      );
      await step(problems, "index", () => checkPostings(head!, series, problems, stats));
    }
    if (stats.chunks > 0 && segs && segs.list.length === 0) {
      problems.add({
        code: Code.NoSegments,
        file: "chunks",
        message: "the index has chunks but chunks/ holds no segment files",
        expected: "≥ 1 segment",
        found: "0",
      });
    }
    const intact = series?.state.intact === true;
    const tombstones = await step(problems, "tombstones", () =>
      checkTombstones(source, intact ? series!.ids : undefined, problems),
    );
    if (tombstones !== undefined) stats.tombstoneIntervals = tombstones;
    if (meta && intact)
      checkStats(meta, stats, withChunks && segs !== undefined && series!.chunksIntact, tombstones, problems);
    if (meta && segs) checkThanosFiles(meta as BlockMeta, segs, indexSrc?.size, problems);
  } catch (e) {
    problems.fromError(e);
  } finally {
    await segs?.close().catch(() => {});
    await indexSrc?.close?.().catch(() => {});
  }
  const ok =
    problems.list.every((p) => p.severity === "warn") &&
    Object.entries(problems.counts).every(([c]) => SEVERITY[c as keyof typeof SEVERITY] === "warn");
  return { block: source.name, ok, problems: problems.list, counts: problems.counts, stats };
}

/** Run one stage; an exception becomes a problem (attributed to `file`) and the stage yields undefined. */
async function step<T>(problems: Problems, file: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    problems.fromError(e, { file });
    return undefined;
  }
}
