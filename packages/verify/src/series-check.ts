/**
 * Per-series checks (§10 items 12-19 and Thanos' index health counters): label order and
 * uniqueness, series order, empty series, chunk metas against each other and the block's
 * range, chunk refs, and every chunk's bytes. Also gathers what later checks need without
 * holding the series: a bitset of series ids, and per label name a multiset hash of the
 * (series, name, value) triples that the postings lists must reproduce.
 */
import {
  compareLabels,
  compareStrings,
  isFloatEncoding,
  isHistogramEncoding,
  labelsToString,
  type Label,
} from "@strata/tsdb";
import { checkChunk } from "./chunk-check.ts";
import type { IndexHead } from "./index-head.ts";
import { Code, type Problems, type VerifyStats } from "./report.ts";
import { RefError, type Segments } from "./segments.ts";
import { scanSeries, type RawSeries, type ScanState } from "./series-scan.ts";
import { PairHashes } from "./pair-hash.ts";

/** Where a chunk lies relative to the block's [minTime, maxTime) as Thanos classifies it. */
export type RangeClass = "inside" | "complete-outside" | "issue347" | "outside" | "ends-at-max";

export function classifyChunk(minT: number, maxT: number, bMin: number, bMax: number): RangeClass {
  if (minT > bMax || maxT < bMin) return "complete-outside";
  if (minT === bMax) return "issue347";
  if (minT < bMin || maxT > bMax) return "outside";
  if (maxT === bMax) return "ends-at-max";
  return "inside";
}

export interface SeriesResult {
  state: ScanState;
  /** Every chunk was read and decoded, so sample counts are complete. */
  chunksIntact: boolean;
  ids: Uint8Array;
  hashes: PairHashes;
}

export interface BlockRange {
  minTime: number;
  maxTime: number;
}

