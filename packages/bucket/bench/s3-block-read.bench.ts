/**
 * The read path over S3, measured: a whole-block read, a compaction of three 2h blocks and a
 * 5m downsampling, each from local disk (DirBlockSource / DirBlockSink, what the CLI uses for
 * directories), the plain emulator and the emulator shaped as real S3 (20 ms before each
 * answer, 90 MB/s per connection), through the sources production gives the engines: one
 * `StoreBlockSource` per input sharing `RangeCache.forJob(inputs)` (packages/pipeline's
 * BlockEngines, packages/cli's BlockArgs), the output through `StoreBlockSink` into the bucket
 * (as production) or, in the "→ disk" rows, to disk (the read path alone). Every variant runs
 * in each round, one after the other, in this process (the emulator in a child: its CPU is
 * printed, since on a small machine it competes with the job), after a warm-up round; the
 * figures are medians of the rounds. The machine may be shared: compare the ratios.
 * Target: compaction and downsampling through the shaped S3 at ≥ 70% of their disk
 * throughput (a WARNING line when not). `STRATA_BENCH_S3=disk,shaped` picks modes (default all).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";
import { BlockReader, RESOLUTION_5M, newUlid, type BlockSink, type BlockSource } from "@strata/tsdb";
import { DirBlockSink, DirBlockSource } from "@strata/tsdb/node";
import { emit, markBaseline, type BenchResult } from "@strata/bench";
import { compactBlocks } from "@strata/compact";
import { downsampleBlock } from "@strata/downsample";
import { BucketLayout, RangeCache, StoreBlockSink, StoreBlockSource, listAll, type ObjectStore } from "../src/index.ts";
import { S3Store } from "../src/s3.ts";
import { BUCKET, CREDENTIALS, TENANT, makeBlock, serve, startEmulatorChild, type Shaping } from "./s3-fixture.ts";

const SHAPED: Shaping = { latencyMs: 20, bandwidthBytesPerSecond: 90e6 };
const TARGET = 0.7;
const ROUNDS = 5;
const H2 = 2 * 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % H2);
/** Three adjacent 2h blocks of the same 40,000 series at 15 s (compaction), and 40h of 5,000 at 30 s (downsampling). */
const COMPACT_SPEC = { series: 40_000, samples: 480, stepMs: 15_000, level: 1 };
const DOWNSAMPLE_SPEC = { series: 5_000, samples: 4_800, stepMs: 30_000, t0: T0, level: 3 };

type OutSink = BlockSink & { ulid: string; commit(): Promise<unknown> };
type Mode = "disk" | "emulator" | "shaped";
/** Where a run reads its inputs, and whether it writes into the bucket (as production) or to disk (the read path alone). */
interface Variant {
  mode: Mode;
  outToDisk: boolean;
  name: string;
}
const VARIANTS: readonly Variant[] = [
  { mode: "disk", outToDisk: true, name: "disk" },
  { mode: "emulator", outToDisk: false, name: "emulator" },
  { mode: "shaped", outToDisk: false, name: "shaped S3" },
  { mode: "emulator", outToDisk: true, name: "emulator → disk" },
  { mode: "shaped", outToDisk: true, name: "shaped S3 → disk" },
];

interface Work {
  name: string;
  /** It writes a block (so the "→ disk" variants apply). */
  writes: boolean;
  /** The blocks it reads (directories; the same ULIDs are in the bucket). */
  dirs: string[];
  samples: number;
  run(sources: BlockSource[], sink: (ulid: string) => OutSink): Promise<void>;
}

async function readAll(sources: BlockSource[]): Promise<void> {
  const r = await BlockReader.open(sources[0]!);
  let n = 0;
  for await (const s of r.series()) for (const c of s.chunks) n += c.chunk!.data.length;
  await r.close();
  if (n === 0) throw new Error("read nothing");
}

async function dirBytes(dir: string): Promise<number> {
  let total = (await stat(join(dir, "index"))).size;
  for (const f of await readdir(join(dir, "chunks"))) total += (await stat(join(dir, "chunks", f))).size;
  return total;
}

