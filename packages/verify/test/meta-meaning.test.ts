/**
 * meta.json checked for meaning, not only shape: size cap (before a byte is read),
 * time range, future, resolution, and sources against level and resolution.
 */
import { describe, expect, it } from "vitest";
import { MAX_META_BYTES, newUlid, type BlockMeta, type ByteSource, type MemoryBlock } from "@strata/tsdb";
import { Code, SEVERITY, verifyBlock, type ProblemCode, type VerifyOptions, type VerifyReport } from "../src/index.ts";
import { T0, xorChunk } from "./helpers.ts";
import { rawBlock } from "./raw-block.ts";

const DAY = 86_400_000;
const c1 = xorChunk(T0, 10, 1);

function block(meta: Partial<BlockMeta> = {}, range: { minTime?: number; maxTime?: number } = {}): MemoryBlock {
  return rawBlock({
    series: [{ labels: [["__name__", "m"]], chunks: [{ minT: c1.minTime, maxT: c1.maxTime, chunk: c1.chunk }] }],
    ...range,
    meta,
  }).block;
}

function codes(r: VerifyReport): ProblemCode[] {
  return [...new Set(r.problems.map((p) => p.code))].sort();
}

const at = (opts: VerifyOptions = {}) => ({ now: T0 + DAY, ...opts });

/** Every problem of these codes names meta.json and says what was expected and found. */
function wellFormed(r: VerifyReport): void {
  for (const p of r.problems) {
    expect(p.file).toBe("meta.json");
    expect(p.expected).toBeDefined();
    expect(p.found).toBeDefined();
    expect(p.severity).toBe("reject");
  }
}

describe("new meta codes are stable rejects", () => {
  it("has a reject severity for each", () => {
    for (const c of [
      Code.MetaTooLarge,
      Code.MetaRangeTooLong,
      Code.MetaInFuture,
      Code.ResolutionInvalid,
      Code.SourcesInconsistent,
    ])
      expect(SEVERITY[c]).toBe("reject");
  });
});

describe("meta.json size", () => {
  /** A block whose meta.json is replaced by `text`; counts reads of it. */
  function withMeta(text: Uint8Array): { b: MemoryBlock; reads: () => number } {
    const b = block();
    b.files.set("meta.json", text);
    let reads = 0;
    const open = b.tryOpen.bind(b);
    b.tryOpen = async (p: string) => {
      const s = await open(p);
      if (p !== "meta.json" || !s) return s;
      const wrapped: ByteSource = { size: s.size, read: (o, l) => (reads++, s.read(o, l)) };
      return wrapped;
    };
    return { b, reads: () => reads };
  }
  const badSources = (bytes: number) => {
    const n = Math.floor(bytes / 14);
    return new TextEncoder().encode(
      `{"ulid":"${newUlid()}","minTime":${T0},"maxTime":${T0 + 1000},"stats":{},"compaction":{"level":2,"sources":[${Array(n).fill('"not-a-ulid"').join(",")}]},"version":1}`,
    );
  };

  it("a 2 MiB and a 24 MiB meta.json are MetaTooLarge without being read", async () => {
    for (const size of [2 << 20, 24 << 20]) {
      const text = size === 2 << 20 ? badSources(size) : new Uint8Array(size);
      const { b, reads } = withMeta(text);
      const t = performance.now();
      const r = await verifyBlock(b, at());
      const ms = performance.now() - t;
      expect(r.counts).toEqual({ MetaTooLarge: 1 });
      const p = r.problems[0];
      expect(p).toMatchObject({
        file: "meta.json",
        severity: "reject",
        expected: `≤ ${MAX_META_BYTES} bytes`,
        found: `${text.length} bytes`,
      });
      expect(reads()).toBe(0);
      expect(ms).toBeLessThan(500); // the rest of the (tiny) block is still verified
    }
  });

  it("maxMetaBytes moves the cap; 2 MiB of bad sources is then rejected at the first one, quickly", async () => {
    const { b } = withMeta(badSources(2 << 20));
    const t = performance.now();
    const r = await verifyBlock(b, at({ maxMetaBytes: 4 << 20 }));
    const ms = performance.now() - t;
    expect(codes(r)).toEqual([Code.MetaInvalid]);
    expect(r.counts.MetaInvalid).toBe(1);
    expect(r.problems[0]!.message).toMatch(/^compaction\.sources\[0\]: not a ULID/);
    expect(r.problems[0]!.found).toBe('"not-a-ulid"');
    expect(ms).toBeLessThan(500); // ~40 ms measured; zod alone took 10 s and 1.6 GB before
    const small = block();
    expect(codes(await verifyBlock(small, at({ maxMetaBytes: 100 })))).toEqual([Code.MetaTooLarge]);
  });
});