export async function checkSeries(
  h: IndexHead,
  segs: Segments | undefined,
  range: BlockRange | undefined,
  problems: Problems,
  stats: VerifyStats,
): Promise<SeriesResult> {
  const state: ScanState = { intact: true };
  const ids = new Uint8Array(Math.ceil((h.version === 1 ? h.seriesEnd : h.seriesEnd / 16) / 8) + 1);
  const hashes = new PairHashes();
  let prev = new Uint32Array(64);
  let prevLen = -1;
  let lastRef = -1;
  let crcs = new Float64Array(64);
  let lens = new Float64Array(64);
  let chunksIntact = true;
  const byName = !h.symbolsSorted;
  for await (const s of scanSeries(h, problems, state)) {
    stats.series++;
    ids[s.id >>> 3]! |= 1 << (s.id & 7);
    if (s.size > stats.seriesMaxSize) stats.seriesMaxSize = s.size;
    const k = s.numLabels;
    const L = s.labels;
    const name = () => labelsToString(labelsOf(h, s));
    const at = { file: "index", offset: s.offset };
    if (k === 0) problems.add({ ...at, code: Code.EmptyLabelSet, message: `series ${s.id} has no labels` });
    // Label names sorted and unique; ordinals order like strings when the symbol table is sorted.
    let unsorted = false;
    for (let i = 1; i < k; i++) {
      const a = L[2 * i - 2]!;
      const b = L[2 * i]!;
      const c = byName ? compareStrings(h.symbols[b]!, h.symbols[a]!) : b - a;
      if (c < 0) unsorted = true;
      else if (c === 0)
        problems.add({
          ...at,
          series: name(),
          code: Code.DuplicateLabelName,
          message: `label name ${JSON.stringify(h.symbols[a])} appears twice`,
        });
    }
    // Series order is judged on name-sorted labels: that is what repair (and Thanos') restores.
    let key = L;
    if (unsorted) {
      problems.add({
        ...at,
        series: name(),
        code: Code.OutOfOrderLabels,
        message: "label names not sorted (Prometheus ≤ 2.8.0 bug)",
      });
      key = sortPairs(h, L, k, byName);
    }
    if (prevLen >= 0) {
      const c = byName
        ? compareLabels(labelsOfRefs(h, prev, prevLen), labelsOfRefs(h, key, k))
        : compareRefs(prev, prevLen, key, k);
      if (c === 0)
        problems.add({
          ...at,
          series: name(),
          code: Code.DuplicateSeries,
          message: `series ${s.id} repeats the previous series' labels`,
        });
      else if (c > 0)
        problems.add({
          ...at,
          series: name(),
          code: Code.SeriesOutOfOrder,
          message: `series ${s.id} sorts before the previous series`,
          expected: "labels > previous series' labels",
        });
    }
    if (prev.length < 2 * k) prev = new Uint32Array(2 * k);
    prev.set(key.subarray(0, 2 * k));
    prevLen = k;
    for (let i = 0; i < k; i++) hashes.add(s.id, L[2 * i]!, L[2 * i + 1]!);

    const c = s.numChunks;
    if (c === 0) {
      problems.add({ ...at, series: name(), code: Code.SeriesWithoutChunks, message: `series ${s.id} has no chunks` });
      continue;
    }
    if (crcs.length < c) {
      crcs = new Float64Array(c);
      lens = new Float64Array(c);
    }
    let overlap = false;
    for (let i = 0; i < c; i++) {
      stats.chunks++;
      const minT = s.minT[i]!;
      const maxT = s.maxT[i]!;
      const ref = s.ref[i]!;
      // Built only when reported: number-to-string conversions land in V8's old space, and
      // per chunk they were most of the verifier's heap growth.
      const where = (): string => `chunk ${i} [${minT}, ${maxT}]`;
      if (minT > maxT)
        problems.add({
          ...at,
          series: name(),
          code: Code.ChunkTimeInverted,
          message: `${where()}: minTime after maxTime`,
          expected: "minTime ≤ maxTime",
        });
      if (i > 0 && minT <= s.maxT[i - 1]!) overlap = true;
      if (range) {
        const cls = classifyChunk(minT, maxT, range.minTime, range.maxTime);
        if (cls !== "inside") {
          const code =
            cls === "complete-outside"
              ? Code.CompleteOutsideChunks
              : cls === "issue347"
                ? Code.Issue347OutsideChunks
                : cls === "outside"
                  ? Code.OutsideChunks
                  : Code.ChunkEndsAtMaxTime;
          problems.add({
            ...at,
            series: name(),
            code,
            message: `${where()} not inside the block's time range`,
            expected: `within [${range.minTime}, ${range.maxTime})`,
            found: `[${minT}, ${maxT}]`,
          });
        }
      }
      if (ref < lastRef)
        problems.add({
          ...at,
          series: name(),
          code: Code.ChunkRefsOutOfOrder,
          message: `${where()}: chunk ref decreases`,
          expected: `≥ ${lastRef}`,
          found: String(ref),
        });
      lastRef = ref;
      crcs[i] = NaN;
      lens[i] = NaN;
      if (!segs) continue;
      try {
        const rec = await segs.read(ref);
        if (!rec) {
          chunksIntact = false;
          continue;
        }
        crcs[i] = rec.crc;
        lens[i] = rec.data.length;
        if (rec.size > stats.chunkMaxSize) stats.chunkMaxSize = rec.size;
        const v = checkChunk(rec, minT, maxT);
        stats.samples += v.samples;
        if (isFloatEncoding(rec.encoding)) stats.floatSamples += v.samples;
        else if (isHistogramEncoding(rec.encoding)) stats.histogramSamples += v.samples;
        if (v.problem) {
          chunksIntact = false;
          const seg = segs.list[Math.floor(ref / 4294967296)]!;
          problems.add({
            ...v.problem,
            file: seg.path,
            offset: ref % 4294967296,
            series: name(),
            message: `${where()}: ${v.problem.message}`,
          });
        }
      } catch (e) {
        chunksIntact = false;
        problems.fromError(e, {
          series: name(),
          what: where(),
          code: e instanceof RefError ? Code.ChunkRefOutOfRange : undefined,
        });
      }
    }
    if (overlap) {
      const plan = planChunkOrder(s, crcs, lens);
      stats.outOfOrderSeries++;
      for (const d of plan.duplicates)
        problems.add({
          ...at,
          series: name(),
          code: Code.DuplicatedChunks,
          message: `chunk ${d} [${s.minT[d]}, ${s.maxT[d]}] duplicates an earlier chunk (same time range and bytes)`,
        });
      if (plan.overlapping >= 0) {
        const i = plan.overlapping;
        problems.add({
          ...at,
          series: name(),
          code: Code.OverlappingChunks,
          message: `chunk ${i} [${s.minT[i]}, ${s.maxT[i]}] overlaps another chunk with different data`,
          expected: "chunks disjoint in time",
        });
      } else if (plan.reordered) {
        problems.add({
          ...at,
          series: name(),
          code: Code.OutOfOrderChunks,
          message: "chunks not in time order (re-sorting fixes it)",
          expected: "ascending, disjoint chunk times",
        });
      }
    }
  }
  return { state, chunksIntact, ids, hashes };
}

