/**
 * `npm run bench`: runs each benchmark in its own process (so peak memory is per benchmark)
 * and prints throughput and peak RSS in one table.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./harness.ts";

// Every packages/<pkg>/bench/<name>.bench.ts; `npm run bench -- xor block` runs a subset.
const packagesDir = fileURLToPath(new URL("../../", import.meta.url));
const benches: string[] = [];
for (const pkg of readdirSync(packagesDir).sort()) {
  const dir = join(packagesDir, pkg, "bench");
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith(".bench.ts")) benches.push(join(dir, f));
}
const only = process.argv.slice(2);
const rows: BenchResult[] = [];
for (const path of benches) {
  const file = path.slice(path.lastIndexOf("/") + 1);
  if (only.length && !only.some((o) => file.startsWith(o))) continue;
  const out = execFileSync(process.execPath, [path], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 });
  for (const line of out.split("\n")) if (line.startsWith("{")) rows.push(JSON.parse(line) as BenchResult);
}

const fmt = (n: number, d = 1) => (n >= 100 ? n.toFixed(0) : n.toFixed(d));
console.log(`node ${process.version}, ${process.arch}, one process per benchmark; base = RSS after loading modules, before the work`);
console.log(`${"benchmark".padEnd(38)}${"M samples/s".padStart(13)}${"MB/s".padStart(10)}${"seconds".padStart(10)}${"peak MiB".padStart(10)}${"base MiB".padStart(10)}  target`);
for (const r of rows) {
  const msps = r.samples ? fmt(r.samples / r.seconds / 1e6) : "-";
  const mbs = r.bytes ? fmt(r.bytes / r.seconds / 1e6) : "-";
  console.log(`${r.name.padEnd(38)}${msps.padStart(13)}${mbs.padStart(10)}${r.seconds.toFixed(3).padStart(10)}${fmt(r.peakMiB ?? 0).padStart(10)}${(r.baseMiB === undefined ? "-" : fmt(r.baseMiB)).padStart(10)}  ${r.target ?? ""}`);
}
