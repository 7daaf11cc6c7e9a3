// Writers queue filled buffers behind them (write-behind.ts): a slow sink write (the page
// cache throttling a big output) must not stall encoding until `depth` buffers wait, the
// bytes must arrive whole and in order, one write at a time, and a failure must surface.
import { describe, expect, it } from "vitest";
import { BlockWriter, Encoding, MemoryBlock, encodeXOR, type ByteSink, type ChunkToWrite } from "../src/index.ts";
import { WriteBehind } from "../src/encoding/write-behind.ts";

/** A sink whose writes finish only when released; records order and concurrency. */
class GatedSink implements ByteSink {
  readonly parts: Uint8Array[] = [];
  readonly gates: (() => void)[] = [];
  active = 0;
  maxActive = 0;
  fail = false;
  async write(bytes: Uint8Array): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    await new Promise<void>((r) => this.gates.push(r));
    this.active--;
    if (this.fail) throw new Error("disk full");
    this.parts.push(bytes.slice());
  }
  async close(): Promise<void> {}
  release(): void {
    for (const g of this.gates.splice(0)) g();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("WriteBehind", () => {
  it("double-buffers until a long wait for the sink, then queues more; bytes stay in order", async () => {
    const sink = new GatedSink();
    const wb = new WriteBehind(sink, 4, 4);
    let buf: Uint8Array = new Uint8Array(4);
    let k = 0;
    const put = async () => {
      await wb.ready();
      buf.fill(k++);
      buf = wb.swap(buf, 4);
    };
    await put(); // one queued without waiting
    let done = false;
    const second = put().then(() => {
      done = true;
    });
    await tick();
    expect(done).toBe(false); // the queue holds one: wait for the sink
    await new Promise((r) => setTimeout(r, 15));
    sink.release();
    await second;
    // That wait was long (throttling): two may queue now, the third waits.
    await put();
    let third = false;
    const p = put().then(() => {
      third = true;
    });
    await tick();
    expect(third).toBe(false);
    while (sink.parts.length < 4) {
      sink.release();
      await tick();
    }
    await p;
    const settled = wb.settle();
    while (sink.gates.length > 0) {
      sink.release();
      await tick();
    }
    await settled;
    expect(sink.parts.map((x) => x[0])).toEqual([0, 1, 2, 3]);
    expect(sink.maxActive).toBe(1); // the sink sees one write at a time
  });

  it("rethrows a failed write and writes nothing after it", async () => {
    const sink = new GatedSink();
    const wb = new WriteBehind(sink, 4, 4);
    let buf: Uint8Array = new Uint8Array(4);
    sink.fail = true;
    buf = wb.swap(buf, 4);
    wb.swap(buf, 4);
    const settled = wb.settle();
    await tick();
    sink.release();
    await expect(settled).rejects.toThrow("disk full");
    await tick();
    expect(sink.gates.length).toBe(0); // the second write never started
    await expect(wb.ready()).rejects.toThrow("disk full");
  });
});

describe("BlockWriter over a throttled sink", () => {
  it("writes the same block bytes as over a plain sink, encoding ahead of slow writes", async () => {
    const series = (i: number) => {
      const ts = Float64Array.from({ length: 120 }, (_, k) => k * 15_000);
      const vs = Float64Array.from({ length: 120 }, (_, k) => Math.sin(i + k) * 1e6);
      const chunks: ChunkToWrite[] = [
        { minTime: 0, maxTime: ts[119]!, chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 0, 120) } },
      ];
      return { labels: [{ name: "i", value: String(100000 + i) }], chunks };
    };
    const n = 3000;
    const symbols = [...Array.from({ length: n }, (_, i) => String(100000 + i)), "i"];
    const write = async (block: MemoryBlock) => {
      const w = new BlockWriter(block, { segmentSize: 1 << 20 });
      await w.addSymbols(symbols);
      for (let i = 0; i < n; i++) {
        const s = series(i);
        await w.addSeries(s.labels, s.chunks);
      }
      return w.finish({
        ulid: "x",
        minTime: 0,
        maxTime: 1,
        stats: {},
        compaction: { level: 1, sources: [] },
        version: 1,
      });
    };
    const plain = new MemoryBlock("plain");
    await write(plain);
    // Every sink write of the slow block takes a macrotask: encoding must still finish whole.
    const slow = new MemoryBlock("slow");
    const create = slow.create.bind(slow);
    slow.create = async (rel: string) => {
      const inner = await create(rel);
      return {
        write: async (b: Uint8Array) => {
          await new Promise((r) => setTimeout(r, 1));
          await inner.write(b);
        },
        close: () => inner.close(),
      };
    };
    await write(slow);
    expect([...slow.files.keys()].sort()).toEqual([...plain.files.keys()].sort());
    for (const [k, v] of plain.files) expect(Buffer.compare(slow.files.get(k)!, v), k).toBe(0);
  });
});
