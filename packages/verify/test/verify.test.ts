import { describe, expect, it } from "vitest";
import {
  Encoding,
  type MemoryBlock,
  crc32c,
  encodeXOR,
  encodeTombstones,
  Tombstones,
  type ByteSource,
} from "@strata/tsdb";
import { Code, verifyBlock, type ProblemCode, type VerifyReport } from "../src/index.ts";
import { be32, be64, buildBlock, cloneBlock, putBe32, xorChunk, T0, STEP } from "./helpers.ts";
import { rawBlock, type RawChunk, type RawSeries } from "./raw-block.ts";

const c1 = xorChunk(T0, 10, 1);
const c2 = xorChunk(T0 + 10 * STEP, 10, 2);
const ch = (c: typeof c1): RawChunk => ({ minT: c.minTime, maxT: c.maxTime, chunk: c.chunk });
const series = (name: string, chunks: RawChunk[] = [ch(c1), ch(c2)]): RawSeries => ({
  labels: [
    ["__name__", "m"],
    ["i", name],
  ],
  chunks,
});

function codes(r: VerifyReport): ProblemCode[] {
  return [...new Set(r.problems.map((p) => p.code))].sort();
}

async function verifyRaw(o: Parameters<typeof rawBlock>[0]): Promise<VerifyReport> {
  const { block, ulid } = rawBlock(o);
  return verifyBlock(block, { expectedUlid: ulid });
}

describe("verifyBlock on healthy blocks", () => {
  it("accepts a BlockWriter block with a Thanos section", async () => {
    const { block, ulid } = await buildBlock({ thanos: true });
    const r = await verifyBlock(block, { expectedUlid: ulid });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.stats).toMatchObject({ series: 5, chunks: 10, samples: 100, floatSamples: 100, postingsLists: 8 });
  });

  it("accepts the permissive test builder's output when it is well formed", async () => {
    const r = await verifyRaw({ series: [series("a"), series("b")] });
    expect(r.problems).toEqual([]);
  });
});

