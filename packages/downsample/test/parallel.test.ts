import { afterAll, describe, expect, it } from "vitest";
import {
  BlockReader,
  BlockWriter,
  Encoding,
  FormatError,
  MemoryBlock,
  RESOLUTION_1H,
  RESOLUTION_5M,
  STALE_NAN,
  compareStrings,
  encodeXOR,
  type ChunkToWrite,
  type Labels,
} from "@strata/tsdb";
import { closeWorkers, downsampleBlock } from "../src/index.ts";
import { downsampleInBatches, type BatchCounts } from "../src/parallel.ts";
import { workerLanes, type Lane } from "../src/pool.ts";
import { SeriesDownsampler } from "../src/series.ts";
import { BufferPool, type BatchBuffers } from "../src/batch.ts";

const T0 = 1_700_000_100_000;
const STEP = 30_000;
const ULID = "01HZZZZZZZZZZZZZZZZZZZZZZZ";

/** Counters with resets, gauges, NaNs and stale markers, several chunks per series. */
async function makeBlock(series: number, samples: number, corrupt?: number): Promise<MemoryBlock> {
  const b = new MemoryBlock("in");
  const w = new BlockWriter(b);
  const names = Array.from({ length: series }, (_, i) => `s${String(i).padStart(5, "0")}`);
  await w.addSymbols(["__name__", "kind", "counter", "gauge", ...names].sort(compareStrings));
  let seed = 3;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const ts = new Float64Array(samples);
  const vs = new Float64Array(samples);
  for (let s = 0; s < series; s++) {
    const counter = s % 2 === 0;
    let v = 0;
    for (let i = 0; i < samples; i++) {
      ts[i] = T0 + i * STEP + Math.floor(rnd() * 1000);
      v = counter ? (rnd() < 0.01 ? rnd() * 10 : v + rnd() * 100) : rnd() * 1e6;
      vs[i] = s % 7 === 3 && i % 50 === 7 ? (i % 100 === 7 ? STALE_NAN : NaN) : v;
    }
    const chunks: ChunkToWrite[] = [];
    for (let i = 0; i < samples; i += 120) {
      const end = Math.min(samples, i + 120);
      let data = encodeXOR(ts, vs, i, end);
      // A chunk cut short behind a valid checksum: only decoding finds it.
      if (s === corrupt && i === 120) data = data.subarray(0, 12);
      chunks.push({ minTime: ts[i]!, maxTime: ts[end - 1]!, chunk: { encoding: Encoding.XOR, data } });
    }
    const labels: Labels = [
      { name: "__name__", value: names[s]! },
      { name: "kind", value: counter ? "counter" : "gauge" },
    ];
    await w.addSeries(labels, chunks);
  }
  await w.finish({
    ulid: ULID,
    minTime: T0,
    maxTime: T0 + samples * STEP + 1000,
    stats: {},
    compaction: { level: 3, sources: [ULID] },
    version: 1,
  });
  return b;
}

async function run(
  input: MemoryBlock,
  resolution: 300_000 | 3_600_000,
  workers: number,
  batchBytes?: number,
): Promise<MemoryBlock> {
  const out = new MemoryBlock("out");
  await downsampleBlock(input, out, { resolution, ulid: ULID, workers, batchBytes });
  return out;
}

function files(b: MemoryBlock): Record<string, Uint8Array> {
  return Object.fromEntries([...b.files].filter(([k]) => k !== "meta.json"));
}

/** downsampleInBatches over a whole block, as downsampleBlock calls it. */
async function inBatches(
  input: MemoryBlock,
  lanes: Lane[],
  batchBytes?: number,
): Promise<{ counts: BatchCounts; out: MemoryBlock }> {
  const reader = await BlockReader.open(input);
  const out = new MemoryBlock("out");
  const writer = new BlockWriter(out);
  await writer.addSymbols(reader.index.symbols);
  try {
    const counts = await downsampleInBatches(
      reader.series({ withRecords: true, verifyRecords: false }),
      writer,
      new SeriesDownsampler(0, RESOLUTION_5M),
      lanes,
      {
        block: "in",
        inRes: 0,
        outRes: RESOLUTION_5M,
        batchBytes,
        verify: (ref, record) => reader.chunks.verifyRecord(ref, record),
      },
    );
    await writer.finish({ ...reader.meta, ulid: ULID, stats: {} });
    return { counts, out };
  } finally {
    await reader.close();
  }
}

/** The FormatError of downsampling `input` on one thread, with a worker, and with a worker in tiny batches. */
async function failures(input: MemoryBlock, tinyBatch: number): Promise<FormatError[]> {
  const out: FormatError[] = [];
  for (const [workers, batchBytes] of [
    [0, undefined],
    [1, undefined],
    [1, tinyBatch],
  ] as const) {
    const e = await run(input, RESOLUTION_5M, workers, batchBytes).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e, `workers ${workers}, batches of ${batchBytes ?? "default"} bytes`).toBeInstanceOf(FormatError);
    out.push(e as FormatError);
  }
  return out;
}

afterAll(closeWorkers);

