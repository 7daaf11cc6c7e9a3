/**
 * The S3 read-path bench's fixtures: node-exporter-like blocks written with our own writer,
 * and an emulator in a child process (so this process's CPU and peak memory are the job's)
 * that holds them and switches between plain and shaped on a line of stdin.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { DirBlockSource } from "@strata/tsdb/node";
import { lcg, writeNodeBlock } from "@strata/testkit";
import { BucketLayout, uploadBlock } from "../src/index.ts";
import { S3Store } from "../src/s3.ts";

export const BUCKET = "bench";
export const TENANT = "bench";
export const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

export interface BlockSpec {
  series: number;
  samples: number;
  stepMs: number;
  t0: number;
  level: number;
}

/** A block of `series` counters and gauges (half each) under one job, 120-sample XOR chunks. */
export function makeBlock(parent: string, spec: BlockSpec, seed: number): Promise<string> {
  const half = Math.ceil(spec.series / 2);
  return writeNodeBlock(parent, {
    ...spec,
    instances: Array.from({ length: half }, (_, i) => `host-${String(i).padStart(7, "0")}:9100`),
    gauges: "walk",
    rnd: lcg(seed),
  });
}

export interface Shaping {
  latencyMs: number;
  bandwidthBytesPerSecond: number;
}

/** The emulator child: `shape(s)` / `shape(undefined)` switch its proxy, `cpuSeconds()` is its CPU time so far, `stop()` ends it. */
export interface EmulatorChild {
  endpoint: string;
  shape(s: Shaping | undefined): Promise<void>;
  cpuSeconds(): Promise<number>;
  stop(): void;
}

/** Start `self --serve dir…` (see `serve`) and wait for its endpoint. */
export async function startEmulatorChild(self: string, dirs: readonly string[]): Promise<EmulatorChild> {
  const child: ChildProcess = spawn(process.execPath, [self, "--serve", ...dirs], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: Interface = createInterface({ input: child.stdout! });
  const it = lines[Symbol.asyncIterator]();
  const next = async () => {
    const r = await it.next();
    if (r.done) throw new Error("the emulator child exited");
    return r.value;
  };
  const endpoint = await next();
  return {
    endpoint,
    async shape(s) {
      child.stdin!.write(s ? `shape ${s.latencyMs} ${s.bandwidthBytesPerSecond}\n` : "plain\n");
      if ((await next()) !== "ok") throw new Error("the emulator child did not acknowledge");
    },
    async cpuSeconds() {
      child.stdin!.write("cpu\n");
      return Number(await next());
    },
    stop: () => void child.stdin!.end(),
  };
}

/** The child's side: an emulator holding the blocks under `bench/`, answering `shape`/`plain` lines. */
export async function serve(dirs: readonly string[]): Promise<void> {
  const { startS3Emulator } = await import("@strata/emulator");
  const emu = await startS3Emulator({ buckets: [BUCKET] });
  const store = new S3Store({
    bucket: BUCKET,
    clientConfig: { endpoint: emu.endpoint, credentials: CREDENTIALS, region: "us-east-1" },
  });
  for (const dir of dirs)
    await uploadBlock(store, new BucketLayout(), TENANT, dir.slice(dir.lastIndexOf("/") + 1), new DirBlockSource(dir));
  await store.close();
  process.stdout.write(emu.endpoint + "\n");
  const rl = createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const [cmd, latency, bandwidth] = line.split(" ");
    if (cmd === "cpu") {
      const c = process.cpuUsage();
      process.stdout.write(`${(c.user + c.system) / 1e6}\n`);
      return;
    }
    emu.proxy.setShaping(
      cmd === "shape" ? { latencyMs: Number(latency), bandwidthBytesPerSecond: Number(bandwidth) } : undefined,
    );
    process.stdout.write("ok\n");
  });
  rl.on("close", () => void emu.stop().then(() => process.exit(0)));
}