describe("series and chunk checks (exact codes)", () => {
  const cases: [string, Parameters<typeof rawBlock>[0], ProblemCode[]][] = [
    [
      "labels out of order",
      {
        series: [
          {
            labels: [
              ["i", "a"],
              ["__name__", "m"],
            ],
            chunks: [ch(c1)],
          },
        ],
      },
      [Code.OutOfOrderLabels],
    ],
    [
      "duplicate label name",
      {
        series: [
          {
            labels: [
              ["a", "1"],
              ["a", "2"],
            ],
            chunks: [ch(c1)],
          },
        ],
      },
      [Code.DuplicateLabelName],
    ],
    ["empty label set", { series: [{ labels: [], chunks: [ch(c1)] }] }, [Code.EmptyLabelSet]],
    ["series out of order", { series: [series("b"), series("a")] }, [Code.SeriesOutOfOrder]],
    ["duplicate series", { series: [series("a"), series("a")] }, [Code.DuplicateSeries]],
    [
      "series without chunks",
      { series: [series("a"), series("b", [])], minTime: T0, maxTime: T0 + 20 * STEP },
      [Code.SeriesWithoutChunks],
    ],
    ["chunks out of order", { series: [series("a", [ch(c2), ch(c1)])] }, [Code.OutOfOrderChunks]],
    ["duplicated chunks", { series: [series("a", [ch(c1), ch(c1), ch(c2)])] }, [Code.DuplicatedChunks]],
    ["overlapping chunks", { series: [series("a", [ch(c1), ch(xorChunk(T0, 10, 7))])] }, [Code.OverlappingChunks]],
    ["chunk partly outside", { series: [series("a")], minTime: T0 + STEP }, [Code.OutsideChunks]],
    [
      "chunk completely outside (and one partly)",
      { series: [series("a")], maxTime: T0 + 5 * STEP },
      [Code.CompleteOutsideChunks, Code.OutsideChunks],
    ],
    ["issue 347 chunk", { series: [series("a")], maxTime: T0 + 10 * STEP }, [Code.Issue347OutsideChunks]],
    ["chunk ends at maxTime", { series: [series("a")], maxTime: T0 + 19 * STEP }, [Code.ChunkEndsAtMaxTime]],
    [
      "chunk time inverted",
      {
        series: [series("a", [{ minT: c1.maxTime, maxT: c1.minTime, chunk: c1.chunk }])],
        minTime: T0,
        maxTime: T0 + 20 * STEP,
      },
      [Code.ChunkTimeInverted, Code.ChunkTimeMismatch],
    ],
    [
      "chunk ref out of range",
      { series: [series("a", [{ minT: T0, maxT: T0 + 9 * STEP, ref: 1e6 }])] },
      [Code.ChunkRefOutOfRange],
    ],
    [
      "empty chunk",
      { series: [series("a", [{ minT: T0, maxT: T0, chunk: { encoding: Encoding.XOR, data: Uint8Array.of(0, 0) } }])] },
      [Code.EmptyChunk],
    ],
    [
      "unknown encoding",
      { series: [series("a", [{ minT: T0, maxT: T0, chunk: { encoding: 9, data: Uint8Array.of(0, 1, 2) } }])] },
      [Code.UnknownChunkEncoding],
    ],
    [
      "truncated chunk",
      {
        series: [
          series("a", [
            {
              minT: c1.minTime,
              maxT: c1.maxTime,
              chunk: { encoding: Encoding.XOR, data: c1.chunk.data.subarray(0, 12) },
            },
          ]),
        ],
      },
      [Code.ChunkDecodeError],
    ],
    [
      "chunk time mismatch",
      { series: [series("a", [{ minT: c1.minTime, maxT: c1.maxTime + 1, chunk: c1.chunk }])] },
      [Code.ChunkTimeMismatch],
    ],
    [
      "samples not increasing",
      {
        series: [
          series("a", [
            {
              minT: T0,
              maxT: T0,
              chunk: { encoding: Encoding.XOR, data: encodeXOR(Float64Array.of(T0, T0), Float64Array.of(1, 2), 0, 2) },
            },
          ]),
        ],
      },
      [Code.ChunkSamplesOutOfOrder],
    ],
    ["symbols out of order", { series: [series("a")], symbols: ["i", "a", "__name__", "m"] }, [Code.SymbolsOutOfOrder]],
    ["stats mismatch", { series: [series("a")], meta: { stats: { numSeries: 9n } } }, [Code.MetaStatsMismatch]],
    [
      "sources unsorted",
      {
        series: [series("a")],
        meta: { compaction: { level: 2, sources: ["01KZZZZZZZZZZZZZZZZZZZZZZZ", "01A00000000000000000000000"] } },
      },
      [Code.SourcesInvalid],
    ],
    ["minTime not before maxTime", { series: [series("a")], minTime: T0, maxTime: T0 }, [Code.MetaInvalid]],
  ];
  for (const [name, o, want] of cases) {
    it(name, async () => {
      const r = await verifyRaw(o);
      expect(codes(r)).toEqual([...want].sort());
      for (const p of r.problems) expect(p.file).toBeDefined();
    });
  }

  it("reports a symbol reference past the table", async () => {
    const r = await verifyRaw({ series: [{ labels: [["#ref:99", "m"]], chunks: [ch(c1)] }] });
    expect(codes(r)).toContain(Code.SymbolRefOutOfRange);
    expect(r.ok).toBe(false);
  });

  it("reports decreasing chunk refs as a warning only", async () => {
    // Two series with identical chunks; the first points at the second's record and vice versa.
    const rec = 1 + 1 + c1.chunk.data.length + 4;
    const r = await verifyRaw({
      series: [series("a", [{ ...ch(c1), ref: 8 + rec }]), series("b", [{ ...ch(c1), ref: 8 }])],
    });
    expect(codes(r)).toEqual([Code.ChunkRefsOutOfOrder]);
    expect(r.ok).toBe(true);
  });

  it("caps problems per code but counts them all", async () => {
    const many = Array.from({ length: 30 }, (_, i) => ({
      labels: [
        ["__name__", "m"],
        ["i", String(i).padStart(2, "0")],
      ] as [string, string][],
      chunks: [ch(c1), ch(c1)],
    }));
    const { block } = rawBlock({ series: many });
    const r = await verifyBlock(block, { maxProblemsPerCode: 4 });
    expect(r.counts.DuplicatedChunks).toBe(30);
    expect(r.problems.filter((p) => p.code === Code.DuplicatedChunks)).toHaveLength(4);
  });
});

