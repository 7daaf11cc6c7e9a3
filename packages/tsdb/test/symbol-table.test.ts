import { describe, expect, it } from "vitest";
import { FormatError } from "../src/encoding/errors.ts";
import type { ByteSink } from "../src/encoding/source.ts";
import { compareStrings } from "../src/encoding/utf8.ts";
import type { Label } from "../src/labels/labels.ts";
import { IndexWriter } from "../src/index/writer.ts";
import { SymbolTable } from "../src/index/symbols.ts";

class RecordingSink implements ByteSink {
  parts: Uint8Array[] = [];
  async write(b: Uint8Array): Promise<void> {
    this.parts.push(b.slice());
  }
  async close(): Promise<void> {}
  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

const symbols = [
  "",
  "__name__",
  "a",
  "b",
  "é",
  "up",
  "zz",
  "日本",
  ...Array.from({ length: 500 }, (_, i) => `v${i}`),
].sort(compareStrings);
const series = (from: number, step: number): Label[][] => {
  const out: Label[][] = [];
  for (let i = from; i < 500; i += step)
    out.push([
      { name: "__name__", value: "up" },
      { name: "a", value: `v${i}` },
    ]);
  return out.sort((x, y) => compareStrings(x[1]!.value, y[1]!.value));
};

async function write(
  table: Iterable<string> | SymbolTable,
  ls: Label[][],
  flushSize?: number,
): Promise<{ bytes: Uint8Array; writer: IndexWriter }> {
  const sink = new RecordingSink();
  const writer = new IndexWriter(sink, { flushSize });
  await writer.addSymbols(table);
  let ref = 0;
  for (const l of ls) await writer.addSeries(l, [{ ref: (ref += 100), minTime: 0, maxTime: 10 }]);
  await writer.close();
  return { bytes: sink.bytes(), writer };
}

describe("SymbolTable", () => {
  it("writers sharing one table write the bytes writers given the strings write", async () => {
    const shared = SymbolTable.from(symbols);
    for (const [from, step] of [
      [0, 3],
      [1, 3],
      [2, 3],
    ] as const) {
      const own = await write(symbols, series(from, step), 256);
      const viaShared = await write(shared, series(from, step), 256);
      expect(Buffer.from(viaShared.bytes).equals(Buffer.from(own.bytes))).toBe(true);
      expect(viaShared.writer.symbolTable).toBe(shared);
      expect(own.writer.symbolTable).not.toBe(shared);
    }
  });

  it("looks strings up and encodes UTF-8 once", () => {
    const t = SymbolTable.from(symbols);
    expect(t.length).toBe(symbols.length);
    for (let i = 0; i < symbols.length; i++) {
      expect(t.ref(symbols[i]!)).toBe(i);
      expect(Buffer.from(t.utf8.subarray(t.at[i], t.at[i]! + t.lens[i]!)).toString("utf8")).toBe(symbols[i]);
    }
    expect(t.ref("missing")).toBeUndefined();
    expect(t.retainedBytes).toBeGreaterThan(t.utf8.length);
  });

  it("refuses unsorted or ill-formed symbols, and labels outside the table", async () => {
    expect(() => SymbolTable.from(["b", "a"])).toThrow(FormatError);
    expect(() => SymbolTable.from(["a", "a"])).toThrow(FormatError);
    expect(() => SymbolTable.from(["\ud800"])).toThrow(FormatError);
    const w = new IndexWriter(new RecordingSink());
    await w.addSymbols(SymbolTable.from(["__name__", "up"]));
    await expect(w.addSeries([{ name: "__name__", value: "down" }], [])).rejects.toThrow(
      /missing from the symbol table/,
    );
  });
});
