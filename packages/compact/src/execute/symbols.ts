/**
 * The output's symbol table: the sorted union of the inputs' tables (Prometheus keeps
 * unused symbols too), merged as sorted lists in one pass, never through a hash set.
 */
import { compareStrings } from "@strata/tsdb";

/** Union of sorted (Go byte order) string lists, sorted and without duplicates. */
export function mergeSortedSymbols(lists: readonly (readonly string[])[]): string[] {
  let acc: readonly string[] = [];
  // Pairwise merging is O(total · log k) with the lists merged in a balanced order.
  let level: (readonly string[])[] = lists.filter((l) => l.length > 0);
  if (level.length === 0) return [];
  while (level.length > 1) {
    const next: (readonly string[])[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? mergeTwo(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  acc = level[0]!;
  return dedupSorted(acc);
}

function mergeTwo(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const c = compareStrings(a[i]!, b[j]!);
    if (c < 0) out[n++] = a[i++]!;
    else if (c > 0) out[n++] = b[j++]!;
    else {
      out[n++] = a[i++]!;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  out.length = n;
  return out;
}

function dedupSorted(xs: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of xs) if (out.length === 0 || out[out.length - 1] !== s) out.push(s);
  return out;
}