describe("postings checks", () => {
  const two = [series("a"), series("b")];
  const idsOf = (l: Map<string, number[]>) => l.get("\0")!;
  it("unsorted ids", async () => {
    const r = await verifyRaw({ series: two, postings: (l) => l.get("\0")!.reverse() });
    expect(codes(r)).toEqual([Code.PostingsUnsorted]);
  });
  it("dangling id", async () => {
    const r = await verifyRaw({ series: two, postings: (l) => l.get("i\0a")!.push(99999) });
    expect(codes(r)).toEqual([Code.PostingsDangling]);
  });
  it("series missing from a list", async () => {
    const r = await verifyRaw({ series: two, postings: (l) => l.get("__name__\0m")!.pop() });
    expect(codes(r)).toEqual([Code.PostingsMissingSeries]);
    expect(r.problems[0]!.series).toBe('{__name__="m", i="b"}');
  });
  it("series missing from all-postings", async () => {
    const r = await verifyRaw({ series: two, postings: (l) => idsOf(l).pop() });
    expect(codes(r)).toEqual([Code.PostingsMissingSeries]);
  });
  it("list holding a series without that label", async () => {
    const r = await verifyRaw({ series: two, postings: (l) => l.set("i\0a", [...l.get("i\0a")!, ...l.get("i\0b")!]) });
    expect(codes(r)).toEqual([Code.PostingsExtraSeries]);
  });
  it("empty list", async () => {
    const r = await verifyRaw({
      series: two,
      symbols: ["__name__", "a", "b", "i", "m", "x"],
      postings: (l) => l.set("x\0x", []),
    });
    expect(codes(r)).toEqual([Code.PostingsEmpty]);
    expect(r.ok).toBe(true);
  });
});

