/**
 * One-to-one merge (Prometheus' ChainedSeriesMerge as the compactor uses it): the union
 * of the inputs' samples in time order; where several inputs hold a sample at the same
 * timestamp, exactly one is kept: the one from the earliest input, so the choice is
 * deterministic (Prometheus leaves it unspecified).
 */
import type { SampleList } from "./samples.ts";

/** Merge `lists` into `out` (cleared first). Each list must be in ascending time order. */
export function chainMerge(lists: readonly SampleList[], out: SampleList): SampleList {
  out.clear();
  const k = lists.length;
  if (k === 1) {
    const s = lists[0]!;
    for (let i = 0; i < s.n; i++) out.pushFrom(s, i);
    return out;
  }
  const pos = new Int32Array(k);
  let total = 0;
  for (const l of lists) total += l.n;
  out.ensure(total);
  for (;;) {
    let best = -1;
    let bt = Infinity;
    for (let j = 0; j < k; j++) {
      const l = lists[j]!;
      if (pos[j]! < l.n && l.ts[pos[j]!]! < bt) {
        bt = l.ts[pos[j]!]!;
        best = j;
      }
    }
    if (best < 0) return out;
    out.pushFrom(lists[best]!, pos[best]!);
    // Every input holding a sample at this timestamp moves past it: 1:1 dedup.
    for (let j = 0; j < k; j++) if (pos[j]! < lists[j]!.n && lists[j]!.ts[pos[j]!] === bt) pos[j]!++;
  }
}

/** True when the samples of `s` are strictly ascending in time. */
export function isStrictlyAscending(s: SampleList): boolean {
  for (let i = 1; i < s.n; i++) if (!(s.ts[i]! > s.ts[i - 1]!)) return false;
  return true;
}
