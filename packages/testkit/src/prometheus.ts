// Runs the real `prometheus` (Debian 2.42) on a copy of a set of blocks and
// queries it over its HTTP API. The server is configured so it never changes
// the blocks it was given:
// - min = max block duration = 2h: with a single compaction range the
//   leveled planner has nothing to merge (it needs ≥ 2 ranges). Overlapping
//   blocks would still be merged vertically, so never hand it two copies of
//   the same data.
// - retention 100y: time retention compares each block's maxTime with the
//   newest block's maxTime (not the wall clock), so old test timestamps are
//   safe, but the default 15d would still cut test data longer than that.
// - no scrape targets, so the head stays empty and nothing new is written; unless
//   `scrape` names some (a server scraping a `/metrics` endpoint, started on no blocks).
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { assertExecutable } from "./process.ts";
import { TempDirs, copyDir } from "./tmp.ts";

export const PROMETHEUS = process.env.PROMETHEUS ?? "/usr/bin/prometheus";

export interface PromSample {
  metric: Record<string, string>;
  /** [unix seconds, value as Prometheus prints it] */
  value?: [number, string];
  values?: [number, string][];
}

export interface QueryData {
  resultType: "vector" | "matrix" | "scalar" | "string";
  result: PromSample[] | [number, string];
}

/** A free TCP port on 127.0.0.1 (the OS picks one; tiny race until prometheus binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Unix seconds with ms precision, as the HTTP API expects. */
function toApiTime(ms: number): string {
  return (ms / 1000).toFixed(3);
}

export class PrometheusServer {
  readonly url: string;
  readonly dataDir: string;
  readonly #child: ChildProcess;
  readonly #tmp: TempDirs;
  readonly #log: string[];
  #exited: Promise<void>;
  #running = true;

  private constructor(url: string, dataDir: string, child: ChildProcess, tmp: TempDirs, log: string[]) {
    this.url = url;
    this.dataDir = dataDir;
    this.#child = child;
    this.#tmp = tmp;
    this.#log = log;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    void this.#exited.then(() => {
      this.#running = false;
    });
  }

  /**
   * Copies the blocks in `blocksDir` (ULID directories; undefined: none) to a fresh data dir
   * and starts prometheus on it; resolves once `/-/ready` answers 200. `scrape`: targets
   * (`host:port`) scraped at `metricsPath` every `intervalSeconds` as job `job`.
   */
  static async start(
    blocksDir: string | undefined,
    opts: {
      readyTimeoutMs?: number;
      extraArgs?: string[];
      scrape?: { job: string; targets: string[]; intervalSeconds?: number; metricsPath?: string };
    } = {},
  ): Promise<PrometheusServer> {
    assertExecutable(PROMETHEUS);
    const tmp = new TempDirs();
    let lastError: unknown;
    try {
      const root = await tmp.make("prometheus");
      const dataDir = join(root, "data");
      if (blocksDir !== undefined) await copyDir(blocksDir, dataDir);
      const config = join(root, "prometheus.yml");
      await writeFile(config, prometheusConfig(opts.scrape));
      // A port picked by freePort can be taken before prometheus binds it: retry a few times.
      for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const log: string[] = [];
        const child = spawn(
          PROMETHEUS,
          [
            `--config.file=${config}`,
            `--storage.tsdb.path=${dataDir}`,
            `--web.listen-address=127.0.0.1:${port}`,
            "--storage.tsdb.retention.time=100y",
            "--storage.tsdb.min-block-duration=2h",
            "--storage.tsdb.max-block-duration=2h",
            "--log.level=info",
            ...(opts.extraArgs ?? []),
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        child.stdout?.on("data", (b: Buffer) => log.push(b.toString("utf8")));
        child.stderr?.on("data", (b: Buffer) => log.push(b.toString("utf8")));
        child.on("error", (e) => log.push(`spawn error: ${e.message}\n`));
        const server = new PrometheusServer(url, dataDir, child, tmp, log);
        try {
          await server.#waitReady(opts.readyTimeoutMs ?? 30_000);
          return server;
        } catch (e) {
          lastError = e;
          await server.#kill();
          if (!server.log().includes("address already in use")) break;
        }
      }
    } catch (e) {
      lastError = e;
    }
    await tmp.cleanup();
    throw lastError;
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.#running) throw new Error(`prometheus exited before it was ready:\n${this.log()}`);
      try {
        const r = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1000) });
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`prometheus not ready after ${timeoutMs} ms:\n${this.log()}`);
  }

  /** Everything the server logged so far. */
  log(): string {
    return this.#log.join("");
  }

  async #api(path: string, params: Record<string, string>): Promise<QueryData> {
    const body = new URLSearchParams(params);
    const r = await fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    const json = (await r.json()) as {
      status: string;
      data?: QueryData;
      error?: string;
      errorType?: string;
      warnings?: string[];
    };
    if (json.status !== "success" || !json.data) {
      throw new Error(
        `prometheus ${path} ${JSON.stringify(params)} failed (HTTP ${r.status}): ${json.errorType}: ${json.error}`,
      );
    }
    return json.data;
  }

  /** Instant query at `timeMs` (epoch ms). */
  query(promql: string, timeMs: number): Promise<QueryData> {
    return this.#api("/api/v1/query", { query: promql, time: toApiTime(timeMs) });
  }

  /** Range query over [startMs, endMs] with a step in ms. */
  queryRange(promql: string, startMs: number, endMs: number, stepMs: number): Promise<QueryData> {
    return this.#api("/api/v1/query_range", {
      query: promql,
      start: toApiTime(startMs),
      end: toApiTime(endMs),
      step: String(stepMs / 1000),
    });
  }

  /** Series matching a selector in [startMs, endMs]. */
  async series(match: string, startMs: number, endMs: number): Promise<Record<string, string>[]> {
    return (await this.#api("/api/v1/series", {
      "match[]": match,
      start: toApiTime(startMs),
      end: toApiTime(endMs),
    })) as unknown as Record<string, string>[];
  }

  async #kill(): Promise<void> {
    if (this.#running) {
      this.#child.kill("SIGTERM");
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  /** SIGTERM, wait for the process to exit, remove the data copy. Idempotent. */
  async stop(): Promise<void> {
    await this.#kill();
    await this.#tmp.cleanup();
  }
}

function prometheusConfig(scrape?: {
  job: string;
  targets: string[];
  intervalSeconds?: number;
  metricsPath?: string;
}): string {
  const head = "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n";
  if (!scrape) return `${head}scrape_configs: []\n`;
  // JSON strings are valid YAML scalars: no quoting rules of our own.
  const j = JSON.stringify;
  return (
    `${head}scrape_configs:\n` +
    `  - job_name: ${j(scrape.job)}\n` +
    `    scrape_interval: ${scrape.intervalSeconds ?? 1}s\n` +
    // The timeout may not exceed the interval (Prometheus' default 10 s would).
    `    scrape_timeout: ${scrape.intervalSeconds ?? 1}s\n` +
    `    metrics_path: ${j(scrape.metricsPath ?? "/metrics")}\n` +
    `    static_configs:\n      - targets: ${j(scrape.targets)}\n`
  );
}

/** Orders a vector/matrix result by its label set so two servers' answers compare with toEqual. */
export function sortResult(data: QueryData): QueryData {
  if (!Array.isArray(data.result) || data.resultType === "scalar" || data.resultType === "string") return data;
  const key = (s: PromSample): string =>
    JSON.stringify(
      Object.keys(s.metric)
        .sort()
        .map((k) => [k, s.metric[k]]),
    );
  const result = [...(data.result as PromSample[])].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { resultType: data.resultType, result };
}