async function bench(parent: string): Promise<BenchResult[]> {
  const self = fileURLToPath(import.meta.url);
  // Built in children, so this process's peak memory is the jobs'.
  const make = (spec: object, seed: number) =>
    execFileSync(process.execPath, [self, "--make", parent, JSON.stringify(spec), String(seed)], {
      encoding: "utf8",
    }).trim();
  const inputs = [0, 1, 2].map((i) => make({ ...COMPACT_SPEC, t0: T0 + i * H2 }, 11 + i));
  const long = make(DOWNSAMPLE_SPEC, 7);
  const works: Work[] = [
    {
      name: "block read",
      writes: false,
      dirs: [inputs[0]!],
      samples: COMPACT_SPEC.series * COMPACT_SPEC.samples,
      run: readAll,
    },
    {
      name: "compaction 3×2h",
      writes: true,
      dirs: inputs,
      samples: 3 * COMPACT_SPEC.series * COMPACT_SPEC.samples,
      async run(sources, sink) {
        const r = await compactBlocks(sources, (_shard, ulid) => sink(ulid));
        for (const o of r.outputs) await (o.sink as OutSink).commit();
      },
    },
    {
      name: "downsampling 5m",
      writes: true,
      dirs: [long],
      samples: DOWNSAMPLE_SPEC.series * DOWNSAMPLE_SPEC.samples,
      async run(sources, sink) {
        const s = sink(newUlid());
        await downsampleBlock(sources[0]!, s, { resolution: RESOLUTION_5M, ulid: s.ulid });
        await s.commit();
      },
    },
  ];
  const modes = (process.env.STRATA_BENCH_S3 ?? "disk,emulator,shaped").split(",").map((m) => m.trim());
  for (const m of modes)
    if (!VARIANTS.some((v) => v.mode === m))
      throw new Error(`STRATA_BENCH_S3: unknown mode ${m} (disk, emulator, shaped)`);
  const emu = await startEmulatorChild(self, [...inputs, long]);
  const store = new S3Store({
    bucket: BUCKET,
    clientConfig: { endpoint: emu.endpoint, credentials: CREDENTIALS, region: "us-east-1" },
  });
  const layout = new BucketLayout();
  const out = join(parent, "out");
  markBaseline();
  const results: BenchResult[] = [];
  try {
    for (const w of works) {
      const bytes = (await Promise.all(w.dirs.map(dirBytes))).reduce((a, b) => a + b, 0);
      const variants = VARIANTS.filter((v) => modes.includes(v.mode) && (w.writes || v.outToDisk || v.mode === "disk"));
      const seconds: Record<string, number[]> = {};
      const emuCpu: Record<string, number[]> = {};
      const ownCpu: Record<string, number[]> = {};
      const stats: Record<string, string> = {};
      for (let round = -1; round < ROUNDS; round++) {
        for (const { mode, outToDisk, name } of variants) {
          if (mode !== "disk") await emu.shape(mode === "shaped" ? SHAPED : undefined);
          const ids = w.dirs.map((d) => d.slice(d.lastIndexOf("/") + 1));
          // As production: the job's inputs share one page cache (RangeCache.forJob).
          const cache = RangeCache.forJob(ids.length);
          const sources: BlockSource[] =
            mode === "disk"
              ? w.dirs.map((d) => new DirBlockSource(d))
              : ids.map((id) => new StoreBlockSource(store, layout.blockPrefix(TENANT, id), cache));
          const sink =
            outToDisk || !w.writes
              ? (ulid: string) => Object.assign(new DirBlockSink(out, ulid), { ulid })
              : (ulid: string) =>
                  Object.assign(new StoreBlockSink(store, layout.blockPrefix("bench-out", ulid)), { ulid });
          const cpu0 = await emu.cpuSeconds();
          const own0 = process.cpuUsage();
          const t0 = performance.now();
          await w.run(sources, sink);
          const s = (performance.now() - t0) / 1000;
          const own = process.cpuUsage(own0);
          const cpu = (await emu.cpuSeconds()) - cpu0;
          if (round >= 0) (ownCpu[name] ??= []).push((own.user + own.system) / 1e6);
          if (round >= 0) (seconds[name] ??= []).push(s);
          if (round >= 0) (emuCpu[name] ??= []).push(cpu);
          if (mode !== "disk")
            stats[name] =
              `${cache.stats.gets} GETs (${cache.stats.aheadGets} read ahead), ` +
              `${(cache.stats.fetchedBytes / 1e6).toFixed(0)} MB fetched, cache peak ${(cache.stats.peakBytes / 2 ** 20).toFixed(0)} MiB`;
          await rm(out, { recursive: true, force: true });
          if (mode !== "disk" && !outToDisk) await deleteAll(store, "bench-out/");
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const disk = seconds.disk ? median(seconds.disk) : undefined;
      for (const { mode, outToDisk, name } of variants) {
        const s = median(seconds[name]!);
        const ratio = disk === undefined ? undefined : disk / s;
        const gated = mode === "shaped" && w.writes && !outToDisk;
        const ratioText = ratio === undefined ? "" : `${(ratio * 100).toFixed(0)}% of disk`;
        results.push({
          name: `${w.name}, ${name}`,
          samples: w.samples,
          bytes,
          seconds: s,
          target: gated ? `≥ ${TARGET * 100}% of disk: ${ratioText}` : ratioText,
        });
        process.stderr.write(
          `${w.name}, ${name}: median ${s.toFixed(3)} s of [${seconds[name]!.map((x) => x.toFixed(3)).join(", ")}]` +
            `, ${(bytes / s / 1e6).toFixed(1)} MB/s${ratio === undefined ? "" : `, ${ratioText}`}` +
            `; this process's CPU ${median(ownCpu[name]!).toFixed(2)} s` +
            (mode === "disk" ? "" : `, the emulator's ${median(emuCpu[name]!).toFixed(2)} s; ${stats[name]}`) +
            "\n",
        );
        if (gated && ratio !== undefined && ratio < TARGET)
          process.stderr.write(`WARNING: ${w.name} through the shaped S3 is below ${TARGET * 100}% of disk\n`);
      }
    }
  } finally {
    await store.close();
    emu.stop();
  }
  return results;
}

async function deleteAll(store: ObjectStore, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const o of listAll(store, prefix)) keys.push(o.key);
  await Promise.all(keys.map((k) => store.delete(k)));
}

if (import.meta.main && isMainThread) {
  const i = process.argv.indexOf("--make");
  if (i > 0) {
    const [dir, spec, seed] = process.argv.slice(i + 1);
    process.stdout.write((await makeBlock(dir!, JSON.parse(spec!), Number(seed))) + "\n");
  } else if (process.argv.includes("--serve")) await serve(process.argv.slice(process.argv.indexOf("--serve") + 1));
  else {
    const parent = await mkdtemp(join(tmpdir(), "strata-bench-s3-"));
    try {
      emit(await bench(parent));
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }
}