describe("time range", () => {
  it("MetaRangeTooLong above maxRangeMs (default 14 days)", async () => {
    const exactly14 = block({}, { minTime: c1.maxTime + 1 - 14 * DAY, maxTime: c1.maxTime + 1 });
    expect((await verifyBlock(exactly14, at())).problems).toEqual([]);
    const b = block({}, { minTime: c1.maxTime - 14 * DAY, maxTime: c1.maxTime + 1 });
    const r = await verifyBlock(b, at());
    expect(codes(r)).toEqual([Code.MetaRangeTooLong]);
    wellFormed(r);
    expect(r.problems[0]!.expected).toBe(`≤ ${14 * DAY} ms`);
    expect(codes(await verifyBlock(b, at({ maxRangeMs: 15 * DAY })))).toEqual([]);
  });

  it("MetaInFuture past now + futureSlackMs (default 1 day)", async () => {
    const b = block();
    const maxTime = c1.maxTime + 1;
    expect(codes(await verifyBlock(b, { now: maxTime - DAY }))).toEqual([]);
    const r = await verifyBlock(b, { now: maxTime - DAY - 1 });
    expect(codes(r)).toEqual([Code.MetaInFuture]);
    wellFormed(r);
    expect(codes(await verifyBlock(b, { now: maxTime - DAY - 1, futureSlackMs: 2 * DAY }))).toEqual([]);
    // Default now is the clock: this 2023 block is in the past, one in the year 3000 is not.
    expect(codes(await verifyBlock(b))).toEqual([]);
    const far = 32_503_680_000_000;
    const r2 = await verifyBlock(block({}, { minTime: far, maxTime: far + 1 }));
    expect(codes(r2)).toContain(Code.MetaInFuture);
  });
});

describe("resolution", () => {
  for (const res of [0, 300_000, 3_600_000]) {
    it(`accepts ${res}`, async () => {
      const r = await verifyBlock(
        block({
          compaction: { level: 2, sources: [newUlid()] },
          thanos: { labels: {}, downsample: { resolution: res }, source: "compactor" },
        }),
        at(),
      );
      expect(r.problems).toEqual([]);
    });
  }
  for (const res of [1, 60_000, 600_000, -300_000]) {
    it(`rejects ${res}`, async () => {
      const r = await verifyBlock(
        block({
          compaction: { level: 2, sources: [newUlid()] },
          thanos: { labels: {}, downsample: { resolution: res }, source: "compactor" },
        }),
        at(),
      );
      expect(codes(r)).toEqual([Code.ResolutionInvalid]);
      wellFormed(r);
      expect(r.problems[0]!.found).toBe(String(res));
    });
  }
});

