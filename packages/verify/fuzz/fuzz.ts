/**
 * Mutation fuzzing of the verifier: real blocks (written by BlockWriter) get bit flips,
 * random bytes, truncations, swapped ranges, huge length fields, inserted bytes and
 * deleted files; every case must end in a report (never an exception, never an internal
 * error) within a time bound. Deterministic for a seed.
 */
import { BlockWriter, Encoding, MemoryBlock, compareStrings, encodeXOR, newUlid, type BlockMeta } from "@strata/tsdb";
import { verifyBlock } from "../src/verify.ts";
import type { VerifyReport } from "../src/report.ts";
import { mulberry32 } from "@strata/testkit";

export { mulberry32 } from "@strata/testkit";

/** A small healthy block: `series` series of a few metrics, XOR chunks of 30 samples, Thanos meta. */
export async function makeFuzzBlock(series = 40, seed = 1): Promise<MemoryBlock> {
  const rnd = mulberry32(seed);
  const ulid = newUlid(1_700_000_000_000);
  const b = new MemoryBlock(ulid);
  const w = new BlockWriter(b, { segmentSize: 4096 });
  const labels = Array.from({ length: series }, (_, i) => [
    { name: "__name__", value: `metric_${i % 3}` },
    { name: "instance", value: `host-${String(i).padStart(3, "0")}` },
    { name: "job", value: i % 2 ? "api" : "db" },
  ]);
  labels.sort((x, y) => compareStrings(x[0]!.value, y[0]!.value) || compareStrings(x[1]!.value, y[1]!.value));
  const syms = new Set<string>();
  for (const l of labels) for (const p of l) syms.add(p.name).add(p.value);
  await w.addSymbols([...syms].sort(compareStrings));
  const t0 = 1_700_000_000_000;
  const ts = new Float64Array(90);
  const vs = new Float64Array(90);
  for (const l of labels) {
    for (let i = 0; i < 90; i++) {
      ts[i] = t0 + i * 15_000 + Math.floor(rnd() * 100);
      vs[i] = rnd() < 0.1 ? NaN : rnd() * 1000;
    }
    const chunks = [0, 30, 60].map((s) => ({
      minTime: ts[s]!,
      maxTime: ts[s + 29]!,
      chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, s, s + 30) },
    }));
    await w.addSeries(l, chunks);
  }
  const meta: BlockMeta = {
    ulid,
    minTime: t0,
    maxTime: t0 + 90 * 15_000 + 100,
    stats: {},
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    thanos: { labels: { r: "0" }, downsample: { resolution: 0 }, source: "sidecar" },
  };
  await w.finish(meta);
  return b;
}

export interface FuzzCase {
  index: number;
  mutation: string;
  millis: number;
  report?: VerifyReport;
  error?: string;
}

function mutate(base: MemoryBlock, rnd: () => number): { block: MemoryBlock; desc: string } {
  const b = new MemoryBlock(base.name);
  for (const [k, v] of base.files) b.files.set(k, v.slice());
  const names = [...b.files.keys()];
  const weighted = (): string => {
    const r = rnd();
    const pick = (p: string) => names.filter((n) => n.startsWith(p));
    const pool =
      r < 0.55 ? pick("index") : r < 0.85 ? pick("chunks/") : r < 0.95 ? pick("meta.json") : pick("tombstones");
    return pool.length ? pool[Math.floor(rnd() * pool.length)]! : names[Math.floor(rnd() * names.length)]!;
  };
  const descs: string[] = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let m = 0; m < n; m++) {
    const file = weighted();
    let f = b.files.get(file);
    if (!f || f.length === 0) continue;
    const at = Math.floor(rnd() * f.length);
    const kind = Math.floor(rnd() * 8);
    switch (kind) {
      case 0:
      case 1: {
        const flips = 1 + Math.floor(rnd() * 8);
        for (let i = 0; i < flips; i++) f[Math.floor(rnd() * f.length)]! ^= 1 << Math.floor(rnd() * 8);
        descs.push(`${file}: ${flips} bit flips`);
        break;
      }
      case 2:
        f[at] = Math.floor(rnd() * 256);
        descs.push(`${file}@${at}: random byte`);
        break;
      case 3:
        b.files.set(file, f.slice(0, at));
        descs.push(`${file}: truncated to ${at}`);
        break;
      case 4: {
        const len = 1 + Math.floor(rnd() * Math.min(64, f.length / 2));
        const a = Math.floor(rnd() * (f.length - len));
        const c = Math.floor(rnd() * (f.length - len));
        const tmp = f.slice(a, a + len);
        f.copyWithin(a, c, c + len);
        f.set(tmp, c);
        descs.push(`${file}: swapped ${len} bytes @${a} and @${c}`);
        break;
      }
      case 5: {
        // A length/count field claiming gigabytes.
        const v = [0xffffffff, 0xfffffff0, 0x7fffffff, 0x40000000][Math.floor(rnd() * 4)]!;
        if (at + 4 <= f.length) {
          f[at] = v >>> 24;
          f[at + 1] = (v >>> 16) & 0xff;
          f[at + 2] = (v >>> 8) & 0xff;
          f[at + 3] = v & 0xff;
        }
        descs.push(`${file}@${at}: huge BE32 0x${v.toString(16)}`);
        break;
      }
      case 6: {
        // A varint with all continuation bits.
        for (let i = 0; i < 6 && at + i < f.length; i++) f[at + i] = 0xff;
        descs.push(`${file}@${at}: 0xff run`);
        break;
      }
      default: {
        if (rnd() < 0.2) {
          b.files.delete(file);
          descs.push(`${file}: deleted`);
        } else {
          const ins = Uint8Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256));
          const nf = new Uint8Array(f.length + ins.length);
          nf.set(f.subarray(0, at));
          nf.set(ins, at);
          nf.set(f.subarray(at), at + ins.length);
          b.files.set(file, nf);
          f = nf;
          descs.push(`${file}@${at}: inserted ${ins.length} bytes`);
        }
      }
    }
  }
  return { block: b, desc: descs.join("; ") };
}

/** Run `count` cases (or until `seconds` elapse) from `seed`; calls `check` after each case. */
export async function fuzz(opts: {
  seed: number;
  count: number;
  seconds?: number;
  bases: MemoryBlock[];
  onCase?: (c: FuzzCase) => void;
}): Promise<FuzzCase[]> {
  const rnd = mulberry32(opts.seed);
  const out: FuzzCase[] = [];
  const deadline = opts.seconds ? performance.now() + opts.seconds * 1000 : Infinity;
  for (let i = 0; i < opts.count && performance.now() < deadline; i++) {
    const base = opts.bases[i % opts.bases.length]!;
    const { block, desc } = mutate(base, rnd);
    const t0 = performance.now();
    const c: FuzzCase = { index: i, mutation: desc, millis: 0 };
    try {
      c.report = await verifyBlock(block);
    } catch (e) {
      c.error = (e as Error)?.stack ?? String(e);
    }
    c.millis = performance.now() - t0;
    out.push(c);
    opts.onCase?.(c);
  }
  return out;
}

/** Why a case is a failure, or undefined when it ended cleanly. */
export function caseFailure(c: FuzzCase, maxMillis: number): string | undefined {
  if (c.error) return `threw: ${c.error}`;
  const internal = c.report!.problems.find((p) => p.message.startsWith("internal error"));
  if (internal) return `internal error: ${internal.message}`;
  if (c.millis > maxMillis) return `took ${c.millis.toFixed(0)} ms`;
  return undefined;
}
