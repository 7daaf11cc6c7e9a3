/**
 * A loopback HTTP proxy in front of an S3 emulator that enforces S3's conditional
 * writes, which fauxqs 2.4.1 accepts and silently ignores. Every mutation of an object
 * (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject) is serialised per key;
 * a conditional one first HEADs the key upstream and answers 412 PreconditionFailed
 * (or 404 NoSuchKey for If-Match on an absent key) exactly as S3 does, before anything
 * reaches the emulator. Faults (503 SlowDown, 409 ConditionalRequestConflict, …) can be
 * injected to test client retries. Path-style requests only (`/bucket/key`). It also keeps each
 * bucket's notification configuration and sends S3's events for it (notification-sender.ts).
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { BucketNotifications } from "./notification-sender.ts";
import { MAX_NOTIFICATION_CONFIGURATION_BYTES } from "./s3-notifications.ts";
import { Pacer, checkShaping, sleep, type S3Shaping } from "./shaping.ts";

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

/** A successful object creation seen by the proxy (what S3 would notify about). */
export interface ObjectWritten {
  bucket: string;
  /** The decoded object key. */
  key: string;
  /** As in an S3 event record: `ObjectCreated:Put`, `ObjectCreated:Copy`, `ObjectCreated:CompleteMultipartUpload`. */
  eventName: string;
}

/**
 * Faults at a rate instead of a count: each S3 request (never SQS) is answered with the error with probability `rate`.
 */
export interface RandomFaults {
  rate: number;
  /** A number in [0, 1) per call (a seeded generator, for reproducible runs). */
  random: () => number;
  status?: number;
  code?: string;
  /** Told about each injected fault (for logs). */
  onFault?: (method: string, path: string, status: number) => void;
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
  private readonly writeListeners: ((w: ObjectWritten) => void)[] = [];
  private random?: RandomFaults;
  private shaping: S3Shaping = {};
  /** Kept-alive connections upstream: a new connection per request halved what the proxy could carry. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  /** Buckets' notification configurations (Put/GetBucketNotificationConfiguration) and the events sent for them. */
  readonly notifications: BucketNotifications;

