// The verifier's scans refill one window buffer per file in place (ByteSource.readInto), so
// its memory does not grow with the block, and reports the same as over a read-only source.
import { beforeAll, describe, expect, it } from "vitest";
import {
  BlockReader,
  Encoding,
  MemoryBlock,
  encodeXOR,
  type BlockSource,
  type ByteSource,
  type MemorySource,
} from "@strata/tsdb";
import { Code, repairBlock, verifyBlock, type VerifyReport } from "../src/index.ts";
import { T0, STEP, buildBlock, cloneBlock, type FixtureSeries } from "./helpers.ts";

/** Records the buffers readers fill (by ArrayBuffer identity); `readInto: false` hides readInto. */
class RecordingBlock implements BlockSource {
  readonly name: string;
  readonly inner: MemoryBlock;
  readonly withReadInto: boolean;
  readonly filled = new Map<string, Set<ArrayBufferLike>>();
  fills = 0;
  constructor(inner: MemoryBlock, readInto = true) {
    this.inner = inner;
    this.name = inner.name;
    this.withReadInto = readInto;
  }
  async open(rel: string): Promise<ByteSource> {
    const s = (await this.inner.open(rel)) as MemorySource;
    const src: ByteSource = { size: s.size, read: async (offset, length) => (await s.read(offset, length)).slice() };
    if (this.withReadInto) {
      src.readInto = async (offset, dst) => {
        let set = this.filled.get(rel);
        if (!set) this.filled.set(rel, (set = new Set()));
        set.add(dst.buffer);
        this.fills++;
        await s.readInto(offset, dst);
      };
    }
    return src;
  }
  async tryOpen(rel: string): Promise<ByteSource | undefined> {
    return this.inner.files.has(rel) ? this.open(rel) : undefined;
  }
  listChunkFiles(): Promise<string[]> {
    return this.inner.listChunkFiles();
  }
}

/** ~4 MB of chunks (random values barely compress): several 1 MiB windows per segment. */
function bigSeries(): FixtureSeries[] {
  let seed = 5;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const out: FixtureSeries[] = [];
  const ts = new Float64Array(120);
  const vs = new Float64Array(120);
  for (let s = 0; s < 1000; s++) {
    const chunks = [];
    for (let c = 0; c < 4; c++) {
      for (let i = 0; i < 120; i++) {
        ts[i] = T0 + (c * 120 + i) * STEP;
        vs[i] = rnd() * 1e9;
      }
      chunks.push({
        minTime: ts[0]!,
        maxTime: ts[119]!,
        chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 0, 120) },
      });
    }
    out.push({
      labels: [
        { name: "__name__", value: "m" },
        { name: "i", value: String(s).padStart(4, "0") },
      ],
      chunks,
    });
  }
  return out;
}

const summary = (r: VerifyReport) => ({ ok: r.ok, problems: r.problems, counts: r.counts, stats: r.stats });

describe("verifier window buffers", () => {
  let block: MemoryBlock;
  let ulid: string;
  beforeAll(async () => {
    ({ block, ulid } = await buildBlock({ series: bigSeries() }));
  });

  it("verifies a multi-window block refilling one buffer per file, with the same report as over plain reads", async () => {
    expect(block.files.get("chunks/000001")!.length).toBeGreaterThan(3 << 20);
    const src = new RecordingBlock(block);
    const r = await verifyBlock(src, { expectedUlid: ulid });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.stats.samples).toBe(1000 * 4 * 120);
    // The segment is read in > 3 windows, all into one buffer.
    expect(src.filled.get("chunks/000001")!.size).toBe(1);
    expect(src.fills).toBeGreaterThan(4);
    // The index: one buffer for the series scan, one for the postings lists.
    expect(src.filled.get("index")!.size).toBeLessThanOrEqual(2);
    const plain = await verifyBlock(new RecordingBlock(block, false), { expectedUlid: ulid });
    expect(summary(plain)).toEqual(summary(r));
  });

  it("reports a corrupt chunk deep in a reused window exactly as over plain reads", async () => {
    const bad = cloneBlock(block);
    const seg = bad.files.get("chunks/000001")!;
    const at = Math.floor(seg.length * 0.8);
    seg[at]! ^= 0xff; // inside some record past the third window: a CRC mismatch
    const a = await verifyBlock(new RecordingBlock(bad), { expectedUlid: ulid });
    const b = await verifyBlock(new RecordingBlock(bad, false), { expectedUlid: ulid });
    expect(a.ok).toBe(false);
    expect(a.problems.map((p) => p.code)).toContain(Code.BadChecksum);
    expect(summary(a)).toEqual(summary(b));
  });

  it("repairs from reused windows: the kept chunks are copies, not views of a refilled buffer", async () => {
    const out = new MemoryBlock("out");
    await repairBlock(new RecordingBlock(block), out);
    const r = await verifyBlock(out);
    expect(r.problems).toEqual([]);
    // Chunk bytes carried over exactly (a view of a since-refilled window would differ).
    const digest = async (b: MemoryBlock) => {
      const rd = await BlockReader.open(b);
      const parts: string[] = [];
      for await (const x of rd.series())
        for (const c of x.chunks) parts.push(Buffer.from(c.chunk!.data).toString("base64"));
      await rd.close();
      return parts;
    };
    const [want, got] = [await digest(block), await digest(out)];
    expect(got.length).toBe(4000);
    expect(got).toEqual(want);
  });
});
