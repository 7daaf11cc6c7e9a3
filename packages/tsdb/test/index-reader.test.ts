import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { crc32c } from "../src/encoding/crc32c.ts";
import { Encbuf } from "../src/encoding/encbuf.ts";
import { FormatError } from "../src/encoding/errors.ts";
import { MemorySource, type ByteSink } from "../src/encoding/source.ts";
import { compareStrings } from "../src/encoding/utf8.ts";
import { compareLabels, type Label } from "../src/labels/labels.ts";
import { IndexReader, type SeriesEntry } from "../src/index/reader.ts";
import { IndexWriter } from "../src/index/writer.ts";
import {
  U32List,
  decodePostings,
  encodePostings,
  intersectAll,
  intersectPostings,
  subtractPostings,
  unionPostings,
} from "../src/index/postings.ts";
import { mulberry32 } from "@strata/testkit";

const fixture = (p: string) => new Uint8Array(readFileSync(new URL(`fixtures/${p}`, import.meta.url)));
const open = (b: Uint8Array) => IndexReader.open(new MemorySource(b));

async function collect(r: IndexReader, windowSize?: number): Promise<SeriesEntry[]> {
  const out: SeriesEntry[] = [];
  for await (const s of r.iterSeries({ windowSize })) out.push(s);
  return out;
}

/** Cross-check postings against the series: every list holds exactly the series carrying its pair. */
async function checkPostingsAgainstSeries(r: IndexReader, series: SeriesEntry[]): Promise<void> {
  const want = new Map<string, number[]>();
  for (const s of series) {
    for (const l of s.labels) {
      const k = `${l.name}\u0000${l.value}`;
      want.set(k, [...(want.get(k) ?? []), s.id]);
    }
  }
  const pairs = r.postingsOffsets().filter((e) => e.name !== "");
  expect(pairs.length).toBe(want.size);
  for (const e of pairs)
    expect(await r.postings(e.name, e.value)).toEqual(Uint32Array.from(want.get(`${e.name}\u0000${e.value}`)!));
  expect(await r.allPostings()).toEqual(Uint32Array.from(series.map((s) => s.id)));
}

describe("IndexReader on the format doc example", () => {
  it("decodes the example bytes", async () => {
    const md = readFileSync(new URL("../docs/format/index.md", import.meta.url), "utf8");
    const bytes: number[] = [];
    for (const line of md.split("```hex")[1]!.split("```")[0]!.split("\n")) {
      for (const tok of line.trim().split(/\s+/)) {
        if (!/^[0-9A-Fa-f]{2}$/.test(tok)) break;
        bytes.push(parseInt(tok, 16));
      }
    }
    const r = await open(new Uint8Array(bytes));
    expect(r.size).toBe(154);
    expect(r.toc).toEqual({
      symbols: 5,
      series: 22,
      labelIndices: 46,
      labelIndicesTable: 80,
      postings: 46,
      postingsTable: 80,
    });
    expect(r.symbols).toEqual(["", "a", "b"]);
    expect(r.seriesSectionRange()).toEqual({ start: 22, end: 46 });
    expect(await r.series(2)).toEqual({
      id: 2,
      labels: [{ name: "a", value: "b" }],
      chunks: [{ ref: 8, minTime: 1000, maxTime: 2000 }],
    });
    expect(r.postingsOffsets()).toEqual([
      { name: "", value: "", offset: 48 },
      { name: "a", value: "b", offset: 64 },
    ]);
    expect(await r.postings("a", "b")).toEqual(Uint32Array.of(2));
    expect(await r.legacyLabelIndices()).toEqual([]);
  });
});

