/**
 * The local S3: fauxqs (an in-process SNS/SQS/S3 emulator) listening on 127.0.0.1,
 * fronted by the conditional-write enforcing proxy. Clients use `endpoint`; `rawEndpoint`
 * reaches fauxqs directly and exists only so tests can prove the proxy is needed.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildApp, startFauxqs } from "fauxqs";
import { ConditionalWriteProxy } from "./conditional-proxy.ts";
import { checkShaping, type S3Shaping } from "./shaping.ts";

export interface S3EmulatorOptions {
  /** Buckets to create at start. */
  buckets?: string[];
  /** Port for the proxy (default: ephemeral). */
  port?: number;
  /**
   * Keep everything in this directory across restarts (fauxqs' own persistence): queues and
   * their messages in `sqs/` (SQLite), objects as files in `s3/`. Absent: in memory only.
   */
  dataDir?: string;
  /** Real S3's timing for measurement: latency per request, bandwidth per connection (`proxy.setShaping` changes it). */
  shaping?: S3Shaping;
}

export interface S3Emulator {
  /** Path-style endpoint with conditional writes enforced: give this to clients. */
  readonly endpoint: string;
  /** fauxqs itself (ignores If-Match / If-None-Match). */
  readonly rawEndpoint: string;
  readonly proxy: ConditionalWriteProxy;
  /** Environment for a child process (CLI) to reach this emulator. */
  env(): Record<string, string>;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Credentials the emulator accepts (it does not verify signatures). */
export const EMULATOR_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;
export const EMULATOR_REGION = "us-east-1";

export async function startS3Emulator(opts: S3EmulatorOptions = {}): Promise<S3Emulator> {
  if (opts.shaping) checkShaping(opts.shaping); // before anything is started
  const upstream = opts.dataDir ? await startPersistent(opts.dataDir) : await startInMemory();
  const rawEndpoint = upstream.endpoint;
  const proxy = new ConditionalWriteProxy(rawEndpoint);
  let endpoint: string;
  try {
    endpoint = await proxy.start(opts.port ?? 0);
  } catch (e) {
    await upstream.close();
    throw e;
  }
  if (opts.shaping) proxy.setShaping(opts.shaping);
  const createBucket = async (name: string) => {
    const r = await fetch(`${rawEndpoint}/${encodeURIComponent(name)}`, { method: "PUT" });
    if (r.ok) return;
    const text = await r.text();
    // A kept bucket from an earlier run is already there: as S3's CreateBucket for its owner.
    if (r.status === 409 && text.includes("BucketAlreadyOwnedByYou")) return;
    throw new Error(`creating bucket ${name} on the emulator: HTTP ${r.status} ${text}`);
  };
  for (const b of opts.buckets ?? []) await createBucket(b);
  return {
    endpoint,
    rawEndpoint,
    proxy,
    createBucket,
    env: () => ({
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_REGION: EMULATOR_REGION,
    }),
    async stop() {
      await proxy.stop();
      await upstream.close();
    },
  };
}

interface Upstream {
  endpoint: string;
  close(): Promise<void>;
}

async function startInMemory(): Promise<Upstream> {
  const app = buildApp({ logger: false });
  const endpoint = (await app.listen({ host: "127.0.0.1", port: 0 })).replace("localhost", "127.0.0.1");
  return { endpoint, close: () => app.close() };
}

/**
 * fauxqs with its persistence, which only `startFauxqs` wires (its stores are not exported to
 * `buildApp`); that listens on all interfaces, on a random port: clients still use the proxy.
 */
async function startPersistent(dataDir: string): Promise<Upstream> {
  await keepReadyMessagesOnDisk();
  const sqsDir = join(dataDir, "sqs");
  const s3Dir = join(dataDir, "s3");
  mkdirSync(sqsDir, { recursive: true });
  mkdirSync(s3Dir, { recursive: true });
  const server = await startFauxqs({ port: 0, logger: false, dataDir: sqsDir, s3StorageDir: s3Dir });
  return { endpoint: `http://127.0.0.1:${server.port}`, close: () => server.stop() };
}

/**
 * fauxqs 2.4.1's persistence makes a message visible again (ChangeMessageVisibility 0, as
 * `strata dlq list` does after a look) with a NULL receive count, which its NOT NULL column
 * refuses: the message has already left the in-flight set by then and is lost. Its statement
 * is replaced, once per process, by one that clears only the in-flight fields. The class is
 * not among the package's exports, so it is reached beside the entry file.
 */
async function keepReadyMessagesOnDisk(): Promise<void> {
  const mod = (await import(new URL("./persistence.js", import.meta.resolve("fauxqs")).href)) as {
    PersistenceManager?: { prototype: Record<PropertyKey, unknown> };
  };
  const proto = mod.PersistenceManager?.prototype;
  if (!proto || proto[PATCHED]) return;
  proto[PATCHED] = true;
  proto.updateMessageReady = function (this: FauxqsPersistence, messageId: string): void {
    this[READY] ??= this.db.prepare(
      "UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE message_id = ?",
    );
    this[READY].run(messageId);
  };
}

const PATCHED = Symbol.for("strata.fauxqs.readyPatched");
const READY = Symbol.for("strata.fauxqs.readyStatement");
interface FauxqsPersistence {
  db: { prepare(sql: string): { run(...args: unknown[]): unknown } };
  [READY]?: { run(...args: unknown[]): unknown };
}
