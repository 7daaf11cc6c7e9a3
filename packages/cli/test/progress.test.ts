// The progress renderer: a self-rewriting status line on a terminal, plain lines elsewhere.
import { describe, expect, it } from "vitest";
import { MemoryBlock } from "@strata/tsdb";
import { Progress, formatBytes, formatSeconds, type ProgressStream } from "../src/progress.ts";
import { ReadProgress } from "../src/read-progress.ts";

function stream(isTTY: boolean, columns?: number): ProgressStream & { text: string } {
  const s = {
    text: "",
    isTTY,
    columns,
    write(x: string) {
      s.text += x;
      return true;
    },
  };
  return s;
}

describe("Progress", () => {
  it("on a terminal rewrites one status line (blocks, bytes, throughput, ETA) and prints item lines above it", () => {
    let now = 0;
    const status = stream(true);
    const out = stream(false);
    const p = new Progress({ unit: "blocks", totalItems: 2, totalBytes: 4 << 20, status, out, now: () => now });
    now = 1000;
    p.addBytes(1 << 20);
    expect(status.text).toBe("\r0/2 blocks, 1.0 MiB/4.0 MiB, 1.0 MiB/s, ETA 3s\x1b[K");
    now = 1050;
    p.addBytes(1 << 20); // within the redraw interval: not drawn
    expect(status.text.split("\r").length).toBe(2);
    now = 2000;
    p.itemDone("team-a/01A: uploaded");
    expect(out.text).toBe("team-a/01A: uploaded\n");
    expect(status.text.endsWith("\r\x1b[K\r1/2 blocks, 2.0 MiB/4.0 MiB, 1.0 MiB/s, ETA 2s\x1b[K")).toBe(true);
    p.note("verifying 01B");
    expect(status.text.endsWith("ETA 2s  verifying 01B\x1b[K")).toBe(true);
    p.itemDone("strata upload: team-a/01B: fails verification", 2 << 20, { failed: true });
    expect(status.text).toContain("strata upload: team-a/01B: fails verification\n");
    expect(status.text.endsWith("2/2 blocks, 4.0 MiB/4.0 MiB, 2.0 MiB/s, 2s elapsed\x1b[K")).toBe(true);
    p.finish();
    expect(status.text.endsWith("\r\x1b[K")).toBe(true);
  });

  it("elsewhere prints one plain line per item with the figures, and nothing in between", () => {
    let now = 0;
    const status = stream(false);
    const out = stream(false);
    const p = new Progress({ unit: "blocks", totalItems: 2, totalBytes: 2048, status, out, now: () => now });
    now = 500;
    p.note("verifying");
    p.addBytes(1024);
    p.log("a problem");
    p.itemDone("01A: uploaded");
    p.finish();
    expect(status.text).toBe("");
    expect(out.text).toBe("a problem\n01A: uploaded  [1/2 blocks, 1.0 KiB/2.0 KiB, 2.0 KiB/s, ETA <1s]\n");
  });

  it("cuts the status line to the terminal's width", () => {
    const status = stream(true, 20);
    const p = new Progress({ unit: "blocks", totalItems: 1, totalBytes: 1, status, out: stream(false), now: () => 0 });
    p.note("a very long note that does not fit");
    expect(status.text).toBe(`\r${"0/1 blocks, 0 B/1 B,".slice(0, 19)}\x1b[K`);
  });

  it("formats bytes and seconds", () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(5 * 2 ** 40)]).toEqual([
      "0 B",
      "1023 B",
      "1.5 KiB",
      "5.0 TiB",
    ]);
    expect([formatSeconds(0.4), formatSeconds(62), formatSeconds(7500)]).toEqual(["<1s", "62s", "2h5m"]);
  });
});

describe("ReadProgress (compact, downsample, convert, verify)", () => {
  it("on a terminal counts the reads of the block files opened and shows bytes, throughput and ETA; elsewhere nothing", async () => {
    expect(ReadProgress.forTerminal("compacting", stream(false))).toBeUndefined();
    let now = 0;
    const status = stream(true);
    const p = ReadProgress.forTerminal("compacting", status, () => now)!;
    const block = new MemoryBlock("b");
    block.files.set("index", new Uint8Array(3 << 20));
    block.files.set("chunks/000001", new Uint8Array(1 << 20));
    const src = p.wrap(block);
    const index = await src.open("index");
    const chunks = (await src.tryOpen("chunks/000001"))!;
    now = 1000;
    expect((await index.read(0, 1 << 20)).length).toBe(1 << 20);
    expect(status.text).toBe("\rcompacting: 1.0 MiB/4.0 MiB read, 1.0 MiB/s, ETA 3s\x1b[K");
    now = 2000;
    await chunks.read(0, 1 << 20);
    expect(status.text.endsWith("\rcompacting: 2.0 MiB/4.0 MiB read, 1.0 MiB/s, ETA 2s\x1b[K")).toBe(true);
    expect(await src.listChunkFiles()).toEqual(await block.listChunkFiles());
    p.finish();
    expect(status.text.endsWith("\r\x1b[K")).toBe(true);
  });
});
