/** The Leases port over `LeaseManager`: one lease object per (tenant, name) in the layout. */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { BucketLayout } from "@strata/bucket";
import { LeaseLostError, LeaseManager } from "@strata/bucket";
import type { ObjectStore } from "@strata/bucket";
import { getCapped, listAll } from "@strata/bucket";
import { z } from "zod";
import type { AttemptRecord, Lease, Leases } from "../ports.ts";

const ATTEMPTS_SUFFIX = ".attempts";
const QUEUED_SUFFIX = ".queued";
/** Attempt records and queued notes are a few hundred bytes; a larger object is not one of ours. */
const MAX_RECORD_BYTES = 64 << 10;

const AttemptRecordSchema = z.object({
  version: z.literal(1),
  attempts: z.number().int().nonnegative(),
  errors: z.array(z.string()).max(100),
  job: z.string(),
  blocks: z.array(z.string()).max(10_000),
  first_time: z.number().int(),
  last_time: z.number().int(),
});

export class StoreLeases implements Leases {
  readonly manager: LeaseManager;
  private readonly layout: BucketLayout;
  /** This worker's identity in lease objects (who holds a stuck lease, when a person looks). */
  readonly owner: string;

  private readonly store: ObjectStore;
  private readonly now: () => number;

  /**
   * `now` is for the queued notes only: leases themselves run on the wall clock, since they
   * guard live processes (a test that moves the pipeline's clock by days must not freeze or
   * expire them).
   */
  constructor(store: ObjectStore, layout: BucketLayout, opts: { owner?: string; now?: () => number } = {}) {
    this.store = store;
    this.now = opts.now ?? Date.now;
    this.manager = new LeaseManager(store);
    this.layout = layout;
    this.owner = opts.owner ?? `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  }

  async acquire(tenant: string, name: string, ttlMs: number): Promise<Lease | undefined> {
    const r = await this.manager.acquire(this.layout.leaseKey(tenant, name), this.owner, ttlMs);
    if (!r.acquired) return undefined;
    let lease = r.lease;
    return {
      release: async () => {
        // LeaseLostError (taken over after expiry) is a value: nothing of ours to release then.
        await this.manager.release(lease);
      },
      renew: async () => {
        const next = await this.manager.renew(lease, ttlMs);
        if (next instanceof LeaseLostError) return false;
        lease = next;
        return true;
      },
    };
  }

  async readAttempts(tenant: string, name: string): Promise<AttemptRecord | undefined> {
    const r = await getCapped(this.store, this.layout.leaseKey(tenant, name + ATTEMPTS_SUFFIX), MAX_RECORD_BYTES);
    if (!r) return undefined;
    const parsed = r.truncated ? { success: false as const } : AttemptRecordSchema.safeParse(safeJson(r.body));
    // An unreadable record is treated as one failed attempt, not ignored: it must not reset the count.
    return parsed.success
      ? parsed.data
      : {
          version: 1,
          attempts: 1,
          errors: ["unreadable attempt record"],
          job: name,
          blocks: [],
          first_time: 0,
          last_time: 0,
        };
  }

  async writeAttempts(tenant: string, name: string, record: AttemptRecord | undefined): Promise<void> {
    const key = this.layout.leaseKey(tenant, name + ATTEMPTS_SUFFIX);
    if (record === undefined) await this.store.delete(key);
    else await this.store.put(key, JSON.stringify(record) + "\n", { contentType: "application/json" });
  }

  async isQueued(tenant: string, name: string, ttlMs: number): Promise<boolean> {
    const r = await getCapped(this.store, this.layout.leaseKey(tenant, name + QUEUED_SUFFIX), MAX_RECORD_BYTES);
    const at = r && !r.truncated ? Number((safeJson(r.body) as { queued_at?: unknown } | undefined)?.queued_at) : NaN;
    return Number.isFinite(at) && at + ttlMs > this.now();
  }

  async noteQueued(tenant: string, name: string): Promise<void> {
    const key = this.layout.leaseKey(tenant, name + QUEUED_SUFFIX);
    await this.store.put(key, JSON.stringify({ queued_at: this.now() }) + "\n", { contentType: "application/json" });
  }

  async clearQueued(tenant: string, name: string): Promise<void> {
    await this.store.delete(this.layout.leaseKey(tenant, name + QUEUED_SUFFIX));
  }

  async listAttempts(tenant: string): Promise<{ name: string; record: AttemptRecord }[]> {
    const prefix = this.layout.leaseKey(tenant, "x").slice(0, -"x.json".length);
    const out: { name: string; record: AttemptRecord }[] = [];
    for await (const o of listAll(this.store, prefix)) {
      const file = o.key.slice(prefix.length);
      if (!file.endsWith(ATTEMPTS_SUFFIX + ".json")) continue;
      const name = file.slice(0, -(ATTEMPTS_SUFFIX + ".json").length);
      const record = await this.readAttempts(tenant, name);
      if (record) out.push({ name, record });
    }
    return out;
  }
}

function safeJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}
