/**
 * Merging the chunks of one output series gathered from several inputs (or replicas).
 * Chunks are ordered by (minTime, maxTime); a chunk identical to one already kept (same
 * times, encoding and bytes) is dropped without decoding; a chunk that overlaps no other
 * is passed through as is (its bytes are copied, never decoded); each run of chunks that
 * overlap in time is decoded, merged and re-encoded at 120 samples per chunk.
 *
 * Modes: "chain" merges overlapping samples one-to-one (Prometheus). "penalty" applies
 * Thanos' replica deduplication when two different replicas overlap: then every chunk of
 * the series is decoded and the replicas' whole streams are deduplicated, so the choice
 * of replica (and the counter hold) is continuous across the series.
 *
 * Chunks may arrive with their CRC unchecked (`verify.ts`): copying and duplicate
 * detection use them as they are, and every chunk is verified right before it is decoded.
 */
import { compareBytes, type ChunkToWrite } from "@strata/tsdb";
import { SampleList, encodeSamples } from "./samples.ts";
import { chainMerge } from "./chain.ts";
import { penaltyMerge } from "./penalty.ts";
import { verifyBeforeDecode } from "./verify.ts";

export interface MergeOptions {
  mode: "chain" | "penalty";
  /** For penalty mode: is this series a counter (enables the hold at replica switches)? */
  counter?: boolean;
}

/** What the merge did, for statistics and tests. */
export interface MergeCounters {
  copiedChunks: number;
  duplicateChunks: number;
  decodedChunks: number;
  encodedChunks: number;
}

export function newMergeCounters(): MergeCounters {
  return { copiedChunks: 0, duplicateChunks: 0, decodedChunks: 0, encodedChunks: 0 };
}

interface Tagged {
  c: ChunkToWrite;
  replica: number;
}

function sameChunk(a: ChunkToWrite, b: ChunkToWrite): boolean {
  return (
    a.minTime === b.minTime &&
    a.maxTime === b.maxTime &&
    a.chunk.encoding === b.chunk.encoding &&
    a.chunk.data.length === b.chunk.data.length &&
    compareBytes(a.chunk.data, b.chunk.data) === 0
  );
}

/**
 * Scratch lists reused across series: merging allocates per series only what a series
 * needs beyond the largest one seen so far.
 */
export class SeriesMerger {
  private readonly scratch: SampleList[] = [];
  private readonly merged = new SampleList();
  readonly counters = newMergeCounters();

  private list(i: number): SampleList {
    while (this.scratch.length <= i) this.scratch.push(new SampleList());
    const l = this.scratch[i]!;
    l.clear();
    return l;
  }

  /**
   * Merge the chunk lists of one series (one list per replica, each sorted by time and
   * non-overlapping within itself as in any valid block) into `out` (cleared first).
   */
  merge(replicas: readonly (readonly ChunkToWrite[])[], opts: MergeOptions, out: ChunkToWrite[]): void {
    out.length = 0;
    const nonEmpty = replicas.filter((r) => r.length > 0);
    if (nonEmpty.length === 0) return;
    if (nonEmpty.length === 1) {
      this.passThrough(nonEmpty[0]!, out);
      return;
    }
    const all: Tagged[] = [];
    for (let r = 0; r < replicas.length; r++) for (const c of replicas[r]!) all.push({ c, replica: r });
    all.sort((x, y) => x.c.minTime - y.c.minTime || x.c.maxTime - y.c.maxTime || x.replica - y.replica);
    const kept = this.dropDuplicates(all);
    if (opts.mode === "penalty" && replicasOverlap(kept)) {
      this.penalty(kept, replicas.length, opts.counter ?? false, out);
      return;
    }
    this.chain(kept, out);
  }

  private passThrough(chunks: readonly ChunkToWrite[], out: ChunkToWrite[]): void {
    // A single source may still hold overlapping chunks (e.g. an unrepaired block); merge those.
    for (let i = 1; i < chunks.length; i++) {
      if (chunks[i]!.minTime <= chunks[i - 1]!.maxTime) {
        this.chain(
          chunks.map((c) => ({ c, replica: 0 })),
          out,
        );
        return;
      }
    }
    for (const c of chunks) out.push(c);
    this.counters.copiedChunks += chunks.length;
  }

