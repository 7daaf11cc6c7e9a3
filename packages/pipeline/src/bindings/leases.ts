/** The Leases port over `LeaseManager`: one lease object per (tenant, name) in the layout. */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { BucketLayout } from "@strata/bucket/layout";
import { LeaseManager } from "@strata/bucket/lease";
import type { ObjectStore } from "@strata/bucket/store";
import type { Lease, Leases } from "../ports.ts";

export class StoreLeases implements Leases {
  readonly manager: LeaseManager;
  private readonly layout: BucketLayout;
  /** This worker's identity in lease objects (who holds a stuck lease, when a person looks). */
  readonly owner: string;

  constructor(store: ObjectStore, layout: BucketLayout, opts: { owner?: string; now?: () => number } = {}) {
    this.manager = new LeaseManager(store, { now: opts.now });
    this.layout = layout;
    this.owner = opts.owner ?? `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  }

  async acquire(tenant: string, name: string, ttlMs: number): Promise<Lease | undefined> {
    const r = await this.manager.acquire(this.layout.leaseKey(tenant, name), this.owner, ttlMs);
    if (!r.acquired) return undefined;
    const lease = r.lease;
    return {
      release: async () => {
        // LeaseLost (taken over after expiry) is a value: nothing of ours to release then.
        await this.manager.release(lease);
      },
    };
  }
}
