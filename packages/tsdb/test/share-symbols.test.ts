// IndexReader.shareSymbols: readers of blocks with overlapping symbols adopt the strings of
// their sorted union (one string per symbol between them) without changing any value.
import { describe, expect, it } from "vitest";
import { IndexReader, IndexWriter, MemorySource, compareStrings, type ByteSink } from "../src/index.ts";

async function indexOf(values: string[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const sink: ByteSink = { write: async (b) => void parts.push(b.slice()), close: async () => {} };
  const w = new IndexWriter(sink);
  const sorted = [...values].sort(compareStrings);
  await w.addSymbols([...sorted, "v"].sort(compareStrings));
  for (const v of sorted) await w.addSeries([{ name: "v", value: v }], []);
  await w.close();
  return Buffer.concat(parts);
}

describe("IndexReader.shareSymbols", () => {
  it("replaces every symbol found in the union and keeps labels as they were", async () => {
    const a = await IndexReader.open(new MemorySource(await indexOf(["a1", "b2", "c3", "zz"])));
    const b = await IndexReader.open(new MemorySource(await indexOf(["b2", "c3", "d4", "é5"])));
    const union = [...new Set([...a.symbols, ...b.symbols])].sort(compareStrings);
    const before = [...b.symbols];
    const labelsBefore: string[] = [];
    for await (const s of b.iterSeries()) labelsBefore.push(s.labels.map((l) => `${l.name}=${l.value}`).join());
    expect(a.shareSymbols(union)).toBe(a.symbols.length);
    expect(b.shareSymbols(union)).toBe(b.symbols.length);
    expect(b.symbols).toEqual(before);
    const labelsAfter: string[] = [];
    for await (const s of b.iterSeries()) labelsAfter.push(s.labels.map((l) => `${l.name}=${l.value}`).join());
    expect(labelsAfter).toEqual(labelsBefore);
    // A list missing some symbols replaces only those it has.
    expect(b.shareSymbols(["c3", "v"])).toBe(2);
    expect(b.symbols).toEqual(before);
  });
});

describe("IndexReader.open without the postings offset table", () => {
  it("walks the series as usual and refuses postings lookups", async () => {
    const bytes = await indexOf(["a1", "b2", "c3"]);
    const full = await IndexReader.open(new MemorySource(bytes));
    const lean = await IndexReader.open(new MemorySource(bytes), { postingsTable: false });
    expect(lean.symbols).toEqual(full.symbols);
    const walk = async (r: IndexReader) => {
      const out: string[] = [];
      for await (const s of r.iterSeries()) out.push(`${s.id}:${s.labels.map((l) => `${l.name}=${l.value}`).join()}`);
      return out;
    };
    expect(await walk(lean)).toEqual(await walk(full));
    expect(full.labelValues("v")).toEqual(["a1", "b2", "c3"]);
    expect(() => lean.labelNames()).toThrow(/without its postings offset table/);
    await expect(lean.postings("v", "a1")).rejects.toThrow(/without its postings offset table/);
  });
});