describe("IndexReader on a promtool 2.42 index (legacy label index sections)", () => {
  // Made by `promtool tsdb create-blocks-from openmetrics input.om out` (Prometheus 2.42).
  const bytes = fixture("index-promtool-2.42/index");
  const om = readFileSync(new URL("fixtures/index-promtool-2.42/input.om", import.meta.url), "utf8");
  const samples = new Map<string, { labels: Label[]; times: number[] }>();
  for (const line of om.split("\n")) {
    const m = /^(\w+)\{(.*)\} \S+ (\d+)$/.exec(line);
    if (!m) continue;
    const labels: Label[] = [{ name: "__name__", value: m[1]! }];
    for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) labels.push({ name: p[1]!, value: p[2]! });
    labels.sort((a, b) => compareStrings(a.name, b.name));
    const key = JSON.stringify(labels);
    const e = samples.get(key) ?? { labels, times: [] };
    e.times.push(Number(m[3]) * 1000);
    samples.set(key, e);
  }
  const expected = [...samples.values()].sort((a, b) => compareLabels(a.labels, b.labels));

  it("parses every section, in Go string order", async () => {
    const r = await open(bytes);
    expect(r.version).toBe(2);
    // < 3.7 layout: label indices between series and postings, label offset table before the postings table.
    expect(r.toc.labelIndices).toBeLessThan(r.toc.postings);
    expect(r.toc.labelIndicesTable).toBeLessThan(r.toc.postingsTable);
    expect(r.seriesSectionRange()).toEqual({ start: r.toc.series, end: r.toc.labelIndices });
    for (let i = 1; i < r.symbols.length; i++) expect(compareStrings(r.symbols[i - 1]!, r.symbols[i]!)).toBe(-1);
    expect(r.labelNames()).toEqual(["__name__", "code", "instance", "job", "path", "room"]);
    expect(r.labelValues("path")).toEqual(["/", "/api", "/ünï", "/\uff61", "/\u{1f600}"]);

    const series = await collect(r, 100);
    expect(series.map((s) => s.labels)).toEqual(expected.map((e) => e.labels));
    expect(series.reduce((n, s) => n + s.chunks.length, 0)).toBe(58);
    series.forEach((s, i) => {
      const times = expected[i]!.times;
      expect(s.chunks[0]!.minTime).toBe(times[0]);
      expect(s.chunks[s.chunks.length - 1]!.maxTime).toBe(times[times.length - 1]);
      for (let j = 1; j < s.chunks.length; j++) expect(s.chunks[j]!.minTime).toBeGreaterThan(s.chunks[j - 1]!.maxTime);
    });
    expect(series.find((s) => s.labels[0]!.value === "temp")!.chunks.length).toBe(3);
    for (const s of series) expect(await r.series(s.id)).toEqual(s);
    await checkPostingsAgainstSeries(r, series);
  });

  it("reads the legacy label indices, which agree with the postings offset table", async () => {
    const r = await open(bytes);
    const li = await r.legacyLabelIndices();
    expect(li.map((x) => x.names)).toEqual(r.labelNames().map((n) => [n]));
    for (const x of li) {
      expect(x.values).toEqual(r.labelValues(x.names[0]!));
      expect(x.offset % 4).toBe(0);
      expect(x.offset).toBeGreaterThanOrEqual(r.toc.labelIndices);
      expect(x.offset).toBeLessThan(r.toc.postings);
    }
    // Postings are contiguous there too; the last list ends where the label offset table starts.
    const po = r.postingsOffsets();
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    for (let i = 1; i < po.length; i++)
      expect(po[i]!.offset).toBe(po[i - 1]!.offset + 8 + view.getUint32(po[i - 1]!.offset));
    const last = po[po.length - 1]!.offset;
    expect(last + 8 + view.getUint32(last)).toBe(r.toc.labelIndicesTable);
  });
});

// fixtures/index-v1/index is prometheus/prometheus tsdb/testdata/index_format_v1/index (at d15adb9ad7e5).
describe("IndexReader on Prometheus' V1 fixture (tsdb/testdata/index_format_v1)", () => {
  it("reads offsets-as-ids, offset symbol refs and the unsorted offset table", async () => {
    const r = await open(fixture("index-v1/index"));
    expect(r.version).toBe(1);
    const series = await collect(r, 64);
    expect(series.length).toBe(102);
    expect(series[0]!.id).toBe(r.toc.series);
    expect(series[0]).toEqual({
      id: 323,
      labels: [{ name: "bar", value: "0" }],
      chunks: [{ ref: 8, minTime: 0, maxTime: 0 }],
    });
    for (let i = 1; i < series.length; i++) expect(compareLabels(series[i - 1]!.labels, series[i]!.labels)).toBe(-1);
    expect(r.labelNames()).toEqual(["bar", "foo"]);
    expect(r.labelValues("bar")).toEqual(
      [...new Set(series.flatMap((s) => s.labels.filter((l) => l.name === "bar").map((l) => l.value)))].sort(
        compareStrings,
      ),
    );
    expect(r.symbol(13)).toBe("0");
    expect(() => r.symbol(14)).toThrow(FormatError);
    for (const s of series.slice(0, 10)) expect(await r.series(s.id)).toEqual(s);
    await checkPostingsAgainstSeries(r, series);
    const li = await r.legacyLabelIndices();
    for (const x of li) expect([...x.values].sort(compareStrings)).toEqual(r.labelValues(x.names[0]!));
  });
});

