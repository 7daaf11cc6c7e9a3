/**
 * The page's HTTP server (node:http, no framework): `/` (index.html), `/app.js`, `/style.css`
 * from ./static/, the JSON API under `/api/` (routes.ts), and `/metrics` in Prometheus' text
 * format (prometheus.ts). Loopback by default; read-only
 * (GET and HEAD only); no third-party origin is ever referenced (the Content-Security-Policy
 * allows 'self' only). A failure inside a request answers 500 with `{error}` and the server
 * goes on.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ObjectStore } from "@strata/bucket";
import type { EngineSettings } from "@strata/pipeline";
import type { Queues } from "./api.ts";
import { WebData } from "./data.ts";
import { routeApi } from "./routes.ts";
import { EXPOSITION_CONTENT_TYPE, exposition, type MetricsRegistry } from "./prometheus.ts";

/** Where Thanos components serve HTTP. */
export const DEFAULT_WEB_PORT = 10902;
export const DEFAULT_WEB_HOST = "127.0.0.1";
export const DEFAULT_REFRESH_SECONDS = 30;

export interface WebServerOptions {
  store: ObjectStore;
  /** Default 10902; 0 = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How often the page reloads its data (default 30 s). */
  refreshSeconds?: number;
  /** Show only this tenant (the pipeline's name: `""` for the bucket root). */
  tenant?: string;
  /** Engine settings for plans and groups (replica labels, ranges); the pipeline's defaults otherwise. */
  engine?: Partial<EngineSettings>;
  /** The queue and DLQ depth, when known (the local runtime). */
  queues?: () => Promise<Queues>;
  /** The clock ages are computed against (default the system's). */
  now?: () => number;
  /** How long a tenant's listing and plans are reused across requests (default 2 s). */
  cacheMs?: number;
  /** The worker's job metrics, served at `/metrics` with the tenant and queue gauges (the local runtime). */
  metrics?: MetricsRegistry;
  /** Called with each request that failed inside (a 500). */
  onError?: (e: unknown, path: string) => void;
}

export interface WebServer {
  /** http://host:port */
  url: string;
  port: number;
  /** The tenants the page shows (pipeline names). */
  tenants(): Promise<string[]>;
  close(): Promise<void>;
}

const STATIC: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const files = new Map<string, Buffer>();
  const dir = staticDir();
  for (const f of new Set(Object.values(STATIC).map((s) => s.file))) files.set(f, await readFile(new URL(f, dir)));
  const data = new WebData(opts.store, {
    tenant: opts.tenant,
    engine: opts.engine,
    queues: opts.queues,
    refreshSeconds: opts.refreshSeconds ?? DEFAULT_REFRESH_SECONDS,
    cacheMs: opts.cacheMs,
    now: opts.now,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === "HEAD";
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": type,
        "content-length": Buffer.byteLength(body),
        ...SECURITY_HEADERS,
        ...extra,
      });
      res.end(head ? undefined : body);
    };
    const json = (status: number, body: unknown) =>
      send(status, "application/json; charset=utf-8", JSON.stringify(body), { "cache-control": "no-store" });
    // The path as sent, query dropped; not decoded here (routes decode each segment).
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method !== "GET" && !head) return json(405, { error: `${req.method} not allowed: the page is read-only` });
    try {
      if (path.startsWith("/api/") || path === "/api") {
        const a = await routeApi(data, path.slice("/api/".length));
        return json(a.status, a.body);
      }
      if (path === "/metrics")
        return send(200, EXPOSITION_CONTENT_TYPE, exposition(opts.metrics, await data.gauges()), {
          "cache-control": "no-store",
        });
      const s = STATIC[path];
      if (s) return send(200, s.type, files.get(s.file)!, { "cache-control": "no-cache" });
      return send(404, "text/plain; charset=utf-8", `not found: ${path.slice(0, 200)}\n`);
    } catch (e) {
      opts.onError?.(e, path);
      return json(500, { error: `internal error: ${(e as Error).message ?? String(e)}` });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      opts.onError?.(e, req.url ?? "");
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? DEFAULT_WEB_PORT, opts.host ?? DEFAULT_WEB_HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    tenants: () => data.tenants(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The page's files: beside this module, or, when it runs bundled (the CLI's esbuild bundle,
 * where import.meta.url is a chunk's), in the package the bundle was made from.
 */
function staticDir(): URL {
  const here = new URL("./static/", import.meta.url);
  if (existsSync(new URL("index.html", here))) return here;
  return new URL("./static/", import.meta.resolve("@strata/local/web"));
}
