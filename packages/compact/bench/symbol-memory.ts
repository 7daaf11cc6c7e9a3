/**
 * The symbol table's memory per output writer, with a table per writer (as before issue 13)
 * and one shared table: `npx node --expose-gc packages/compact/bench/symbol-memory.ts`.
 * One million symbols, 1 and 8 writers; heap + array buffers after a full GC.
 */
import { IndexWriter, SymbolTable, compareStrings, type ByteSink } from "@strata/tsdb";
const N = 1_000_000;
const strings = Array.from({ length: N }, (_, i) => `request-${((i * 7919) % N).toString(36)}-${i}`).sort(
  compareStrings,
);
const sink: ByteSink = { write: async () => {}, close: async () => {} };
const gc = (globalThis as { gc?: () => void }).gc as () => void;
const used = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, ab: m.arrayBuffers };
};
async function measure(shared: boolean, shards: number) {
  const b = used();
  const table = shared ? SymbolTable.from(strings) : undefined;
  const ws: IndexWriter[] = [];
  for (let i = 0; i < shards; i++) {
    const w = new IndexWriter(sink);
    await w.addSymbols(table ?? strings);
    ws.push(w);
  }
  const a = used();
  const r = { heap: (a.heap - b.heap) / 2 ** 20, ab: (a.ab - b.ab) / 2 ** 20 };
  ws.length = 0;
  return r;
}
for (const shared of [false, true])
  for (const shards of [1, 8]) {
    const r = await measure(shared, shards);
    console.log(
      `${shared ? "shared" : "per-writer"} shards=${shards}: heap ${r.heap.toFixed(1)} MiB + buffers ${r.ab.toFixed(1)} MiB = ${(r.heap + r.ab).toFixed(1)} MiB (writer buffers ${shards} MiB incl.)`,
    );
  }
