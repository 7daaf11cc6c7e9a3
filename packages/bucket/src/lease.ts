/**
 * Job leases on the object store: one small JSON object per key (for example tenant +
 * group + window). Created with `ifNoneMatch: "*"`; an expired or released lease is taken
 * over by compare-and-swap on its ETag; renewal and release are compare-and-swaps too, so
 * a worker whose lease was taken over learns it instead of overwriting the new holder.
 * Two workers therefore never hold the same key at once, provided clocks agree to within
 * the margin a holder keeps (renew well before `expiresAt`, check it before committing).
 */
import { randomBytes } from "node:crypto";
import { BucketError } from "./errors.ts";
import { PreconditionFailedError, type ObjectStore } from "./store.ts";

export interface LeaseRecord {
  owner: string;
  /** Random per acquisition: tells two acquisitions by the same owner apart. */
  token: string;
  /** ms since the epoch. */
  acquired_at: number;
  expires_at: number;
  released: boolean;
}

export interface Lease {
  readonly key: string;
  readonly owner: string;
  readonly token: string;
  /** ETag of the lease object as we last wrote it: our proof of ownership. */
  readonly etag: string;
  readonly expiresAt: number;
}

export type AcquireResult =
  | { acquired: true; lease: Lease /** the previous holder's lease had expired or was released */; takenOver: boolean }
  | { acquired: false; holder: string; expiresAt: number };

/** The lease is no longer ours (it expired and someone took it over). */
export class LeaseLostError extends BucketError {
  override name = "LeaseLostError";
  readonly key: string;
  constructor(key: string, owner: string, options?: ErrorOptions) {
    super(`${key}: lease of ${owner} was lost (expired and taken over)`, options);
    this.key = key;
  }
}

export class LeaseManager {
  readonly store: ObjectStore;
  private readonly now: () => number;
  private readonly maxAttempts: number;

  constructor(store: ObjectStore, opts: { now?: () => number; maxAttempts?: number } = {}) {
    this.store = store;
    this.now = opts.now ?? Date.now;
    this.maxAttempts = opts.maxAttempts ?? 10;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<AcquireResult> {
    if (!(ttlMs > 0)) throw new RangeError(`lease ttl must be positive, got ${ttlMs}`);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const rec = this.record(owner, ttlMs);
      const created = await this.store.put(key, JSON.stringify(rec), {
        ifNoneMatch: "*",
        contentType: "application/json",
      });
      if (!(created instanceof PreconditionFailedError))
        return { acquired: true, lease: lease(key, rec, created), takenOver: false };
      const cur = await this.read(key);
      if (!cur) continue; // released by deletion in between: try to create again
      // Our own write, landed on a try whose answer was lost (a 5xx, then the client's retry got 412).
      if (isOurs(cur.record, rec)) return { acquired: true, lease: lease(key, rec, cur.etag), takenOver: false };
      if (cur.record && !cur.record.released && cur.record.expires_at > this.now()) {
        return { acquired: false, holder: cur.record.owner, expiresAt: cur.record.expires_at };
      }
      const taken = await this.store.put(key, JSON.stringify(rec), {
        ifMatch: cur.etag,
        contentType: "application/json",
      });
      if (!(taken instanceof PreconditionFailedError))
        return { acquired: true, lease: lease(key, rec, taken), takenOver: true };
      const after = await this.read(key);
      if (after && isOurs(after.record, rec))
        return { acquired: true, lease: lease(key, rec, after.etag), takenOver: true };
      // Someone else took it over first: look again.
    }
    const cur = await this.read(key);
    return { acquired: false, holder: cur?.record?.owner ?? "(contended)", expiresAt: cur?.record?.expires_at ?? 0 };
  }

  /** Extends our lease; LeaseLostError if it was taken over meanwhile. */
  async renew(l: Lease, ttlMs: number): Promise<Lease | LeaseLostError> {
    const now = this.now();
    const rec: LeaseRecord = {
      owner: l.owner,
      token: l.token,
      acquired_at: now,
      expires_at: now + ttlMs,
      released: false,
    };
    const r = await this.store.put(l.key, JSON.stringify(rec), { ifMatch: l.etag, contentType: "application/json" });
    if (r instanceof PreconditionFailedError) {
      // Lost, unless the store holds this very renewal (its answer lost, the client's retry refused).
      const cur = await this.read(l.key);
      if (cur && isOurs(cur.record, rec)) return lease(l.key, rec, cur.etag);
      return new LeaseLostError(l.key, l.owner);
    }
    return lease(l.key, rec, r);
  }

  /** Marks our lease released (a CAS, so a lost lease is reported, never clobbered). */
  async release(l: Lease): Promise<void | LeaseLostError> {
    const rec: LeaseRecord = { owner: l.owner, token: l.token, acquired_at: this.now(), expires_at: 0, released: true };
    const r = await this.store.put(l.key, JSON.stringify(rec), { ifMatch: l.etag, contentType: "application/json" });
    if (r instanceof PreconditionFailedError) return new LeaseLostError(l.key, l.owner);
  }

  /** The current lease object; `record` is undefined when its body is not a lease (taken over as if expired). */
  async read(key: string): Promise<{ etag: string; record?: LeaseRecord } | undefined> {
    const r = await this.store.get(key);
    if (!r) return undefined;
    return { etag: r.etag, record: parseRecord(r.body) };
  }

  private record(owner: string, ttlMs: number): LeaseRecord {
    const now = this.now();
    return { owner, token: randomBytes(8).toString("hex"), acquired_at: now, expires_at: now + ttlMs, released: false };
  }
}

/** The stored record is the one we wrote: tokens are random per acquisition, times per write. */
function isOurs(stored: LeaseRecord | undefined, ours: LeaseRecord): boolean {
  return (
    stored !== undefined &&
    stored.token === ours.token &&
    stored.owner === ours.owner &&
    stored.expires_at === ours.expires_at &&
    stored.released === ours.released
  );
}

function lease(key: string, rec: LeaseRecord, etag: string): Lease {
  return { key, owner: rec.owner, token: rec.token, etag, expiresAt: rec.expires_at };
}

function parseRecord(body: Uint8Array): LeaseRecord | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(body)) as Partial<LeaseRecord>;
    if (typeof v.owner === "string" && typeof v.expires_at === "number" && typeof v.released === "boolean")
      return v as LeaseRecord;
  } catch {
    // fall through
  }
  return undefined;
}
