/**
 * Prometheus (the Debian package, 2.42) compacting the blocks of a data directory, for the
 * benches that set Strata beside it. Started on loopback with 2h and 6h ranges, it compacts in
 * its first cycle, about a minute after it starts (the newest block is held back); we wait for
 * `count` `msg="compact blocks"` log lines (each must say `count=3`), take their `duration=`
 * and the server's peak RSS (VmHWM), and stop it.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const PROMETHEUS = process.env.PROMETHEUS ?? "/usr/bin/prometheus";

/** Go duration text ("1.234s", "812.5ms", "1m2.5s") to seconds. */
export function goDuration(s: string): number {
  let total = 0;
  for (const m of s.matchAll(/([0-9.]+)(h|m(?!s)|s|ms|µs|us|ns)/g)) {
    const v = Number(m[1]);
    total += v * ({ h: 3600, m: 60, s: 1, ms: 1e-3, µs: 1e-6, us: 1e-6, ns: 1e-9 } as Record<string, number>)[m[2]!]!;
  }
  return total;
}

/** Runs Prometheus on `dataDir` (its config written under `parent`) until it has compacted `count` triples. */
export async function runPrometheusCompactions(
  dataDir: string,
  parent: string,
  opts: { count: number; timeoutMs: number },
): Promise<{ seconds: number[]; peakMiB: number; lines: string[] }> {
  const config = join(parent, "prometheus.yml");
  await writeFile(config, "global:\n  scrape_interval: 1h\nscrape_configs: []\n");
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      "--web.listen-address=127.0.0.1:0",
      "--storage.tsdb.retention.time=100y",
      "--storage.tsdb.min-block-duration=2h",
      "--storage.tsdb.max-block-duration=6h",
      "--log.level=info",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  try {
    const lines = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `prometheus did not compact ${opts.count} triple(s) within ${opts.timeoutMs / 1000} s:\n${log.slice(-3000)}`,
            ),
          ),
        opts.timeoutMs,
      );
      const onData = (b: Buffer) => {
        log += b.toString("utf8");
        const found = log.match(/^.*msg="compact blocks".*$/gm) ?? [];
        if (found.length >= opts.count) {
          clearTimeout(timer);
          resolve(found.slice(0, opts.count));
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`prometheus exited (${code}) before compacting:\n${log.slice(-3000)}`));
      });
    });
    const seconds = lines.map((line) => {
      const d = /duration=(\S+)/.exec(line);
      if (!d) throw new Error(`no duration in: ${line}`);
      if (!/count=3\b/.test(line)) throw new Error(`expected Prometheus to compact blocks by three: ${line}`);
      return goDuration(d[1]!);
    });
    const st = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
    const hwm = /VmHWM:\s+(\d+) kB/.exec(st);
    return { seconds, peakMiB: hwm ? Number(hwm[1]) / 1024 : Number.NaN, lines };
  } finally {
    child.removeAllListeners("exit");
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}
