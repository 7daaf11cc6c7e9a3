/**
 * Reading a whole block from disk through the ByteSource port: every series and every chunk's
 * bytes (the path verification and compaction take), then the same plus decoding every sample.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockReader } from "../src/block/reader.ts";
import { makeBenchBlock } from "@strata/testkit";
import { decodeXOR } from "../src/chunkenc/xor.ts";
import { DirBlockSource } from "../src/node/fs.ts";
import { emit, markBaseline, type BenchResult } from "@strata/bench";

export async function benchBlockRead(): Promise<BenchResult[]> {
  const parent = await mkdtemp(join(tmpdir(), "strata-bench-"));
  try {
    // Built in a child process so this process's peak memory is the reader's alone.
    const dir = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--make", parent], {
      encoding: "utf8",
    }).trim();
    const results: BenchResult[] = [];
    for (const decode of [false, true]) {
      let best = Infinity;
      let bytes = 0;
      let samples = 0;
      for (let run = 0; run < 3; run++) {
        const t0 = performance.now();
        const r = await BlockReader.open(new DirBlockSource(dir));
        bytes = r.index.size + r.chunks.segments.reduce((a, s) => a + s.size, 0);
        samples = 0;
        let ts = new Float64Array(256);
        let vs = new Float64Array(256);
        for await (const s of r.series()) {
          for (const c of s.chunks) {
            const data = c.chunk!.data;
            if (decode) {
              const n = (data[0]! << 8) | data[1]!;
              if (n > ts.length) (ts = new Float64Array(n)), (vs = new Float64Array(n));
              samples += decodeXOR(data, ts, vs);
            } else samples += (data[0]! << 8) | data[1]!;
          }
        }
        await r.close();
        best = Math.min(best, (performance.now() - t0) / 1000);
      }
      results.push({
        name: decode ? "block read + decode all samples" : "block read (series + chunk bytes)",
        samples,
        bytes,
        seconds: best,
        target: decode ? undefined : "≥ 200 MB/s",
      });
    }
    return results;
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const make = process.argv.indexOf("--make");
  if (make > 0) process.stdout.write((await makeBenchBlock(process.argv[make + 1]!)) + "\n");
  else {
    markBaseline();
    emit(await benchBlockRead());
  }
}
