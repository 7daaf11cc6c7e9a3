/**
 * Fault injection for the local runtime: the "worker killed mid-job" fault. A kill is
 * decided per object-store call of a handler invocation (so it lands at a random await point
 * of a job); from then on every store call and queue send of that invocation fails, as if the
 * process were gone, and the poller deletes none of its messages: they come back after the
 * visibility timeout, and leases the dead worker held expire.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ByteRange, ListOptions, ObjectStore, PutOptions, UploadOptions } from "@strata/bucket";
import type { BatchEntry, Job, JobQueue, SendOptions } from "@strata/pipeline";

/** A store call or queue send of an invocation the fault injector killed; the local runtime's one error class. */
export class WorkerKilledError extends Error {
  override readonly name = "WorkerKilledError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

interface Invocation {
  id: string;
  killed: boolean;
  /** Store calls made so far, and the one at which it dies (Infinity: none). */
  calls: number;
  killAt: number;
}

/** Tracks the handler invocation each async call belongs to, and kills some of them. */
export class KillSwitch {
  private readonly als = new AsyncLocalStorage<Invocation>();
  private readonly rate: number;
  private readonly random: () => number;
  private readonly onKill: (invocation: string, where: string) => void;

  private readonly perInvocation: number;

  /** `rate` per store call, `perInvocation` per invocation (at one of its first 60 calls). */
  constructor(
    rate: number,
    random: () => number,
    onKill: (invocation: string, where: string) => void,
    perInvocation = 0,
  ) {
    this.rate = rate;
    this.random = random;
    this.onKill = onKill;
    this.perInvocation = perInvocation;
  }

  /** Run one handler invocation; resolves to whether it was killed along the way. */
  async run<T>(id: string, fn: () => Promise<T>): Promise<{ killed: boolean; result?: T; error?: unknown }> {
    const killAt =
      this.perInvocation > 0 && this.random() < this.perInvocation ? 1 + Math.floor(this.random() * 60) : Infinity;
    const inv: Invocation = { id, killed: false, calls: 0, killAt };
    try {
      const result = await this.als.run(inv, fn);
      return { killed: inv.killed, result };
    } catch (error) {
      return { killed: inv.killed, error };
    }
  }

  /** Called before each operation of a worker: may kill the current invocation. */
  check(where: string): void {
    const inv = this.als.getStore();
    if (!inv) return; // not inside a handler (uploads by the runtime, the scheduled job)
    inv.calls++;
    if (!inv.killed && (inv.calls >= inv.killAt || (this.rate > 0 && this.random() < this.rate))) {
      inv.killed = true;
      this.onKill(inv.id, where);
    }
    if (inv.killed) throw new WorkerKilledError(`worker killed (fault injection) at ${where}`);
  }

  store(inner: ObjectStore): ObjectStore {
    return {
      url: inner.url,
      get: async (key: string, range?: ByteRange) => {
        this.check(`GET ${key}`);
        return inner.get(key, range);
      },
      head: async (key: string, opts?: { etag?: boolean }) => {
        this.check(`HEAD ${key}`);
        return inner.head(key, opts);
      },
      put: async (key: string, body: Uint8Array | string, opts?: PutOptions) => {
        this.check(`PUT ${key}`);
        return inner.put(key, body, opts);
      },
      createWriter: async (key: string, opts?: UploadOptions) => {
        this.check(`upload ${key}`);
        const w = await inner.createWriter(key, opts);
        return {
          done: w.done,
          write: async (b: Uint8Array) => {
            this.check(`upload part ${key}`);
            return w.write(b);
          },
          close: async () => {
            this.check(`complete ${key}`);
            return w.close();
          },
          abort: w.abort ? () => w.abort!() : undefined,
        };
      },
      list: async (prefix: string, opts?: ListOptions) => {
        this.check(`LIST ${prefix}`);
        return inner.list(prefix, opts);
      },
      delete: async (key: string, opts?: { ifMatch?: string }) => {
        this.check(`DELETE ${key}`);
        return inner.delete(key, opts);
      },
      close: inner.close ? () => inner.close!() : undefined,
    };
  }

  queue(inner: JobQueue): JobQueue {
    return {
      send: async (job: Job, opts?: SendOptions) => {
        this.check(`SendMessage ${job.type}`);
        return inner.send(job, opts);
      },
      sendBatch: inner.sendBatch
        ? async (entries: readonly BatchEntry[]) => {
            this.check(`SendMessageBatch ${entries.map((e) => e.job.type).join(",")}`);
            return inner.sendBatch!(entries);
          }
        : undefined,
    };
  }
}