describe("sources against level and resolution", () => {
  const self = newUlid();
  const [a, b] = [newUlid(T0 - 2 * DAY), newUlid(T0 - DAY)];
  const thanos = (source: string, res = 0, more: object = {}) => ({
    thanos: { labels: { r: "1" }, downsample: { resolution: res }, source, ...more },
  });
  const ok: [string, Partial<BlockMeta>][] = [
    ["raw level 1, no sources", { ulid: self, compaction: { level: 1 } }],
    ["raw level 1, empty sources", { ulid: self, compaction: { level: 1, sources: [] } }],
    [
      "raw level 1, itself (Prometheus, Mimir, receive)",
      { ulid: self, compaction: { level: 1, sources: [self] }, ...thanos("receive") },
    ],
    [
      "raw level 1, repaired by Thanos (keeps the original's source)",
      { ulid: self, compaction: { level: 1, sources: [a] }, ...thanos("compactor.repair") },
    ],
    ["raw level 1, bucket repair", { ulid: self, compaction: { level: 1, sources: [a] }, ...thanos("bucket.repair") }],
    [
      "raw level 1, rewritten by Strata",
      { ulid: self, compaction: { level: 1, sources: [a] }, ...thanos("bucket.rewrite") },
    ],
    [
      "raw level 1 repaired or rewritten by Strata (it lists itself)",
      { ulid: self, compaction: { level: 1, sources: [self] } },
    ],
    ["level 2 from two sources", { ulid: self, compaction: { level: 2, sources: [a, b] } }],
    [
      "level 4 from one source (a single-block compaction or split)",
      { ulid: self, compaction: { level: 4, sources: [a] }, ...thanos("compactor") },
    ],
    [
      "level 3 rewritten by Thanos: itself, with the old sources in thanos.rewrites",
      {
        ulid: self,
        compaction: { level: 3, sources: [self] },
        ...thanos("bucket.rewrite", 0, { rewrites: [{ sources: [a, b] }] }),
      },
    ],
    [
      "5m of a raw level-1 block",
      { ulid: self, compaction: { level: 1, sources: [a] }, ...thanos("compactor", 300_000) },
    ],
    [
      "1h of a level-3 block",
      { ulid: self, compaction: { level: 3, sources: [a, b] }, ...thanos("compactor", 3_600_000) },
    ],
  ];
  for (const [name, meta] of ok) {
    it(`accepts ${name}`, async () => {
      const r = await verifyBlock(block(meta), at());
      expect(r.problems.filter((p) => p.file === "meta.json")).toEqual([]);
    });
  }
  const bad: [string, Partial<BlockMeta>, RegExp][] = [
    ["raw level 1 with two sources", { ulid: self, compaction: { level: 1, sources: [a, b] } }, /more than one source/],
    [
      "raw level 1 with itself and another",
      { ulid: self, compaction: { level: 1, sources: [a, self].sort() } },
      /more than one source/,
    ],
    [
      "raw level 1 from a sidecar naming another block",
      { ulid: self, compaction: { level: 1, sources: [a] }, ...thanos("sidecar") },
      /other than itself/,
    ],
    [
      "raw level 1 without a Thanos section naming another block (Prometheus cuts blocks with themselves as source)",
      { ulid: self, compaction: { level: 1, sources: [a] } },
      /other than itself/,
    ],
    ["level 2 without sources", { ulid: self, compaction: { level: 2 } }, /empty/],
    ["level 2 listing itself", { ulid: self, compaction: { level: 2, sources: [a, self].sort() } }, /itself/],
    [
      "level 3 listing only itself without a rewrite record",
      { ulid: self, compaction: { level: 3, sources: [self] }, ...thanos("compactor") },
      /itself/,
    ],
    [
      "5m without sources",
      { ulid: self, compaction: { level: 1 }, ...thanos("compactor", 300_000) },
      /downsampled.*empty|empty.*downsampled/,
    ],
    [
      "1h listing itself",
      { ulid: self, compaction: { level: 1, sources: [self] }, ...thanos("compactor", 3_600_000) },
      /itself/,
    ],
  ];
  for (const [name, meta, msg] of bad) {
    it(`rejects ${name}`, async () => {
      const r = await verifyBlock(block(meta), at());
      expect(codes(r)).toEqual([Code.SourcesInconsistent]);
      wellFormed(r);
      expect(r.problems[0]!.message).toMatch(msg);
      expect(r.ok).toBe(false);
    });
  }
});