// ---------------------------------------------------------------------------------------
// Hardening: corrupt files must produce FormatErrors naming the file and absolute offset.

class Sink implements ByteSink {
  parts: Uint8Array[] = [];
  async write(b: Uint8Array) {
    this.parts.push(b.slice());
  }
  async close() {}
}

async function smallIndex(): Promise<Uint8Array> {
  const sink = new Sink();
  const w = new IndexWriter(sink);
  await w.addSymbols(["", "1", "2", "a", "b", "x"]);
  await w.addSeries([{ name: "a", value: "1" }], [{ ref: 8, minTime: 0, maxTime: 100 }]);
  await w.addSeries(
    [
      { name: "a", value: "2" },
      { name: "b", value: "x" },
    ],
    [
      { ref: 30, minTime: 0, maxTime: 100 },
      { ref: 60, minTime: 101, maxTime: 200 },
    ],
  );
  await w.addSeries([{ name: "b", value: "x" }], [{ ref: 90, minTime: -5, maxTime: 5 }]);
  await w.close();
  return new Uint8Array(Buffer.concat(sink.parts));
}

/** Everything a consumer might read. */
async function readEverything(b: Uint8Array): Promise<void> {
  const r = await open(b);
  for await (const s of r.iterSeries({ windowSize: 64 })) await r.series(s.id);
  for (const e of r.postingsOffsets()) await r.postings(e.name, e.value);
  await r.legacyLabelIndices();
}

async function formatError(p: Promise<unknown>): Promise<FormatError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof FormatError)) throw new Error(`expected a FormatError, got ${String(e)}`);
  expect(e.file).toBe("index");
  return e;
}

const setBE32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, false);
/** Recompute the BE32 CRC stored at `end` over b[start, end). */
const fixCrc = (b: Uint8Array, start: number, end: number) => setBE32(b, end, crc32c(b, start, end));

