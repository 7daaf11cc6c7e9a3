import { IndexWriter } from "./src/index/writer.ts";
import { IndexReader } from "./src/index/reader.ts";
import { MemorySource } from "./src/encoding/source.ts";
import { compareStrings } from "./src/encoding/utf8.ts";
const N = Number(process.argv[2] ?? 500000);
// labels: __name__ (100 metrics), instance (1000), job (10), pod (unique per series), zone (3)
const syms = new Set<string>(["", "__name__", "instance", "job", "pod", "zone"]);
for (let i = 0; i < 100; i++) syms.add(`metric_${String(i).padStart(3, "0")}`);
for (let i = 0; i < 1000; i++) syms.add(`10.0.${String(i).padStart(4, "0")}:9100`);
for (let i = 0; i < 10; i++) syms.add(`job-${i}`);
for (let i = 0; i < N; i++) syms.add(`pod-${String(i).padStart(8, "0")}`);
for (const z of ["eu-1", "eu-2", "us-1"]) syms.add(z);
const symbols = [...syms].sort(compareStrings);
const perMetric = Math.ceil(N / 100);
let written = 0;
const parts: Uint8Array[] = [];
const sink = { write: async (b: Uint8Array) => { parts.push(b.slice()); written += b.length; }, close: async () => {} };
const pool = new Map(symbols.map((s) => [s, s]));
const intern = (s: string) => pool.get(s)!;
const m0 = process.memoryUsage().rss;
const all: { name: string; value: string }[][] = [];
for (let i = 0; i < N; i++) {
  const m = Math.floor(i / perMetric);
  const inst = Math.floor(((i % perMetric) * 1000) / perMetric);
  const labels = [
    { name: "__name__", value: `metric_${String(m).padStart(3, "0")}` },
    { name: "instance", value: `10.0.${String(inst).padStart(4, "0")}:9100` },
    { name: "job", value: `job-${inst % 10}` },
    { name: "pod", value: `pod-${String(i).padStart(8, "0")}` },
    { name: "zone", value: ["eu-1", "eu-2", "us-1"][i % 3] },
  ];
  all.push(labels.map((l) => ({ name: intern(l.name), value: intern(l.value) })));
}
let cpu = process.cpuUsage();
let t = performance.now();
const w = new IndexWriter(sink);
await w.addSymbols(symbols);
let ref = 8;
for (let i = 0; i < N; i++) {
  const labels = all[i];
  const chunks = [0, 1, 2].map((k) => ({ ref: ref + k * 200, minTime: 1.7e12 + k * 7200000, maxTime: 1.7e12 + k * 7200000 + 7199000 }));
  ref += 600;
  await w.addSeries(labels, chunks);
}
const res = await w.close();
const tw = (() => { const c = process.cpuUsage(cpu); return (c.user + c.system) / 1000; })();
console.log(`write ${N} series: ${tw.toFixed(0)} ms (${(N / tw * 1000 / 1e6).toFixed(2)} M series/s), ${(written / 2 ** 20).toFixed(1)} MiB, rss +${((process.memoryUsage().rss - m0) / 2 ** 20).toFixed(0)} MiB`, res.seriesMaxSize, res.chunkMaxSize);
const bytes = new Uint8Array(Buffer.concat(parts));
parts.length = 0;
t = performance.now();
const r = await IndexReader.open(new MemorySource(bytes));
console.log(`open: ${(performance.now() - t).toFixed(0)} ms, ${r.postingsOffsets().length} offset entries`);
cpu = process.cpuUsage();
let n = 0;
for await (const s of r.iterSeries()) n += s.chunks.length;
const ti = (() => { const c = process.cpuUsage(cpu); return (c.user + c.system) / 1000; })();
console.log(`iterSeries: ${ti.toFixed(0)} ms (${(N / ti * 1000 / 1e6).toFixed(2)} M series/s) chunks=${n}`);
t = performance.now();
const p = await r.postings("zone", "eu-1");
const a = await r.allPostings();
console.log(`postings zone=eu-1 (${p.length}) + all (${a.length}): ${(performance.now() - t).toFixed(0)} ms`);
