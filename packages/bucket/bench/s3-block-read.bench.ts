/**
 * Reading a whole block in place from S3 (fauxqs behind the enforcing proxy, in a child
 * process so this process's peak memory is the reader's): every series and every chunk's
 * bytes through StoreBlockSource (ranged GETs, coalescing, page cache), against the same
 * block read from local disk.
 */
import { spawn, execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { BlockReader, BlockWriter, Encoding, compareStrings, encodeXOR, newUlid, type BlockSource } from "@strata/tsdb";
import { DirBlockSink, DirBlockSource } from "@strata/tsdb/node";
import { emit, type BenchResult } from "@strata/bench";
import { BucketLayout, RangeCache, StoreBlockSource, uploadBlock } from "../src/index.ts";
import { S3Store } from "../src/s3.ts";

const SERIES = 4000;
const SAMPLES = 1440;
const T0 = 1_700_000_000_000;
const BUCKET = "bench";

async function makeBlock(parent: string): Promise<string> {
  const sink = new DirBlockSink(parent, newUlid());
  const w = new BlockWriter(sink);
  const names = Array.from({ length: SERIES }, (_, i) => `instance-${String(i).padStart(6, "0")}`);
  await w.addSymbols(["__name__", "instance", "node_cpu_seconds_total", ...names].sort(compareStrings));
  const ts = new Float64Array(SAMPLES);
  const vs = new Float64Array(SAMPLES);
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let s = 0; s < SERIES; s++) {
    let v = Math.floor(rnd() * 1e6);
    for (let i = 0; i < SAMPLES; i++) {
      ts[i] = T0 + i * 15_000 + (rnd() < 0.05 ? Math.floor(rnd() * 50) : 0);
      vs[i] = v += Math.floor(rnd() * 100) / 4;
    }
    const chunks = [];
    for (let i = 0; i < SAMPLES; i += 120) {
      const end = Math.min(SAMPLES, i + 120);
      chunks.push({
        minTime: ts[i]!,
        maxTime: ts[end - 1]!,
        chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, i, end) },
      });
    }
    await w.addSeries(
      [
        { name: "__name__", value: "node_cpu_seconds_total" },
        { name: "instance", value: names[s]! },
      ],
      chunks,
    );
  }
  await w.finish({
    ulid: sink.ulid,
    minTime: T0,
    maxTime: T0 + SAMPLES * 15_000,
    stats: {},
    compaction: { level: 1, sources: [sink.ulid] },
    version: 1,
  });
  return sink.commit();
}

async function readAll(src: BlockSource): Promise<{ samples: number; bytes: number }> {
  const r = await BlockReader.open(src);
  const bytes = r.index.size + r.chunks.segments.reduce((a, s) => a + s.size, 0);
  let samples = 0;
  for await (const s of r.series()) for (const c of s.chunks) samples += (c.chunk!.data[0]! << 8) | c.chunk!.data[1]!;
  await r.close();
  return { samples, bytes };
}

async function bench(): Promise<BenchResult[]> {
  const parent = await mkdtemp(join(tmpdir(), "strata-bench-s3-"));
  const self = fileURLToPath(import.meta.url);
  const dir = execFileSync(process.execPath, [self, "--make", parent], { encoding: "utf8" }).trim();
  const id = dir.slice(dir.lastIndexOf("/") + 1);
  // The emulator runs, and the block is uploaded, in a child: this process only reads.
  const server = spawn(process.execPath, [self, "--serve", dir], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once("line", resolve);
      server.once("exit", (c) => reject(new Error(`emulator exited with ${c}`)));
    });
    const store = new S3Store({
      bucket: BUCKET,
      clientConfig: { endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" }, region: "us-east-1" },
    });
    const layout = new BucketLayout();
    const results: BenchResult[] = [];
    for (const [name, make] of [
      [
        "block read via S3 ranged GETs",
        () =>
          new StoreBlockSource(
            store,
            layout.blockPrefix("bench", id),
            new RangeCache({ maxBytes: 16 << 20, pageSize: 1 << 20 }),
          ),
      ],
      ["block read from local disk", () => new DirBlockSource(dir)],
    ] as const) {
      let best = Infinity;
      let r = { samples: 0, bytes: 0 };
      for (let run = 0; run < 3; run++) {
        const t0 = performance.now();
        r = await readAll(make());
        best = Math.min(best, (performance.now() - t0) / 1000);
      }
      results.push({ name, samples: r.samples, bytes: r.bytes, seconds: best });
    }
    await store.close();
    return results;
  } finally {
    server.stdin!.end();
    await rm(parent, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const i = process.argv.indexOf("--make");
  if (i > 0) process.stdout.write((await makeBlock(process.argv[i + 1]!)) + "\n");
  else if (process.argv.includes("--serve")) {
    const { startS3Emulator } = await import("@strata/emulator");
    const emu = await startS3Emulator({ buckets: [BUCKET] });
    const dir = process.argv[process.argv.indexOf("--serve") + 1]!;
    const store = new S3Store({
      bucket: BUCKET,
      clientConfig: {
        endpoint: emu.endpoint,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
        region: "us-east-1",
      },
    });
    await uploadBlock(store, new BucketLayout(), "bench", dir.slice(dir.lastIndexOf("/") + 1), new DirBlockSource(dir));
    await store.close();
    process.stdout.write(emu.endpoint + "\n");
    process.stdin.resume();
    process.stdin.on("end", () => void emu.stop().then(() => process.exit(0)));
  } else emit(await bench());
}
