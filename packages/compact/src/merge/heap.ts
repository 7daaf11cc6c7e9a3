/**
 * K-way merge of input streams by label set: a binary min-heap of the streams' heads,
 * ordered by labels (Go's byte order) and then input order, so a group of equal label
 * sets always lists its inputs in input order.
 */
import { compareLabels } from "@strata/tsdb";
import type { InputStream, InputSeries } from "./input-stream.ts";

function less(a: InputStream, b: InputStream): boolean {
  const c = compareLabels(a.head!.labels, b.head!.labels);
  return c < 0 || (c === 0 && a.index < b.index);
}

export class SeriesHeap {
  private readonly h: InputStream[] = [];

  get size(): number {
    return this.h.length;
  }

  push(s: InputStream): void {
    if (!s.head) return;
    const h = this.h;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): InputStream | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  peek(): InputStream | undefined {
    return this.h[0];
  }

  /**
   * Pop every stream whose head has the smallest label set. The caller uses their heads,
   * then advances each and pushes it back.
   */
  popGroup(into: InputStream[]): InputSeries["labels"] | undefined {
    into.length = 0;
    const first = this.pop();
    if (!first) return undefined;
    into.push(first);
    const labels = first.head!.labels;
    while (this.h.length > 0 && compareLabels(this.h[0]!.head!.labels, labels) === 0) into.push(this.pop()!);
    return labels;
  }
}
