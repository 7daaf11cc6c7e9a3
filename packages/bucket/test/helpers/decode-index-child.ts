// Run as a child process by bucket-index-limits.test.ts: decodes one index file and reports
// the error and how much the process' peak RSS grew while decoding, on one JSON line.
import { readFileSync, writeFileSync } from "node:fs";
import { decodeIndex, type IndexLimits } from "../../src/bucket-index/schema.ts";

const [file, limits] = process.argv.slice(2);
if (file === undefined) throw new Error("usage: decode-index-child <index file> [<limits JSON>]");
const bytes = readFileSync(file);
/**
 * The peak RSS of this process in bytes. Linux' VmHWM, reset first (clear_refs 5), since
 * getrusage's maxRSS carries over the parent's peak at the time it forked this child.
 */
function peak(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
}
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
try {
  writeFileSync("/proc/self/clear_refs", "5");
} catch {}
const before = process.memoryUsage();
let error: { name: string; message: string } | undefined;
let blocks: number | undefined;
try {
  blocks = decodeIndex(bytes, file, JSON.parse(limits ?? "{}") as Partial<IndexLimits>).blocks.length;
} catch (e) {
  error = { name: (e as Error).name, message: (e as Error).message };
}
const peakRss = peak();
process.stdout.write(
  JSON.stringify({
    error,
    blocks,
    rssBefore: before.rss,
    peakRss,
    peakGrowth: peakRss - before.rss,
    arrayBuffersAfter: process.memoryUsage().arrayBuffers,
    arrayBuffersBefore: before.arrayBuffers,
  }) + "\n",
);
