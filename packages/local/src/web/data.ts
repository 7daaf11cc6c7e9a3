/**
 * The page's data: @strata/pipeline's `BlockViews` (blocks with marks, plans, index age) shaped
 * into the API's bodies, each computation kept for a short while and shared by concurrent
 * requests, so any number of open pages costs one listing and one planning per tenant per
 * `cacheMs`.
 */
import { tenantName } from "@strata/bucket";
import {
  BlockViews,
  bucketIndexBytes,
  gaugesOf,
  type GaugeSample,
  type TenantBlocks,
} from "@strata/pipeline/operations";
import type { ObjectStore } from "@strata/bucket";
import type { EngineSettings } from "@strata/pipeline";
import type { BlockDetailBody, Blocks, Plans, Queues, Status, TenantSummary } from "./api.ts";

export interface WebDataOptions {
  /** Only this tenant (pipeline name), when set. */
  tenant?: string;
  /** Engine settings (replica labels, ranges) the plans and the groups are computed with. */
  engine?: Partial<EngineSettings>;
  /** The queue and DLQ depth, when the server knows them (the local runtime does). */
  queues?: () => Promise<Queues>;
  refreshSeconds: number;
  /** How long a listing or a planning is reused (default 2 s). */
  cacheMs?: number;
  now?: () => number;
}

export class WebData {
  readonly views: BlockViews;
  private readonly opts: WebDataOptions;
  private readonly now: () => number;
  private readonly memo = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(store: ObjectStore, opts: WebDataOptions) {
    this.now = opts.now ?? Date.now;
    this.views = new BlockViews(store, { engine: opts.engine, now: this.now });
    this.opts = opts;
  }

  /** The tenants (pipeline names: `""` is the root tenant). */
  tenants(): Promise<string[]> {
    const only = this.opts.tenant;
    return this.remember("tenants", async () =>
      (await this.views.tenants()).filter((t) => only === undefined || t === only),
    );
  }

  async summaries(): Promise<TenantSummary[]> {
    return Promise.all((await this.tenants()).map((t) => this.summary(t)));
  }

  async status(): Promise<Status> {
    const tenants = await this.summaries();
    let queues: Queues | null = null;
    let queuesError: string | undefined;
    if (this.opts.queues) {
      try {
        queues = await this.remember("queues", this.opts.queues);
      } catch (e) {
        queuesError = (e as Error).message;
      }
    }
    return {
      bucket: this.views.store.url,
      generatedAt: this.now(),
      refreshSeconds: this.opts.refreshSeconds,
      queues,
      ...(queuesError !== undefined ? { queuesError } : {}),
      tenants,
    };
  }

  async blocks(tenant: string): Promise<Blocks> {
    const b = await this.tenantBlocks(tenant);
    return {
      tenant: tenantName(tenant),
      index: b.index,
      blocks: b.blocks.map((v) => ({ ...v, tenant: tenantName(v.tenant) })),
    };
  }

  async plans(tenant: string): Promise<Plans> {
    const out: Plans = { tenant: tenantName(tenant), compactions: [], downsamples: [], refused: [], failing: [] };
    try {
      const s = await this.remember(`plans\u0000${tenant}`, () => this.views.plans(tenant));
      out.compactions = s.pendingCompactions;
      out.downsamples = s.pendingDownsamples;
      out.refused = s.refused;
      out.failing = s.failing;
    } catch (e) {
      // A meta the planner cannot read (hostile bucket) must not take the page down.
      out.error = (e as Error).message;
    }
    return out;
  }

  /** One block's detail; undefined when the tenant has no such block folder. */
  async block(tenant: string, ulid: string): Promise<BlockDetailBody | undefined> {
    const d = await this.views.block(tenant, ulid);
    if (!d) return undefined;
    return {
      tenant: tenantName(tenant),
      block: { ...d.view, tenant: tenantName(d.view.tenant) },
      files: d.files,
      ...(d.meta !== undefined ? { meta: d.meta } : {}),
      ...(d.metaError !== undefined ? { metaError: d.metaError } : {}),
      marks: d.marks,
      ...(d.verifyReport !== undefined ? { verifyReport: d.verifyReport } : {}),
      ...(d.planReport !== undefined ? { planReport: d.planReport } : {}),
      ...(d.verified !== undefined ? { verified: d.verified } : {}),
    };
  }

  /**
   * The gauges of `/metrics`: every tenant's (from the listing and planning the page caches,
   * plus a HEAD of its index) and the queue depths, when known. A tenant whose listing fails
   * is left out of this scrape rather than failing it.
   */
  async gauges(): Promise<GaugeSample[]> {
    const out: GaugeSample[] = [];
    const perTenant = await Promise.all(
      (await this.tenants()).map(async (t) => {
        try {
          const [b, p, indexBytes] = await Promise.all([
            this.tenantBlocks(t),
            this.remember(`plans\u0000${t}`, () => this.views.plans(t)).catch(() => undefined),
            this.remember(`index-bytes\u0000${t}`, () => bucketIndexBytes(this.views, t)),
          ]);
          return gaugesOf(b, p, { now: this.now(), indexBytes });
        } catch {
          return [];
        }
      }),
    );
    for (const g of perTenant) out.push(...g);
    if (this.opts.queues) {
      const q = await this.remember("queues", this.opts.queues).catch(() => undefined);
      if (q) {
        out.push({ name: "strata_queue_messages", labels: { queue: "jobs" }, value: q.jobs });
        out.push({ name: "strata_queue_messages", labels: { queue: "dlq" }, value: q.dlq });
      }
    }
    return out;
  }

  private async summary(tenant: string): Promise<TenantSummary> {
    const [b, p] = await Promise.all([this.tenantBlocks(tenant), this.plans(tenant)]);
    const states: Record<string, number> = {};
    for (const v of b.blocks) states[v.state] = (states[v.state] ?? 0) + 1;
    return {
      tenant: tenantName(tenant),
      blocks: b.blocks.length,
      states,
      index: b.index,
      ...(p.error !== undefined
        ? { plansError: p.error }
        : { pendingCompactions: p.compactions.length, pendingDownsamples: p.downsamples.length }),
    };
  }

  private tenantBlocks(tenant: string): Promise<TenantBlocks> {
    return this.remember(`blocks\u0000${tenant}`, () => this.views.blocks(tenant));
  }

  private remember<T>(key: string, load: () => Promise<T>): Promise<T> {
    // Wall time, not the pipeline's clock (a test clock may run days in seconds).
    const now = Date.now();
    const hit = this.memo.get(key);
    if (hit && now - hit.at < (this.opts.cacheMs ?? 2_000)) return hit.value as Promise<T>;
    const value = load();
    this.memo.set(key, { at: now, value });
    // A failure is not kept: the next request tries again.
    value.catch(() => {
      if (this.memo.get(key)?.value === value) this.memo.delete(key);
    });
    return value;
  }
}