/** Byte edits of a BlockWriter block. */
describe("byte-level corruption", () => {
  let base: MemoryBlock;
  let ulid: string;
  const edit = async (fn: (b: MemoryBlock) => void): Promise<VerifyReport> => {
    if (!base) ({ block: base, ulid } = await buildBlock({ thanos: true }));
    const b = cloneBlock(base);
    fn(b);
    return verifyBlock(b, { expectedUlid: ulid });
  };
  const idx = (b: MemoryBlock) => b.files.get("index")!;
  const toc = (b: MemoryBlock) => {
    const i = idx(b);
    const at = i.length - 52;
    return { at, symbols: be64(i, at), series: be64(i, at + 8), postingsTable: be64(i, at + 40) };
  };
  const fixTocCrc = (i: Uint8Array) => putBe32(i, i.length - 4, crc32c(i, i.length - 52, i.length - 4));

  it("bad index magic", async () => {
    const r = await edit((b) => (idx(b)[0] = 0));
    expect(codes(r)).toEqual([Code.BadMagic]);
    expect(r.problems[0]).toMatchObject({ file: "index", offset: 0, severity: "reject" });
  });
  it("unknown index version; version 3 only warns", async () => {
    expect(codes(await edit((b) => (idx(b)[4] = 9)))).toEqual([Code.UnsupportedVersion]);
    const r = await edit((b) => (idx(b)[4] = 3));
    expect(codes(r)).toEqual([Code.IndexVersion]);
    expect(r.ok).toBe(true);
  });
  it("TOC checksum and offsets", async () => {
    expect(codes(await edit((b) => (idx(b)[idx(b).length - 10]! ^= 1)))).toEqual([Code.BadChecksum]);
    const r = await edit((b) => {
      const i = idx(b);
      putBe32(i, i.length - 52 + 40, 0);
      putBe32(i, i.length - 52 + 44, 0x7fffffff);
      fixTocCrc(i);
    });
    expect(codes(r)).toEqual([Code.TocInvalid]);
  });
  it("symbol table checksum", async () => {
    const r = await edit((b) => (idx(b)[toc(b).symbols + 9]! ^= 0x01));
    expect(codes(r)).toContain(Code.BadChecksum);
    expect(r.problems.find((p) => p.code === Code.BadChecksum)!.file).toBe("index");
  });
  it("a length field claiming 4 GiB allocates nothing and is reported", async () => {
    const r = await edit((b) => putBe32(idx(b), toc(b).symbols, 0xfffffff0));
    expect(codes(r)).toEqual([Code.OutOfBounds]);
    expect(r.problems[0]).toMatchObject({ file: "index", offset: 5 });
  });
  it("series entry checksum", async () => {
    const r = await edit((b) => {
      const s = Math.ceil(toc(b).series / 16) * 16;
      idx(b)[s + 2]! ^= 0x40;
    });
    expect(codes(r)).toEqual([Code.BadChecksum]);
  });
  it("non-zero padding between series", async () => {
    const r = await edit((b) => {
      const i = idx(b);
      const s = Math.ceil(toc(b).series / 16) * 16;
      const end = s + 1 + i[s]! + 4;
      i[end] = 7;
    });
    expect(codes(r)).toEqual([Code.SeriesMisaligned]);
  });
  it("postings offset table entry with 3 keys", async () => {
    const r = await edit((b) => {
      const i = idx(b);
      const at = toc(b).postingsTable;
      const len = be32(i, at);
      i[at + 8] = 3;
      putBe32(i, at + 8 + len - 4, crc32c(i, at + 4, at + 4 + len));
    });
    expect(codes(r)).toEqual([Code.PostingsTableInvalid]);
  });
  it("postings list checksum", async () => {
    const r = await edit((b) => (idx(b)[toc(b).postingsTable - 2]! ^= 0x10));
    expect(codes(r)).toEqual([Code.BadChecksum]);
  });
  it("chunk checksum, segment magic and version", async () => {
    const r = await edit((b) => (b.files.get("chunks/000001")![12]! ^= 0x01));
    expect(codes(r)).toEqual([Code.BadChecksum]);
    expect(r.problems[0]).toMatchObject({
      file: "chunks/000001",
      offset: 8,
      series: '{__name__="m", i="000", job="j"}',
    });
    expect(codes(await edit((b) => (b.files.get("chunks/000001")![0] = 0)))).toContain(Code.BadMagic);
    expect(codes(await edit((b) => (b.files.get("chunks/000001")![4] = 2)))).toContain(Code.UnsupportedVersion);
  });
  it("missing or misnamed files", async () => {
    expect(codes(await edit((b) => b.files.delete("meta.json")))).toEqual([Code.MetaMissing]);
    expect(codes(await edit((b) => b.files.delete("index")))).toEqual([Code.IndexMissing]);
    const r = await edit((b) => b.files.delete("chunks/000001"));
    expect(codes(r)).toContain(Code.NoSegments);
    const r2 = await edit((b) => {
      b.files.set("chunks/000002", b.files.get("chunks/000001")!);
      b.files.delete("chunks/000001");
    });
    expect(codes(r2)).toContain(Code.SegmentNamesNotConsecutive);
    expect(codes(r2)).toContain(Code.ThanosFilesMismatch);
  });
  it("meta.json: bad JSON, ULID mismatch, Thanos file sizes", async () => {
    expect(codes(await edit((b) => b.files.set("meta.json", new TextEncoder().encode("{"))))).toEqual([
      Code.MetaInvalid,
    ]);
    const r = await verifyBlock(cloneBlock(base), { expectedUlid: "01ARZ3NDEKTSV4RRFFQ69G5FAV" });
    expect(codes(r)).toEqual([Code.UlidMismatch]);
    const r2 = await edit((b) => {
      const c = b.files.get("chunks/000001")!;
      const n = new Uint8Array(c.length + 3);
      n.set(c);
      b.files.set("chunks/000001", n);
    });
    expect(codes(r2)).toEqual([Code.ThanosFilesMismatch]);
    expect(r2.problems[0]!.severity).toBe("repairable");
  });
  it("tombstones: bad checksum, unknown series, stats", async () => {
    expect(codes(await edit((b) => (b.files.get("tombstones")![8] = 1)))).toEqual([Code.BadChecksum]);
    const t = new Tombstones();
    t.add(12345, { mint: 0, maxt: 10 });
    const r = await edit((b) => b.files.set("tombstones", encodeTombstones(t)));
    expect(codes(r)).toEqual([Code.MetaStatsMismatch, Code.TombstoneInvalid]);
  });
  it("an I/O failure is CriticalErr, never a throw", async () => {
    const b = cloneBlock(base);
    const failing = Object.create(b) as MemoryBlock;
    failing.open = async (p: string): Promise<ByteSource> => {
      const s = await b.open(p);
      if (p !== "index") return s;
      return {
        size: s.size,
        read: async () => Promise.reject(Object.assign(new Error("EIO: i/o error"), { code: "EIO" })),
      };
    };
    failing.tryOpen = failing.open;
    const r = await verifyBlock(failing);
    expect(codes(r)).toEqual([Code.CriticalErr]);
    expect(r.problems[0]!.message).not.toMatch(/^internal error/);
  });
});
