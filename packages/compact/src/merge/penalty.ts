/**
 * Penalty deduplication of HA replicas, with Thanos' semantics (T: pkg/dedup/iter.go):
 * two iterators are merged by taking the smaller next timestamp; the replica not taken is
 * then only considered again from `lastT + 1 + penalty`, the penalty being twice the gap
 * between the sample just taken and the one before it (5,000 ms before there is a gap to
 * measure); the replica taken has its penalty cleared. Three or more replicas nest:
 * dedup(dedup(r0, r1), r2), … in replica order. The nested iterator's seek walks with
 * next() so that it cannot jump over a gap.
 *
 * Counter resets across replicas (thanos#2890, #2401, #1326): two replicas of one counter
 * see slightly different values at slightly different times, so whenever the merged
 * stream switches replica it can step *down* without the counter having reset, and
 * `rate()` reads that as a reset and adds the whole counter value. Thanos' compactor does
 * nothing about it (its querier shifts the new replica by an offset for ever after). We
 * "hold" instead, for series known to be counters: a sample whose value is below the last
 * value emitted, while its own replica's previous sample is ≤ it (the replica itself saw
 * no reset), is emitted with the last emitted value. A real reset always shows in the
 * replica's own stream (its previous sample is larger) and passes through untouched. So
 * the output never contains a decrease the source replicas did not contain, no timestamp
 * is dropped, and the value error is bounded by the replicas' disagreement at the switch
 * (it ends at the first sample that catches up), never accumulating like an offset.
 */
import { Kind, type SampleList } from "./samples.ts";

const INITIAL_PENALTY = 5000;

interface Cursor {
  /** Advance; false when exhausted. */
  next(): boolean;
  /** Move to the first sample at or after t (never backwards); false when exhausted. */
  seek(t: number): boolean;
  atT(): number;
  /** The list and index of the current sample. */
  list(): SampleList;
  index(): number;
}

class ListCursor implements Cursor {
  private readonly s: SampleList;
  private i = -1;
  constructor(s: SampleList) {
    this.s = s;
  }
  next(): boolean {
    if (this.i < this.s.n) this.i++;
    return this.i < this.s.n;
  }
  seek(t: number): boolean {
    if (this.i < 0) this.i = 0;
    while (this.i < this.s.n && this.s.ts[this.i]! < t) this.i++;
    return this.i < this.s.n;
  }
  atT(): number {
    return this.s.ts[this.i]!;
  }
  list(): SampleList {
    return this.s;
  }
  index(): number {
    return this.i;
  }
}

class DedupCursor implements Cursor {
  private readonly a: Cursor;
  private readonly b: Cursor;
  private aok: boolean;
  private bok: boolean;
  private lastT = -Infinity;
  private penA = 0;
  private penB = 0;
  private useA = true;

  constructor(a: Cursor, b: Cursor) {
    this.a = a;
    this.b = b;
    this.aok = a.next();
    this.bok = b.next();
  }

  next(): boolean {
    if (this.aok) this.aok = this.a.seek(this.lastT + 1 + this.penA);
    if (this.bok) this.bok = this.b.seek(this.lastT + 1 + this.penB);
    if (!this.aok) {
      this.useA = false;
      if (this.bok) {
        this.lastT = this.b.atT();
        this.penB = 0;
      }
      return this.bok;
    }
    if (!this.bok) {
      this.useA = true;
      this.lastT = this.a.atT();
      this.penA = 0;
      return true;
    }
    const ta = this.a.atT();
    const tb = this.b.atT();
    this.useA = ta <= tb;
    const t = this.useA ? ta : tb;
    const pen = this.lastT === -Infinity ? INITIAL_PENALTY : 2 * (t - this.lastT);
    if (this.useA) {
      this.penB = pen;
      this.penA = 0;
    } else {
      this.penA = pen;
      this.penB = 0;
    }
    this.lastT = t;
    return true;
  }

  seek(t: number): boolean {
    for (;;) {
      const cur = this.cur();
      if (cur.atT() >= t) return cur.seek(cur.atT());
      if (!this.next()) return false;
    }
  }

  private cur(): Cursor {
    return this.useA ? this.a : this.b;
  }
  atT(): number {
    return this.cur().atT();
  }
  list(): SampleList {
    return this.cur().list();
  }
  index(): number {
    return this.cur().index();
  }
}

export interface PenaltyOptions {
  /** Apply the counter hold described above (float samples only). */
  counter: boolean;
}

/** Deduplicate replicas (each ascending in time) into `out` (cleared first). */
export function penaltyMerge(replicas: readonly SampleList[], out: SampleList, opts: PenaltyOptions): SampleList {
  out.clear();
  if (replicas.length === 0) return out;
  let it: Cursor = new ListCursor(replicas[0]!);
  for (let r = 1; r < replicas.length; r++) it = new DedupCursor(it, new ListCursor(replicas[r]!));
  let ok = it.next();
  let last = NaN;
  while (ok) {
    const src = it.list();
    const i = it.index();
    out.pushFrom(src, i);
    if (opts.counter && src.kinds[i] === Kind.Float) {
      const v = src.vs[i]!;
      if (v < last && i > 0 && src.kinds[i - 1] === Kind.Float && src.vs[i - 1]! <= v) out.vs[out.n - 1] = last;
      last = out.vs[out.n - 1]!;
    } else {
      last = NaN;
    }
    ok = it.next();
  }
  return out;
}

/**
 * Default counter test when no type metadata exists (blocks carry none): OpenMetrics and
 * Prometheus naming conventions for monotonic series.
 */
export function looksLikeCounter(metricName: string | undefined): boolean {
  return (
    metricName !== undefined &&
    (metricName.endsWith("_total") || metricName.endsWith("_count") || metricName.endsWith("_bucket"))
  );
}
