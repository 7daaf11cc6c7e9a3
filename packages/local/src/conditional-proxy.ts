/**
 * A loopback HTTP proxy in front of an S3 emulator that enforces S3's conditional
 * writes, which fauxqs 2.4.1 accepts and silently ignores. Every mutation of an object
 * (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject) is serialised per key;
 * a conditional one first HEADs the key upstream and answers 412 PreconditionFailed
 * (or 404 NoSuchKey for If-Match on an absent key) exactly as S3 does, before anything
 * reaches the emulator. Faults (503 SlowDown, 409 ConditionalRequestConflict, …) can be
 * injected to test client retries. Path-style requests only (`/bucket/key`).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Fault {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Matches the request path (`/bucket/key`) when given. */
  path?: RegExp;
  status: number;
  code: string;
  /** How many matching requests get the fault (default 1). */
  count?: number;
}

export interface ProxyStats {
  forwarded: number;
  preconditionFailed: number;
  faults: number;
}

/** Per-key FIFO mutex: `run` waits for every earlier holder of the same key. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();
  async acquire(key: string): Promise<() => void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}

export class ConditionalWriteProxy {
  readonly upstream: URL;
  readonly stats: ProxyStats = { forwarded: 0, preconditionFailed: 0, faults: 0 };
  private readonly faults: (Fault & { left: number })[] = [];
  private readonly mutex = new KeyedMutex();
  private server?: Server;
  private url?: string;

  constructor(upstream: string) {
    this.upstream = new URL(upstream);
  }

  /** Listens on 127.0.0.1 (an ephemeral port unless given); resolves to the endpoint URL. */
  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        if (!res.headersSent) sendError(res, req, 502, "BadGateway", `strata proxy: ${(e as Error).message}`);
        else res.destroy(e as Error);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  get endpoint(): string {
    if (!this.url) throw new Error("proxy not started");
    return this.url;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Answer the next `count` matching requests with an S3 error instead of forwarding them. */
  injectFault(f: Fault): void {
    this.faults.push({ ...f, left: f.count ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy");
    const method = req.method ?? "GET";
    const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(url.pathname)));
    if (fault) {
      fault.left--;
      this.stats.faults++;
      req.resume();
      sendError(res, req, fault.status, fault.code, "injected by the strata test proxy");
      return;
    }
    const segments = url.pathname.split("/").filter((s) => s !== "");
    const isObject = segments.length >= 2;
    const q = url.searchParams;
    const mutates =
      isObject &&
      ((method === "PUT" && !q.has("partNumber") && !q.has("tagging") && !q.has("acl")) ||
        (method === "POST" && q.has("uploadId")) ||
        (method === "DELETE" && !q.has("uploadId")));
    if (!mutates) {
      await this.forward(req, res);
      return;
    }
    const release = await this.mutex.acquire(url.pathname);
    try {
      const ifNoneMatch = header(req, "if-none-match");
      const ifMatch = header(req, "if-match");
      if (ifNoneMatch !== undefined || ifMatch !== undefined) {
        const current = await this.headEtag(url.pathname, req);
        if (ifNoneMatch !== undefined && ifNoneMatch.trim() === "*" && current !== undefined) {
          this.stats.preconditionFailed++;
          req.resume();
          sendError(res, req, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", "If-None-Match");
          return;
        }
        if (ifMatch !== undefined) {
          if (current === undefined) {
            this.stats.preconditionFailed++;
            req.resume();
            sendError(res, req, 404, "NoSuchKey", "The specified key does not exist.");
            return;
          }
          if (bare(ifMatch) !== "*" && bare(ifMatch) !== bare(current)) {
            this.stats.preconditionFailed++;
            req.resume();
            sendError(res, req, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", "If-Match");
            return;
          }
        }
      }
      await this.forward(req, res);
    } finally {
      release();
    }
  }

  private headEtag(path: string, orig: IncomingMessage): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const r = httpRequest(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: "HEAD",
          path,
          headers: { host: orig.headers.host ?? this.upstream.host, authorization: orig.headers.authorization ?? "" },
        },
        (res) => {
          res.resume();
          if (res.statusCode === 404) resolve(undefined);
          else if (res.statusCode === 200) resolve(String(res.headers.etag ?? ""));
          else reject(new Error(`HEAD ${path} upstream answered ${res.statusCode}`));
        },
      );
      r.on("error", reject);
      r.end();
    });
  }

  /** Pipes the request upstream and the answer back; resolves when the answer is fully sent. */
  private forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.forwarded++;
    return new Promise((resolve, reject) => {
      const up = httpRequest(
        { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers },
        (ures) => {
          res.writeHead(ures.statusCode ?? 502, ures.headers);
          ures.pipe(res);
          ures.on("error", reject);
          res.on("close", () => resolve());
        },
      );
      up.on("error", reject);
      req.pipe(up);
    });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function bare(etag: string): string {
  let e = etag.trim();
  if (e.startsWith("W/")) e = e.slice(2);
  return e.replace(/^"(.*)"$/, "$1");
}

function sendError(res: ServerResponse, req: IncomingMessage, status: number, code: string, message: string, condition?: string): void {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    (condition ? `<Condition>${condition}</Condition>` : "") +
    `<RequestId>strata-proxy</RequestId></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": req.method === "HEAD" ? 0 : Buffer.byteLength(body), "x-amz-request-id": "strata-proxy" });
  res.end(req.method === "HEAD" ? undefined : body);
}