export interface ChunkPlan {
  /** Chunk indices to keep, in time order. */
  order: number[];
  /** Indices of exact duplicates (same minT/maxT, same length and CRC as the kept chunk). */
  duplicates: number[];
  /** First chunk that overlaps the kept one with different data, or -1. */
  overlapping: number;
  /** Whether `order` differs from the stored order (ignoring dropped duplicates). */
  reordered: boolean;
}

/** Sort a series' chunks by (minT, maxT) and find duplicates and true overlaps, as Thanos' repair does. */
export function planChunkOrder(
  s: Pick<RawSeries, "numChunks" | "minT" | "maxT">,
  crcs: Float64Array,
  lens: Float64Array,
): ChunkPlan {
  const idx = Array.from({ length: s.numChunks }, (_, i) => i).sort(
    (a, b) => s.minT[a]! - s.minT[b]! || s.maxT[a]! - s.maxT[b]! || a - b,
  );
  const order: number[] = [];
  const duplicates: number[] = [];
  let overlapping = -1;
  for (const i of idx) {
    const last = order.length ? order[order.length - 1]! : -1;
    if (last >= 0 && s.minT[i]! <= s.maxT[last]!) {
      if (s.minT[i] === s.minT[last] && s.maxT[i] === s.maxT[last] && crcs[i] === crcs[last] && lens[i] === lens[last])
        duplicates.push(i);
      else if (overlapping < 0) overlapping = i;
      continue;
    }
    order.push(i);
  }
  let reordered = false;
  for (let j = 1; j < order.length; j++) if (order[j]! < order[j - 1]!) reordered = true;
  return { order, duplicates, overlapping, reordered };
}

function sortPairs(h: IndexHead, L: Uint32Array, k: number, byName: boolean): Uint32Array {
  const idx = Array.from({ length: k }, (_, i) => i).sort(
    (a, b) => (byName ? compareStrings(h.symbols[L[2 * a]!]!, h.symbols[L[2 * b]!]!) : L[2 * a]! - L[2 * b]!) || a - b,
  );
  const out = new Uint32Array(2 * k);
  idx.forEach((j, i) => {
    out[2 * i] = L[2 * j]!;
    out[2 * i + 1] = L[2 * j + 1]!;
  });
  return out;
}

function compareRefs(a: Uint32Array, na: number, b: Uint32Array, nb: number): number {
  const n = Math.min(na, nb) * 2;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return na - nb;
}

export function labelsOf(h: IndexHead, s: RawSeries): Label[] {
  return labelsOfRefs(h, s.labels, s.numLabels);
}

function labelsOfRefs(h: IndexHead, refs: Uint32Array, n: number): Label[] {
  const out: Label[] = [];
  for (let i = 0; i < n; i++) out.push({ name: h.symbols[refs[2 * i]!]!, value: h.symbols[refs[2 * i + 1]!]! });
  return out;
}
