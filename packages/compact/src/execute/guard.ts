/**
 * Large-index guard: the index format addresses series by 32-bit offset/16 (so at most
 * 64 GiB of index) and frames the symbol table and postings offset table with 32-bit
 * lengths (4 GiB each). The output's sections are bounded by the sums of the inputs'
 * sections (split outputs share the series and postings out between them), so a
 * compaction whose bound crosses a limit is refused before anything is written; the
 * planner avoids that by splitting into shards.
 */
import type { BlockReader } from "@strata/tsdb";

export const INDEX_LIMITS = { total: 64 * 2 ** 30, section: 4 * 2 ** 30 } as const;

export interface IndexLimits {
  total: number;
  section: number;
}

export interface IndexEstimate {
  total: number;
  symbols: number;
  series: number;
  postingsTable: number;
}

/** Upper-bound estimate of one output index's sizes. */
export function estimateOutputIndex(inputs: readonly BlockReader[], shards: number): IndexEstimate {
  let total = 0;
  let symbols = 0;
  let series = 0;
  let postingsTable = 0;
  for (const r of inputs) {
    const toc = r.index.toc;
    const size = r.index.size;
    total += size;
    const seriesRange = r.index.seriesSectionRange();
    series += seriesRange.end - seriesRange.start;
    if (toc.symbols > 0) symbols += Math.max(0, (seriesRange.start || toc.postingsTable) - toc.symbols);
    if (toc.postingsTable > 0) postingsTable += Math.max(0, size - 52 - toc.postingsTable);
  }
  // Symbols go whole to every split output; series and postings divide between them.
  const share = Math.max(1, shards);
  return { total: symbols + (total - symbols) / share, symbols, series: series / share, postingsTable };
}

/** A sentence naming the limit the output would cross, or undefined. */
export function checkIndexLimits(e: IndexEstimate, limits: IndexLimits = INDEX_LIMITS): string | undefined {
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (e.symbols > limits.section)
    return `the output symbol table could reach ${gib(e.symbols)}, over the format's ${gib(limits.section)} per section`;
  if (e.postingsTable > limits.section)
    return `the output postings offset table could reach ${gib(e.postingsTable)}, over the format's ${gib(limits.section)} per section`;
  if (e.series > limits.total)
    return `the output series section could reach ${gib(e.series)}, over the format's ${gib(limits.total)} index limit`;
  if (e.total > limits.total)
    return `the output index could reach ${gib(e.total)}, over the format's ${gib(limits.total)} limit`;
  return undefined;
}