  constructor(upstream: string) {
    this.upstream = new URL(upstream);
    this.notifications = new BucketNotifications(this.upstream);
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
    this.agent.destroy();
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Answer the next `count` matching requests with an S3 error instead of forwarding them. */
  injectFault(f: Fault): void {
    this.faults.push({ ...f, left: f.count ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
    this.random = undefined;
  }

  /** Answer S3 requests with an error at a rate (SQS requests through the proxy are never faulted). */
  setRandomFaults(f: RandomFaults | undefined): void {
    this.random = f;
  }

  /**
   * Real S3's timing for S3 requests (SQS is never shaped): each waits `latencyMs` before it is
   * handled, and its request and response bodies are paced to `bandwidthBytesPerSecond` each;
   * requests in parallel are paced independently, as S3's connections. `undefined` removes it.
   */
  setShaping(s: S3Shaping | undefined): void {
    this.shaping = s ? checkShaping(s) : {};
  }

  /** Called after every successful PutObject, CopyObject and CompleteMultipartUpload (after the answer was sent). */
  onObjectWritten(listener: (w: ObjectWritten) => void): void {
    this.writeListeners.push(listener);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy");
    const method = req.method ?? "GET";
    const s3 = !isSqsRequest(req);
    // Before anything else, so an injected fault or a 412 is as slow to arrive as an answer.
    if (s3 && this.shaping.latencyMs) await sleep(this.shaping.latencyMs);
    const fault = this.faults.find(
      (f) => f.left > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(url.pathname)),
    );
    if (fault) {
      fault.left--;
      this.stats.faults++;
      req.resume();
      sendError(res, req, fault.status, fault.code, "injected by the strata test proxy");
      return;
    }
    const rf = this.random;
    if (rf && rf.rate > 0 && s3 && rf.random() < rf.rate) {
      const status = rf.status ?? 503;
      this.stats.faults++;
      req.resume();
      sendError(res, req, status, rf.code ?? "SlowDown", "injected by the strata test proxy");
      rf.onFault?.(method, url.pathname, status);
      return;
    }
    const segments = url.pathname.split("/").filter((s) => s !== "");
    const isObject = segments.length >= 2;
    const q = url.searchParams;
    if (segments.length === 1 && q.has("notification") && (method === "PUT" || method === "GET")) {
      await this.bucketNotification(method, decodeURIComponent(segments[0]!), req, res);
      return;
    }
    const mutates =
      isObject &&
      ((method === "PUT" && !q.has("partNumber") && !q.has("tagging") && !q.has("acl")) ||
        (method === "POST" && q.has("uploadId")) ||
        (method === "DELETE" && !q.has("uploadId")));
    if (!mutates) {
      await this.forward(req, res, s3);
      return;
    }
    const release = await this.mutex.acquire(url.pathname);
    let written: ObjectWritten | undefined;
    try {
      const ifNoneMatch = header(req, "if-none-match");
      const ifMatch = header(req, "if-match");
      if (ifNoneMatch !== undefined || ifMatch !== undefined) {
        const current = await this.headEtag(url.pathname, req);
        if (ifNoneMatch !== undefined && ifNoneMatch.trim() === "*" && current !== undefined) {
          this.stats.preconditionFailed++;
          req.resume();
          sendError(
            res,
            req,
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            "If-None-Match",
          );
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
            sendError(
              res,
              req,
              412,
              "PreconditionFailed",
              "At least one of the pre-conditions you specified did not hold",
              "If-Match",
            );
            return;
          }
        }
      }
      const status = await this.forward(req, res, true);
      if (status === 200) written = createdEvent(method, q, req, segments);
    } finally {
      release();
    }
    if (!written) return;
    this.notifications.objectWritten(written.bucket, written.key, written.eventName);
    for (const l of this.writeListeners) l(written);
  }

  private async bucketNotification(
    method: string,
    bucket: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (method === "GET") {
      const xml = this.notifications.configurationXml(bucket);
      res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
      res.end(xml);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped (the client gets its answer), never kept.
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size <= MAX_NOTIFICATION_CONFIGURATION_BYTES) chunks.push(c);
    }
    if (size > MAX_NOTIFICATION_CONFIGURATION_BYTES) {
      sendError(res, req, 400, "MaxMessageLengthExceeded", "notification configuration too large");
      return;
    }
    const error = await this.notifications.put(bucket, Buffer.concat(chunks).toString("utf8"));
    if (error) {
      sendError(res, req, 400, "InvalidArgument", escapeXmlText(error));
      return;
    }
    res.writeHead(200, { "content-length": 0 });
    res.end();
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

  /**
   * Pipes the request upstream and the answer back (both paced when shaped and `s3`); resolves to the status when the
   * answer is fully sent.
   */
  private forward(req: IncomingMessage, res: ServerResponse, s3: boolean): Promise<number> {
    this.stats.forwarded++;
    const bw = s3 ? this.shaping.bandwidthBytesPerSecond : undefined;
    return new Promise((resolve, reject) => {
      const up = httpRequest(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: this.agent,
        },
        (ures) => {
          res.writeHead(ures.statusCode ?? 502, ures.headers);
          if (bw === undefined) ures.pipe(res);
          else ures.pipe(new Pacer(bw)).on("error", reject).pipe(res);
          ures.on("error", reject);
          res.on("close", () => resolve(ures.statusCode ?? 502));
        },
      );
      up.on("error", reject);
      if (bw === undefined) req.pipe(up);
      else req.pipe(new Pacer(bw)).on("error", reject).pipe(up);
    });
  }
}

/** SQS's JSON protocol (`X-Amz-Target: AmazonSQS.*`) or its query protocol (`Action=` form). */
function isSqsRequest(req: IncomingMessage): boolean {
  const target = header(req, "x-amz-target");
  if (target?.startsWith("AmazonSQS")) return true;
  return (header(req, "content-type") ?? "").startsWith("application/x-www-form-urlencoded") && req.method === "POST";
}

/** The S3 event a successful mutation stands for, if it creates an object. */
function createdEvent(
  method: string,
  q: URLSearchParams,
  req: IncomingMessage,
  segments: string[],
): ObjectWritten | undefined {
  let eventName: string | undefined;
  if (method === "PUT") eventName = header(req, "x-amz-copy-source") ? "ObjectCreated:Copy" : "ObjectCreated:Put";
  else if (method === "POST" && q.has("uploadId")) eventName = "ObjectCreated:CompleteMultipartUpload";
  if (!eventName) return undefined;
  return {
    bucket: decodeURIComponent(segments[0]!),
    key: segments.slice(1).map(decodeURIComponent).join("/"),
    eventName,
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function escapeXmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function bare(etag: string): string {
  let e = etag.trim();
  if (e.startsWith("W/")) e = e.slice(2);
  return e.replace(/^"(.*)"$/, "$1");
}

function sendError(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  code: string,
  message: string,
  condition?: string,
): void {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    (condition ? `<Condition>${condition}</Condition>` : "") +
    `<RequestId>strata-proxy</RequestId></Error>`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": req.method === "HEAD" ? 0 : Buffer.byteLength(body),
    "x-amz-request-id": "strata-proxy",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