describe("IndexReader hardening", async () => {
  const good = await smallIndex();
  const r0 = await open(good);
  const toc = r0.toc;
  const series = await collect(r0);
  const po = r0.postingsOffsets();
  const symEnd = toc.series - 4; // symbol table CRC position
  const ptLen = new DataView(good.buffer, good.byteOffset).getUint32(toc.postingsTable);
  const ptCrc = toc.postingsTable + 4 + ptLen;
  const copy = () => new Uint8Array(good);

  it("reads the undamaged file", async () => {
    expect(series.map((s) => s.labels.map((l) => l.value).join())).toEqual(["1", "2,x", "x"]);
    expect(series[2]!.chunks).toEqual([{ ref: 90, minTime: -5, maxTime: 5 }]);
    await readEverything(good);
  });

  it("rejects bad magic, unknown versions and short files", async () => {
    const b = copy();
    b[0] = 0;
    expect((await formatError(open(b))).code).toBe("bad-magic");
    const v = copy();
    v[4] = 4;
    const e = await formatError(open(v));
    expect([e.code, e.offset]).toEqual(["unsupported-version", 4]);
    for (let n = 0; n < good.length; n++) {
      const err = await formatError(open(good.subarray(0, n)));
      expect(["invalid-size", "invalid-checksum", "bad-magic"]).toContain(err.code);
    }
  });

  it("verifies the TOC, symbol table and postings offset table CRCs at open", async () => {
    const t = copy();
    t[t.length - 10]! ^= 1;
    let e = await formatError(open(t));
    expect([e.code, e.offset]).toEqual(["invalid-checksum", good.length - 4]);
    const s = copy();
    s[12]! ^= 0x20;
    e = await formatError(open(s));
    expect([e.code, e.offset]).toEqual(["invalid-checksum", symEnd]);
    expect(e.message).toMatch(/symbol table/);
    const p = copy();
    p[toc.postingsTable + 10]! ^= 1;
    e = await formatError(open(p));
    expect([e.code, e.offset]).toEqual(["invalid-checksum", ptCrc]);
  });

  it("verifies each series entry's CRC and the padding between entries", async () => {
    const b = copy();
    const off = series[1]!.id * 16;
    b[off + 2]! ^= 1;
    const r = await open(b);
    let e = await formatError(r.series(series[1]!.id));
    expect(e.code).toBe("invalid-checksum");
    expect(e.offset).toBe(off + 1 + b[off]!); // CRC follows the 1-byte len and the body
    e = await formatError(collect(r));
    expect(e.code).toBe("invalid-checksum");
    const pad = copy();
    pad[off - 1] = 7;
    e = await formatError(collect(await open(pad)));
    expect([e.code, e.offset]).toEqual(["invalid-value", off - 1]);
    e = await formatError(r0.series(10_000));
    expect(e.code).toBe("invalid-value");
  });

  it("verifies each postings list's CRC, length and order", async () => {
    const at = po.find((x) => x.name === "b")!.offset;
    const b = copy();
    b[at + 9]! ^= 1;
    let e = await formatError((await open(b)).postings("b", "x"));
    expect([e.code, e.offset]).toEqual(["invalid-checksum", at + 16]);
    const n = copy();
    setBE32(n, at + 4, 3); // count no longer matches len
    fixCrc(n, at + 4, at + 16);
    e = await formatError((await open(n)).postings("b", "x"));
    expect([e.code, e.offset]).toEqual(["invalid-size", at]);
    const o = copy();
    setBE32(o, at + 8, 1000); // ids [1000, 3]: decreasing
    fixCrc(o, at + 4, at + 16);
    e = await formatError((await open(o)).postings("b", "x"));
    expect([e.code, e.offset]).toEqual(["out-of-order", at + 12]);
  });

  it("checks huge length and count fields against the file before allocating", async () => {
    const s = copy();
    setBE32(s, 5, 0xfffffff0);
    let e = await formatError(open(s));
    expect([e.code, e.offset]).toEqual(["invalid-size", 5]);
    const c = copy();
    setBE32(c, 9, 0x7fffffff); // symbol count, CRC fixed up so only the bound catches it
    fixCrc(c, 9, symEnd);
    e = await formatError(open(c));
    expect([e.code, e.offset]).toEqual(["invalid-size", 9]);
    const pt = copy();
    setBE32(pt, toc.postingsTable, 0xffffff00);
    e = await formatError(open(pt));
    expect([e.code, e.offset]).toEqual(["invalid-size", toc.postingsTable]);
    const ptc = copy();
    setBE32(ptc, toc.postingsTable + 4, 0x10000000);
    fixCrc(ptc, toc.postingsTable + 4, ptCrc);
    e = await formatError(open(ptc));
    expect([e.code, e.offset]).toEqual(["invalid-size", toc.postingsTable + 4]);
    const pl = copy();
    setBE32(pl, po[1]!.offset, 0xfffffff0);
    e = await formatError((await open(pl)).postings(po[1]!.name, po[1]!.value));
    expect([e.code, e.offset]).toEqual(["invalid-size", po[1]!.offset]);
    // A 5-byte series length varint of 2^32-1.
    const sl = copy();
    const off = series[0]!.id * 16;
    sl.set([0xff, 0xff, 0xff, 0xff, 0x0f], off);
    e = await formatError((await open(sl)).series(series[0]!.id));
    expect([e.code, e.offset]).toEqual(["invalid-size", off]);
    e = await formatError(collect(await open(sl)));
    expect([e.code, e.offset]).toEqual(["invalid-size", off]);
  });

  it("rejects a bad TOC offset, keyCount ≠ 2, unsorted tables and unknown symbol refs", async () => {
    const tocAt = good.length - 52;
    const t = copy();
    setBE32(t, tocAt + 44, good.length); // postingsTable past the data
    fixCrc(t, tocAt, tocAt + 48);
    let e = await formatError(open(t));
    expect([e.code, e.offset]).toEqual(["invalid-size", tocAt + 40]);

    const k = copy();
    const first = toc.postingsTable + 8;
    expect(k[first]).toBe(2);
    k[first] = 3;
    fixCrc(k, toc.postingsTable + 4, ptCrc);
    e = await formatError(open(k));
    expect([e.code, e.offset]).toEqual(["invalid-value", first]);

    // Swap the values of (a,1) and (a,2) in place: the table is no longer sorted.
    const u = copy();
    const pos1 = Buffer.from(u).indexOf(Buffer.from([2, 1, 0x61, 1, 0x31]), toc.postingsTable);
    const pos2 = Buffer.from(u).indexOf(Buffer.from([2, 1, 0x61, 1, 0x32]), pos1 + 5);
    expect(pos1).toBeGreaterThan(0);
    expect(pos2).toBeGreaterThan(pos1);
    u[pos1 + 4] = 0x32;
    u[pos2 + 4] = 0x31;
    fixCrc(u, toc.postingsTable + 4, ptCrc);
    e = await formatError(open(u));
    expect([e.code, e.offset]).toEqual(["out-of-order", pos2]);

    // A series label value ref pointing past the symbol table.
    const sr = copy();
    const off = series[0]!.id * 16; // len, #labels=1, nameRef, valueRef
    sr[off + 3] = 0x7f;
    fixCrc(sr, off + 1, off + 1 + sr[off]!);
    e = await formatError((await open(sr)).series(series[0]!.id));
    expect([e.code, e.offset]).toEqual(["invalid-value", off + 3]);
  });

  it("never throws anything but FormatError on randomly damaged files", async () => {
    const rnd = mulberry32(77);
    const legacy = fixture("index-promtool-2.42/index");
    let failures = 0;
    for (let i = 0; i < 1500; i++) {
      const b = i % 3 === 2 ? new Uint8Array(legacy) : copy();
      const flips = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < flips; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        await readEverything(b);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        expect(e.file).toBe("index");
        expect(typeof e.offset).toBe("number");
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(1000);
  });
});

describe("postings helpers", () => {
  const rnd = mulberry32(5);
  const randList = (n: number, max: number) =>
    Uint32Array.from(new Set(Array.from({ length: n }, () => Math.floor(rnd() * max)))).sort();

  it("encode/decode round-trips with the raw layout", () => {
    const e = new Encbuf(8);
    encodePostings(e, [2, 5, 0xffffffff]);
    expect(Buffer.from(e.bytes()).toString("hex").slice(0, 40)).toBe(
      "00000010" + "00000003" + "00000002" + "00000005" + "ffffffff",
    );
    const d = decodePostings(e.bytes(), 0, 100);
    expect(d.ids).toEqual(Uint32Array.of(2, 5, 0xffffffff));
    expect(d.end).toBe(24);
    const l = new U32List(1);
    for (let i = 0; i < 100; i++) l.push(i * 3);
    expect(l.toArray()).toEqual(Uint32Array.from({ length: 100 }, (_, i) => i * 3));
  });

  it("intersect, union and subtract agree with a Set model", () => {
    for (let k = 0; k < 100; k++) {
      const a = randList(Math.floor(rnd() * 300), 500);
      const b = randList(Math.floor(rnd() * 3000), k % 2 ? 500 : 5000);
      const c = randList(Math.floor(rnd() * 100), 500);
      const sb = new Set(b);
      const sc = new Set(c);
      expect(intersectPostings(a, b)).toEqual(a.filter((x) => sb.has(x)));
      expect(intersectPostings(b, a)).toEqual(a.filter((x) => sb.has(x)));
      expect(intersectAll([a, b, c])).toEqual(a.filter((x) => sb.has(x) && sc.has(x)));
      expect(unionPostings([a, b, c])).toEqual(Uint32Array.from(new Set([...a, ...b, ...c])).sort());
      expect(subtractPostings(a, b)).toEqual(a.filter((x) => !sb.has(x)));
    }
    expect(intersectAll([])).toEqual(new Uint32Array(0));
    expect(unionPostings([])).toEqual(new Uint32Array(0));
  });
});
