/**
 * What a warm worker keeps per tenant between jobs (the index codec's entries, the pipeline's
 * planning metas): least recently used tenants first out, a whole tenant at a time, once the
 * entries of all of them pass `maxEntries`. The tenant just put stays, and one too big alone
 * is not kept at all.
 */
export class TenantCaches<T> {
  private readonly byTenant = new Map<string, T>();
  private readonly maxEntries: number;
  private readonly entries: (v: T) => number;

  constructor(maxEntries: number, entries: (v: T) => number) {
    this.maxEntries = maxEntries;
    this.entries = entries;
  }

  /** The tenant's cache, left in place. */
  peek(tenant: string): T | undefined {
    return this.byTenant.get(tenant);
  }

  /** The tenant's cache, taken out: `put` it back (as the most recent) or let it go. */
  take(tenant: string): T | undefined {
    const v = this.byTenant.get(tenant);
    this.byTenant.delete(tenant);
    return v;
  }

  put(tenant: string, v: T): void {
    if (this.entries(v) > this.maxEntries) return;
    this.byTenant.set(tenant, v);
    let total = 0;
    for (const t of this.byTenant.values()) total += this.entries(t);
    for (const [name, t] of this.byTenant) {
      if (total <= this.maxEntries || name === tenant) break;
      total -= this.entries(t);
      this.byTenant.delete(name);
    }
  }

  /** Forget one tenant (or all). */
  evict(tenant?: string): void {
    if (tenant === undefined) this.byTenant.clear();
    else this.byTenant.delete(tenant);
  }
}