describe("downsampling with worker threads", () => {
  it("writes the same bytes with 0, 1 and 2 workers, in big and in tiny batches (raw → 5m → 1h)", async () => {
    const input = await makeBlock(300, 960);
    const alone = await run(input, RESOLUTION_5M, 0);
    expect(alone.files.get("chunks/000001")!.length).toBeGreaterThan(100_000);
    for (const [workers, batchBytes] of [
      [1, undefined],
      [2, undefined],
      [1, 4096],
      [2, 1024],
    ] as const) {
      const got = await run(input, RESOLUTION_5M, workers, batchBytes);
      expect(files(got), `workers ${workers}, batches of ${batchBytes ?? "default"} bytes`).toEqual(files(alone));
      expect(new TextDecoder().decode(got.files.get("meta.json"))).toBe(
        new TextDecoder().decode(alone.files.get("meta.json")),
      );
    }
    // Aggregate chunks in: the 5m → 1h path runs in the workers too.
    const hourAlone = await run(alone, RESOLUTION_1H, 0);
    expect(files(await run(alone, RESOLUTION_1H, 2, 2048))).toEqual(files(hourAlone));
  });

  it("spreads batches over the workers and this thread, and writes them in series order", async () => {
    const input = await makeBlock(400, 480);
    const { counts, out } = await inBatches(input, workerLanes(1), 512);
    // Tiny batches overflow the worker's queue of four, so this thread ran some itself.
    expect(counts.toWorkers).toBeGreaterThan(4);
    expect(counts.here).toBeGreaterThan(0);
    expect(files(out)).toEqual(files(await run(input, RESOLUTION_5M, 0)));
  });

  it("keeps at most a few recycled buffers on each side, however many come back", () => {
    const pool = new BufferPool(2);
    const buf = (): BatchBuffers => ({ bytes: new ArrayBuffer(8), table: new ArrayBuffer(8) });
    const kept = [buf(), buf()];
    for (const b of [...kept, buf(), buf(), buf()]) pool.put(b);
    expect(pool.size).toBe(2);
    expect(pool.take()).toBe(kept[1]);
    expect(pool.take()).toBe(kept[0]);
    expect(pool.take()).toBeUndefined();
  });

  it("reports a chunk that fails to decode in a worker as it does without workers: series, chunk and cause", async () => {
    const input = await makeBlock(120, 480, 77);
    const errors = await failures(input, 2048);
    expect(errors[0]!.message).toMatch(
      /^in\/chunks: series \{__name__="s00077", kind="gauge"\}: chunk at ref \d+ \(byte 2 of its data\): XOR chunk ends inside sample 0/,
    );
    for (const e of errors.slice(1)) {
      expect(e.message).toBe(errors[0]!.message);
      expect(e.code).toBe(errors[0]!.code);
    }
  });

  it("checks chunk CRCs in the workers and on this thread, and reports a mismatch as the reader does", async () => {
    const input = await makeBlock(200, 480);
    const seg = input.files.get("chunks/000001")!;
    // A byte in the middle of the segment: inside some chunk's data.
    seg[seg.length >> 1]! ^= 0x40;
    const errors = await failures(input, 1024);
    for (const e of errors) expect(e.code).toBe("invalid-checksum");
    const messages = errors.map((e) => e.message);
    expect(messages[0]).toMatch(
      /^in\/chunks\/000001 @\d+: series \{__name__="s\d+", kind="(counter|gauge)"\}: chunk CRC32C mismatch/,
    );
    expect(messages[1]).toBe(messages[0]);
    expect(messages[2]).toBe(messages[0]);
    // Run on this thread only (the lane is busy elsewhere): the check happens here.
    const lane = workerLanes(1)[0]!;
    const busy = Array.from({ length: 4 }, () =>
      lane.run({ data: new Uint8Array(8), table: new Float64Array(1), series: 0 }, 0, RESOLUTION_5M),
    );
    const here = await inBatches(input, [lane], 1 << 20).then(
      () => undefined,
      (x: unknown) => x as FormatError,
    );
    await Promise.all(busy);
    expect(here?.message).toBe(messages[0]);
  });

  it("starts new workers after closeWorkers; a stopped worker fails its batches, and blocks go on without it", async () => {
    const input = await makeBlock(40, 480);
    const expected = files(await run(input, RESOLUTION_5M, 0));
    await closeWorkers();
    expect(files(await run(input, RESOLUTION_5M, 1))).toEqual(expected);
    const lane = workerLanes(1)[0]!;
    await lane.terminate();
    expect(lane.alive).toBe(false);
    const empty = { data: new Uint8Array(8), table: new Float64Array(1), series: 0 };
    await expect(lane.run(empty, 0, RESOLUTION_5M)).rejects.toThrow("downsampling worker was stopped");
    // Given only the dead lane, every batch runs on this thread.
    const { counts, out } = await inBatches(input, [lane], 4096);
    expect(counts).toMatchObject({ toWorkers: 0 });
    expect(counts.here).toBeGreaterThan(1);
    expect(files(out)).toEqual(expected);
    // The dead lane is replaced on the next block.
    expect(files(await run(input, RESOLUTION_5M, 1))).toEqual(expected);
  });
});
