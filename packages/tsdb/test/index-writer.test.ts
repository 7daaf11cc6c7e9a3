import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FormatError } from "../src/encoding/errors.ts";
import { MemorySource, type ByteSink } from "../src/encoding/source.ts";
import { compareStrings } from "../src/encoding/utf8.ts";
import type { ChunkMeta } from "../src/chunkenc/chunk.ts";
import { compareLabels, type Label } from "../src/labels/labels.ts";
import {
  MAX_INDEX_SIZE,
  MAX_U32,
  checkIndexSize,
  checkSectionLength,
  paddingFor,
  seriesIdForOffset,
} from "../src/index/format.ts";
import { IndexReader } from "../src/index/reader.ts";
import { IndexWriter, type IndexWriterResult } from "../src/index/writer.ts";
import { mulberry32 } from "@strata/testkit";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

class RecordingSink implements ByteSink {
  parts: Uint8Array[] = [];
  closed = false;
  async write(b: Uint8Array): Promise<void> {
    this.parts.push(b.slice());
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

interface Input {
  symbols: string[];
  series: { labels: Label[]; chunks: ChunkMeta[] }[];
}

async function writeIndex(
  input: Input,
  flushSize?: number,
): Promise<{ bytes: Uint8Array; res: IndexWriterResult; ids: number[]; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const w = new IndexWriter(sink, { flushSize });
  await w.addSymbols(input.symbols);
  const ids: number[] = [];
  for (const s of input.series) ids.push(await w.addSeries(s.labels, s.chunks));
  const res = await w.close();
  return { bytes: sink.bytes(), res, ids, sink };
}

/** Parse the ```hex block of the format doc: leading two-digit hex tokens of each line. */
function docExampleBytes(): Uint8Array {
  const md = readFileSync(new URL("../docs/format/index.md", import.meta.url), "utf8");
  const block = md.split("```hex")[1]!.split("```")[0]!;
  const out: number[] = [];
  for (const line of block.split("\n")) {
    for (const tok of line.trim().split(/\s+/)) {
      if (!/^[0-9A-Fa-f]{2}$/.test(tok)) break;
      out.push(parseInt(tok, 16));
    }
  }
  return new Uint8Array(out);
}

const ALPHABET = [
  "a",
  "b",
  "z",
  "_",
  "0",
  "9",
  "é",
  "ü",
  "日",
  "\uff61",
  "\ue000",
  "\ud83d\ude00",
  "\ud834\udd1e",
  "\u{10ffff}",
  " ",
  "~",
];
function randString(rnd: () => number, min: number, max: number): string {
  const n = min + Math.floor(rnd() * (max - min + 1));
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}

/** Random series with unicode labels, sorted the Go way, with ordered chunk metas. */
function randomInput(seed: number, n: number): Input {
  const rnd = mulberry32(seed);
  const names = ["__name__", "job", "a", "instance", "é", "\ud83d\ude00n", "\uff61n", "x_1"];
  const byKey = new Map<string, Label[]>();
  while (byKey.size < n) {
    const k = 1 + Math.floor(rnd() * 4);
    const chosen = new Set<string>();
    while (chosen.size < k) chosen.add(names[Math.floor(rnd() * names.length)]!);
    const labels = [...chosen]
      .sort(compareStrings)
      .map((name) => ({ name, value: randString(rnd, rnd() < 0.05 ? 0 : 1, 4) }));
    byKey.set(JSON.stringify(labels), labels);
  }
  const lsets = [...byKey.values()].sort(compareLabels);
  const symbols = new Set<string>([""]);
  for (const ls of lsets) for (const l of ls) symbols.add(l.name).add(l.value);
  for (let i = 0; i < 20; i++) symbols.add("unused-" + randString(rnd, 1, 3));
  let ref = 8;
  const series = lsets.map((labels) => {
    const chunks: ChunkMeta[] = [];
    const c = Math.floor(rnd() * 4);
    let t = Math.floor((rnd() - 0.3) * 2e12);
    for (let i = 0; i < c; i++) {
      const minTime = t + 1 + Math.floor(rnd() * 1e6);
      const maxTime = minTime + Math.floor(rnd() * 7.2e6);
      if (rnd() < 0.05) ref = (Math.floor(ref / 2 ** 32) + 1) * 2 ** 32 + 8; // next segment
      chunks.push({ ref, minTime, maxTime });
      ref += 1 + Math.floor(rnd() * 300);
      t = maxTime;
    }
    return { labels, chunks };
  });
  return { symbols: [...symbols].sort(compareStrings), series };
}

const be32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, false);

describe("IndexWriter byte layout", () => {
  it("writes the reference symbol table vector", async () => {
    const { bytes } = await writeIndex({ symbols: ["", "a", "b"], series: [] });
    expect(hex(bytes.subarray(0, 5))).toBe("baaad70002");
    expect(hex(bytes.subarray(5, 22))).toBe("00000009" + "00000003" + "00" + "0161" + "0162" + "42239b90");
  });

  it("produces exactly the example bytes of docs/format/index.md", async () => {
    const { bytes, res, ids } = await writeIndex({
      symbols: ["", "a", "b"],
      series: [{ labels: [{ name: "a", value: "b" }], chunks: [{ ref: 8, minTime: 1000, maxTime: 2000 }] }],
    });
    expect(hex(bytes)).toBe(hex(docExampleBytes()));
    expect(ids).toEqual([2]);
    expect(res).toEqual({
      size: 154,
      numSeries: 1,
      toc: { symbols: 5, series: 22, labelIndices: 46, labelIndicesTable: 80, postings: 46, postingsTable: 80 },
      seriesMaxSize: 0,
      chunkMaxSize: 0,
    });
  });

  it("writes a valid empty index (empty all-postings list)", async () => {
    const { bytes, res } = await writeIndex({ symbols: [], series: [] });
    const r = await IndexReader.open(new MemorySource(bytes));
    expect(r.symbols).toEqual([]);
    expect(r.postingsOffsets()).toEqual([
      { name: "", value: "", offset: res.toc.postings + paddingFor(res.toc.postings, 4) },
    ]);
    expect(await r.allPostings()).toEqual(new Uint32Array(0));
    expect(res.toc.series).toBe(res.toc.postings);
    const all: unknown[] = [];
    for await (const s of r.iterSeries()) all.push(s);
    expect(all).toEqual([]);
  });

  it("keeps every layout invariant on thousands of random unicode series", async () => {
    const input = randomInput(42, 3000);
    // The fixture must exercise the UTF-16 vs UTF-8 ordering difference.
    expect(input.symbols.some((s, i) => i > 0 && !(input.symbols[i - 1]! < s))).toBe(true);
    const { bytes, res, ids } = await writeIndex(input);
    const toc = res.toc;
    expect(res.size).toBe(bytes.length);
    expect(res.numSeries).toBe(3000);
    expect(toc.symbols).toBe(5);
    expect(toc.series).toBe(5 + 4 + be32(bytes, 5) + 4); // len field, len bytes (count + entries), CRC
    expect(toc.labelIndices).toBe(toc.postings);
    expect(toc.labelIndicesTable).toBe(toc.postingsTable);

    // Series: zero padding, then each entry exactly at id*16, back to back up to TOC.postings.
    let pos = toc.series;
    for (const id of ids) {
      expect(id * 16 - pos).toBeGreaterThanOrEqual(0);
      expect(id * 16 - pos).toBeLessThan(16);
      for (; pos < id * 16; pos++) expect(bytes[pos]).toBe(0);
      let len = 0;
      let mul = 1;
      for (;;) {
        const c = bytes[pos++]!;
        len += (c & 0x7f) * mul;
        mul *= 128;
        if (c < 0x80) break;
      }
      pos += len + 4;
    }
    expect(pos).toBe(toc.postings);

    // Postings: 4-aligned, contiguous in offset-table order, ending at TOC.postingsTable.
    const r = await IndexReader.open(new MemorySource(bytes));
    const po = r.postingsOffsets();
    expect(po[0]).toEqual({ name: "", value: "", offset: toc.postings + paddingFor(toc.postings, 4) });
    for (let p = toc.postings; p < po[0]!.offset; p++) expect(bytes[p]).toBe(0);
    let at = po[0]!.offset;
    for (const e of po) {
      expect(e.offset).toBe(at);
      expect(e.offset % 4).toBe(0);
      const n = be32(bytes, at + 4);
      expect(be32(bytes, at)).toBe(4 + 4 * n);
      at += 12 + 4 * n;
    }
    expect(at).toBe(toc.postingsTable);
    expect(toc.postingsTable + 8 + be32(bytes, toc.postingsTable) + 52).toBe(bytes.length);
    // Offset table keys strictly ascending in Go order.
    for (let i = 1; i < po.length; i++) {
      const c = compareStrings(po[i]!.name, po[i - 1]!.name) || compareStrings(po[i]!.value, po[i - 1]!.value);
      expect(c).toBe(1);
    }

    // Thanos index_stats, computed the way GatherIndexHealthStats does.
    let seriesMax = 0;
    for (let i = 1; i < ids.length; i++) seriesMax = Math.max(seriesMax, (ids[i]! - ids[i - 1]!) * 16);
    expect(res.seriesMaxSize).toBe(seriesMax);
    let chunkMax = 0;
    for (const s of input.series) {
      for (let i = 0; i < s.chunks.length - 2; i++) {
        const a = s.chunks[i]!.ref;
        const b = s.chunks[i + 1]!.ref;
        if (Math.floor(a / 2 ** 32) === Math.floor(b / 2 ** 32))
          chunkMax = Math.max(chunkMax, (b % 2 ** 32) - (a % 2 ** 32));
      }
    }
    expect(res.chunkMaxSize).toBe(chunkMax);
    expect(chunkMax).toBeGreaterThan(0);
  });

  it("round-trips thousands of random unicode series through IndexReader", async () => {
    const input = randomInput(1234, 4000);
    const { bytes, ids } = await writeIndex(input);
    const r = await IndexReader.open(new MemorySource(bytes));
    expect(r.version).toBe(2);
    expect(r.symbols).toEqual(input.symbols);

    // Sequential scan with windows that split entries, and random access.
    for (const windowSize of [64, 1000, undefined]) {
      let i = 0;
      for await (const s of r.iterSeries({ windowSize })) {
        expect(s).toEqual({ id: ids[i], ...input.series[i] });
        i++;
      }
      expect(i).toBe(input.series.length);
    }
    const rnd = mulberry32(9);
    for (let k = 0; k < 200; k++) {
      const i = Math.floor(rnd() * ids.length);
      expect(await r.series(ids[i]!)).toEqual({ id: ids[i], ...input.series[i] });
    }

    // Postings, label names and values, all in Go order.
    const want = new Map<string, Map<string, number[]>>();
    input.series.forEach((s, i) => {
      for (const l of s.labels) {
        let m = want.get(l.name);
        if (!m) want.set(l.name, (m = new Map()));
        const list = m.get(l.value) ?? [];
        list.push(ids[i]!);
        m.set(l.value, list);
      }
    });
    expect(r.labelNames()).toEqual([...want.keys()].sort(compareStrings));
    expect(await r.allPostings()).toEqual(Uint32Array.from(ids));
    for (const [name, m] of want) {
      expect(r.labelValues(name)).toEqual([...m.keys()].sort(compareStrings));
      for (const [value, list] of m) expect(await r.postings(name, value)).toEqual(Uint32Array.from(list));
    }
    expect(await r.postings("job", "no such value")).toEqual(new Uint32Array(0));
    expect(await r.postings("no such name", "")).toEqual(new Uint32Array(0));
    expect(r.labelValues("no such name")).toEqual([]);
    expect(r.symbol(1)).toBe(input.symbols[1]);
    expect(() => r.symbol(input.symbols.length)).toThrow(FormatError);
  });

  it("output does not depend on the flush size, and writes are sequential chunks", async () => {
    const input = randomInput(7, 800);
    const big = await writeIndex(input);
    const small = await writeIndex(input, 100);
    expect(hex(small.bytes)).toBe(hex(big.bytes));
    expect(small.sink.parts.length).toBeGreaterThan(50);
    // A write carries at most one flush threshold plus one entry's worth of overshoot.
    for (const p of small.sink.parts) expect(p.length).toBeLessThan(100 + 512);
    expect(big.sink.parts.length).toBe(1);
    // The writer leaves the sink to its owner.
    expect(big.sink.closed).toBe(false);
  });

  it("streams a postings list larger than the flush size with a correct CRC", async () => {
    const series = Array.from({ length: 3000 }, (_, i) => ({
      labels: [
        { name: "a", value: "x" },
        { name: "i", value: String(i).padStart(5, "0") },
      ],
      chunks: [] as ChunkMeta[],
    }));
    const symbols = ["", "a", "i", "x", ...series.map((s) => s.labels[1]!.value)].sort(compareStrings);
    const { bytes } = await writeIndex({ symbols, series }, 1000);
    const r = await IndexReader.open(new MemorySource(bytes));
    const ax = await r.postings("a", "x");
    expect(ax.length).toBe(3000);
    expect(ax).toEqual(await r.allPostings());
  });
});

async function expectFormatError(p: Promise<unknown>, code: string, msg?: RegExp): Promise<FormatError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FormatError);
  const fe = err as FormatError;
  expect(fe.code).toBe(code);
  if (msg) expect(fe.message).toMatch(msg);
  return fe;
}