  private dropDuplicates(all: Tagged[]): Tagged[] {
    const kept: Tagged[] = [];
    for (const t of all) {
      let dup = false;
      for (let j = kept.length - 1; j >= 0; j--) {
        const k = kept[j]!;
        if (k.c.minTime !== t.c.minTime || k.c.maxTime !== t.c.maxTime) break;
        if (sameChunk(k.c, t.c)) {
          dup = true;
          break;
        }
      }
      if (dup) this.counters.duplicateChunks++;
      else kept.push(t);
    }
    return kept;
  }

  /** Runs of overlapping chunks are merged one-to-one; lone chunks are copied. */
  private chain(sorted: readonly Tagged[], out: ChunkToWrite[]): void {
    let i = 0;
    while (i < sorted.length) {
      let j = i + 1;
      let maxT = sorted[i]!.c.maxTime;
      while (j < sorted.length && sorted[j]!.c.minTime <= maxT) {
        if (sorted[j]!.c.maxTime > maxT) maxT = sorted[j]!.c.maxTime;
        j++;
      }
      if (j === i + 1) {
        out.push(sorted[i]!.c);
        this.counters.copiedChunks++;
      } else {
        const lists: SampleList[] = [];
        for (let k = i; k < j; k++) {
          const l = this.list(k - i);
          verifyBeforeDecode(sorted[k]!.c);
          l.appendChunk(sorted[k]!.c.chunk);
          lists.push(l);
        }
        this.counters.decodedChunks += j - i;
        this.emit(chainMerge(lists, this.merged), out);
      }
      i = j;
    }
  }

  private penalty(sorted: readonly Tagged[], nReplicas: number, counter: boolean, out: ChunkToWrite[]): void {
    // Each replica's chunks, in time order, as one stream (merged 1:1 should it overlap itself).
    const perReplica: Tagged[][] = Array.from({ length: nReplicas }, () => []);
    for (const t of sorted) perReplica[t.replica]!.push(t);
    const streams: SampleList[] = [];
    let slot = 0;
    for (const chunks of perReplica) {
      if (chunks.length === 0) continue;
      const l = this.list(slot++);
      let selfOverlap = false;
      for (let k = 0; k < chunks.length; k++) {
        if (k > 0 && chunks[k]!.c.minTime <= chunks[k - 1]!.c.maxTime) selfOverlap = true;
        verifyBeforeDecode(chunks[k]!.c);
        l.appendChunk(chunks[k]!.c.chunk);
      }
      this.counters.decodedChunks += chunks.length;
      if (selfOverlap) {
        const parts: SampleList[] = [];
        for (const c of chunks) {
          const p = new SampleList();
          p.appendChunk(c.c.chunk);
          parts.push(p);
        }
        streams.push(chainMerge(parts, new SampleList(l.n)));
      } else {
        streams.push(l);
      }
    }
    this.emit(penaltyMerge(streams, this.merged, { counter }), out);
  }

  private emit(s: SampleList, out: ChunkToWrite[]): void {
    const before = out.length;
    // The merged list is scratch: its encodings are fresh byte arrays, safe to keep.
    encodeSamples(s, out);
    this.counters.encodedChunks += out.length - before;
  }
}

/** Do chunks of two different replicas overlap in time? */
function replicasOverlap(sorted: readonly Tagged[]): boolean {
  // Sweep: track, for the running overlap group, whether it spans > 1 replica.
  let maxT = -Infinity;
  let groupReplica = -1;
  for (const t of sorted) {
    if (t.c.minTime <= maxT) {
      if (t.replica !== groupReplica) return true;
      if (t.c.maxTime > maxT) maxT = t.c.maxTime;
    } else {
      maxT = t.c.maxTime;
      groupReplica = t.replica;
    }
  }
  return false;
}