describe("IndexWriter rejects invalid input", () => {
  const L = (o: Record<string, string>): Label[] => Object.entries(o).map(([name, value]) => ({ name, value }));
  const syms = ["", "a", "b", "c", "\uff61", "\ud83d\ude00"];
  async function withSeries(): Promise<IndexWriter> {
    const w = new IndexWriter(new RecordingSink());
    await w.addSymbols(syms);
    return w;
  }

  it("rejects out-of-order or duplicate symbols, naming both", async () => {
    await expectFormatError(
      new IndexWriter(new RecordingSink()).addSymbols(["a", "c", "b"]),
      "out-of-order",
      /"c".*"b"|"b".*"c"/,
    );
    await expectFormatError(new IndexWriter(new RecordingSink()).addSymbols(["a", "a"]), "out-of-order");
    // JavaScript order puts the emoji (U+1F600) first; Go order puts it after U+FF61.
    await expectFormatError(
      new IndexWriter(new RecordingSink()).addSymbols(["\ud83d\ude00", "\uff61"]),
      "out-of-order",
    );
    await expectFormatError(new IndexWriter(new RecordingSink()).addSymbols(["a", "\ud800"]), "invalid-value");
    const w = await withSeries();
    await expect(w.addSymbols(["x"])).rejects.toThrow(/already/);
  });

  it("rejects series out of order, duplicates, and bad label sets", async () => {
    const w = await withSeries();
    await w.addSeries(L({ a: "b", c: "c" }), []);
    const e = await expectFormatError(w.addSeries(L({ a: "b" }), []), "out-of-order");
    expect(e.message).toContain('{a="b", c="c"}');
    expect(e.message).toContain('{a="b"}');
    await expectFormatError(w.addSeries(L({ a: "b", c: "c" }), []), "out-of-order");
    await expectFormatError(w.addSeries([], []), "invalid-value", /no labels/);
    await expectFormatError(w.addSeries(L({ c: "a", b: "a" }), []), "out-of-order", /label names/);
    await expectFormatError(
      w.addSeries(
        [
          { name: "b", value: "a" },
          { name: "b", value: "c" },
        ],
        [],
      ),
      "out-of-order",
    );
    await expectFormatError(w.addSeries(L({ b: "nope" }), []), "invalid-value", /"nope"/);
    await expectFormatError((await withSeries()).addSeries(L({ "": "a" }), []), "invalid-value", /empty label name/);
    // Go order: ｡ (U+FF61) < 😀; a JS-ordered writer would accept the reverse.
    await w.addSeries(L({ b: "\uff61" }), []);
    await w.addSeries(L({ b: "\ud83d\ude00" }), []);
    await expectFormatError(w.addSeries(L({ b: "\uff61" }), []), "out-of-order");
  });

  it("rejects bad chunk metas, naming the values", async () => {
    const w = await withSeries();
    await expectFormatError(
      w.addSeries(L({ a: "a" }), [{ ref: 8, minTime: 10, maxTime: 9 }]),
      "invalid-value",
      /maxT=9/,
    );
    await expectFormatError(
      w.addSeries(L({ a: "a" }), [
        { ref: 8, minTime: 0, maxTime: 10 },
        { ref: 9, minTime: 10, maxTime: 20 },
      ]),
      "out-of-order",
      /minT=10/,
    );
    await expectFormatError(
      w.addSeries(L({ a: "a" }), [
        { ref: 20, minTime: 0, maxTime: 10 },
        { ref: 19, minTime: 11, maxTime: 20 },
      ]),
      "out-of-order",
      /ref=19/,
    );
    await expectFormatError(w.addSeries(L({ a: "a" }), [{ ref: 2 ** 60, minTime: 0, maxTime: 1 }]), "invalid-value");
    await expectFormatError(w.addSeries(L({ a: "a" }), [{ ref: 8, minTime: 0.5, maxTime: 1 }]), "invalid-value");
    // Equal refs are allowed (Prometheus rejects only decreasing refs); across series too.
    await w.addSeries(L({ a: "a" }), [{ ref: 100, minTime: 0, maxTime: 10 }]);
    await expectFormatError(
      w.addSeries(L({ a: "b" }), [{ ref: 99, minTime: 0, maxTime: 10 }]),
      "out-of-order",
      /ref=99/,
    );
    await w.addSeries(L({ a: "b" }), [{ ref: 100, minTime: 0, maxTime: 10 }]);
    // Rejected calls wrote nothing: the index is still valid.
    const sink = new RecordingSink();
    const w2 = new IndexWriter(sink);
    await w2.addSymbols(syms);
    await expectFormatError(w2.addSeries(L({ a: "a" }), [{ ref: 8, minTime: 10, maxTime: 9 }]), "invalid-value");
    await w2.addSeries(L({ a: "a" }), [{ ref: 8, minTime: 1, maxTime: 9 }]);
    await w2.close();
    const r = await IndexReader.open(new MemorySource(sink.bytes()));
    const got = [];
    for await (const s of r.iterSeries()) got.push(s);
    expect(got.map((s) => s.labels)).toEqual([L({ a: "a" })]);
  });

  it("enforces the format's size limits", () => {
    expect(seriesIdForOffset(16 * MAX_U32)).toBe(MAX_U32);
    expect(() => seriesIdForOffset(16 * (MAX_U32 + 1))).toThrow(FormatError);
    expect(() => seriesIdForOffset(24)).toThrow(/16-byte/);
    expect(() => checkSectionLength(MAX_U32, "x", 0)).not.toThrow();
    expect(() => checkSectionLength(MAX_U32 + 1, "symbol table", 5)).toThrow(/symbol table too large/);
    expect(() => checkIndexSize(MAX_INDEX_SIZE)).not.toThrow();
    expect(() => checkIndexSize(MAX_INDEX_SIZE + 1)).toThrow(FormatError);
  });
});
