/**
 * Per-tenant overrides (strata-overrides.json): the schema, the layering over the global
 * settings, the worker's re-reading (a bad document keeps the old overrides and says so once),
 * and the jobs honouring them (retention per tenant, a disabled tenant skipped, nothing deleted).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FsStore } from "@strata/bucket";
import { bindPipeline, compactLeaseName, downsampleLeaseName, encodeJob, jsonLogger, runJob } from "@strata/pipeline";
import {
  MAX_OVERRIDES_BYTES,
  OVERRIDES_KEY,
  OVERRIDES_TTL_MS,
  OverridesSource,
  baseSettings,
  parseOverrides,
  setTenantOverrides,
  showOverrides,
  tenantSettings,
  unsetTenantOverrides,
  type OverridesDocument,
} from "@strata/pipeline/operations";
import { DEFAULT_CONFIG, DEFAULT_ENGINE_SETTINGS } from "@strata/pipeline/settings";
import { compactJob, fakeGroupKey, harness, planFor, twoHourBlock } from "@strata/testkit/pipeline";
import { writeStoreBlock } from "./store-blocks.ts";

const DAY = 86_400_000;
const base = baseSettings(DEFAULT_CONFIG, { ...DEFAULT_ENGINE_SETTINGS, split: { shardCount: 2, minSeries: 10 } });

describe("the overrides document", () => {
  it("accepts retention per resolution, replica labels, split shards and enabled, per tenant and as defaults", () => {
    const r = parseOverrides(
      JSON.stringify({
        defaults: { retention: { raw: "30d" } },
        tenants: { "team-a": { retention: { "5m": "90d", "1h": "1y" }, replicaLabels: ["replica"], splitShards: 0 } },
      }),
    );
    expect(r.ok).toBe(true);
  });

  it.each([
    ["not JSON", "{", "not JSON"],
    ["an unknown field", '{"tenants":{"a":{"retension":{}}}}', "tenants.a: Unrecognized key"],
    [
      "a bad duration",
      '{"tenants":{"a":{"retention":{"raw":"30 days"}}}}',
      "tenants.a.retention.raw: expected a duration",
    ],
    ["a bad tenant name", '{"tenants":{"../x":{}}}', 'tenants.../x: invalid tenant "../x"'],
    ["too many shards", '{"defaults":{"splitShards":100000}}', "defaults.splitShards"],
    ["a bad label", '{"defaults":{"replicaLabels":["a-b"]}}', "expected a label name"],
  ])("refuses %s with a line naming the problem", (_what, text, message) => {
    const r = parseOverrides(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(`${OVERRIDES_KEY}: `);
    expect(!r.ok && r.error).toContain(message);
  });

  it("refuses a document over the cap unparsed", () => {
    const r = parseOverrides(" ".repeat(MAX_OVERRIDES_BYTES + 1));
    expect(!r.ok && r.error).toContain(`more than the ${MAX_OVERRIDES_BYTES}-byte limit`);
  });
});

describe("tenant settings", () => {
  const doc: OverridesDocument = {
    defaults: { retention: { raw: "30d" }, enabled: true },
    tenants: {
      a: { retention: { raw: "7d" }, replicaLabels: ["replica"] },
      b: { splitShards: 0, enabled: false },
      __root__: { retention: { "1h": "1y" } },
    },
  };

  it("layers global settings, then the defaults block, then the tenant's own", () => {
    const a = tenantSettings(doc, "a", base);
    expect(a.retention).toEqual({ 0: 7 * DAY, 300000: 0, 3600000: 0 });
    expect(a.replicaLabels).toEqual(["replica"]);
    expect(a.dedup).toBe("penalty"); // derived from the labels, as STRATA_DEDUP's default is
    expect(a.split).toEqual({ shardCount: 2, minSeries: 10 });
    expect(a.enabled).toBe(true);
    const other = tenantSettings(doc, "other", base);
    expect(other.retention[0]).toBe(30 * DAY);
    expect(other.replicaLabels).toEqual([]);
    expect(other.dedup).toBe("1:1");
  });

  it("splitShards 0 turns split-and-merge off; enabled false disables; the root tenant is __root__", () => {
    const b = tenantSettings(doc, "b", base);
    expect(b.split).toBeUndefined();
    expect(b.enabled).toBe(false);
    expect(tenantSettings(doc, "", base).retention[3600000]).toBe(365 * DAY);
  });

  it("an explicit global dedup mode stays when a tenant sets replica labels", () => {
    const t = tenantSettings(doc, "a", { ...base, dedup: "penalty", replicaLabels: [] });
    expect(t.dedup).toBe("penalty");
    const u = tenantSettings({ tenants: { a: { replicaLabels: [] } } }, "a", {
      ...base,
      dedup: "1:1",
      replicaLabels: ["r"],
    });
    expect(u.dedup).toBe("1:1");
  });
});

let dir: string;
let store: FsStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-overrides-"));
  store = new FsStore(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function source(opts: { ttlMs?: number } = {}) {
  const lines: Record<string, unknown>[] = [];
  const clock = { t: 0 };
  const src = new OverridesSource(store, {
    log: jsonLogger((l) => lines.push(JSON.parse(l))),
    now: () => clock.t,
    ttlMs: opts.ttlMs ?? 1000,
  });
  return { src, lines, clock };
}

describe("the worker's overrides source", () => {
  it("a bad first document: no overrides, said once with the problem", async () => {
    await store.put(OVERRIDES_KEY, '{"tenants":{"a":{"retention":{"raw":"forever"}}}}');
    const { src, lines, clock } = source();
    expect(await src.current()).toEqual({});
    clock.t += 5000;
    expect(await src.current()).toEqual({});
    const errors = lines.filter((l) => l.event === "overrides-invalid");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toContain("tenants.a.retention.raw: expected a duration");
    expect(errors[0]!.keeping).toContain("no overrides");
  });

  it("a bad new document keeps the old overrides in force, and a fixed one is taken", async () => {
    await store.put(OVERRIDES_KEY, '{"tenants":{"a":{"enabled":false}}}');
    const { src, lines, clock } = source();
    expect(await src.current()).toEqual({ tenants: { a: { enabled: false } } });
    await store.put(OVERRIDES_KEY, "{ not json");
    expect(await src.current()).toEqual({ tenants: { a: { enabled: false } } }); // within the TTL: not re-read
    clock.t += 1000;
    expect(await src.current()).toEqual({ tenants: { a: { enabled: false } } });
    const bad = lines.find((l) => l.event === "overrides-invalid")!;
    expect(bad.error).toContain("not JSON");
    expect(bad.keeping).toContain("the overrides of ETag");
    await store.put(OVERRIDES_KEY, "x".repeat(MAX_OVERRIDES_BYTES + 1));
    clock.t += 1000;
    expect(await src.current()).toEqual({ tenants: { a: { enabled: false } } });
    expect(lines.filter((l) => l.event === "overrides-invalid").at(-1)!.error).toContain("-byte limit");
    await store.put(OVERRIDES_KEY, '{"tenants":{"a":{"enabled":true}}}');
    clock.t += 1000;
    expect(await src.current()).toEqual({ tenants: { a: { enabled: true } } });
    await store.delete(OVERRIDES_KEY);
    clock.t += 1000;
    expect(await src.current()).toEqual({});
  });
});

describe("jobs honour a tenant's overrides", () => {
  async function withOverrides(doc: OverridesDocument) {
    await store.put(OVERRIDES_KEY, JSON.stringify(doc));
    const h = harness({ retentionRequiresDownsampled: false });
    const src = new OverridesSource(store);
    const b = baseSettings(h.deps.config, DEFAULT_ENGINE_SETTINGS);
    h.deps.tenantSettings = async (t) => tenantSettings(await src.current(), t, b);
    return h;
  }

  it("retention: the tenant with a 1d raw retention loses its 2-day-old block, the others keep theirs", async () => {
    const h = await withOverrides({ tenants: { short: { retention: { raw: "1d" } } } });
    for (const t of ["short", "long"]) {
      const ref = h.bucket.upload(t, twoHourBlock(0));
      await h.deps.index.addBlock(t, h.bucket.get(ref)!.meta!);
    }
    for (const tenant of ["short", "long"]) await runJob({ version: 1, type: "retention", tenant }, "j", h.deps);
    expect(h.bucket.queryable("short")).toEqual([]);
    expect(h.bucket.queryable("long")).toHaveLength(1);
  });

  it("a disabled tenant's jobs are acknowledged and skipped with a log line; nothing is marked", async () => {
    const h = await withOverrides({ tenants: { off: { enabled: false, retention: { raw: "1d" } } } });
    const ref = h.bucket.upload("off", twoHourBlock(0));
    await h.deps.index.addBlock("off", h.bucket.get(ref)!.meta!);
    const r = await runJob({ version: 1, type: "retention", tenant: "off" }, "j", h.deps);
    expect(r.status).toBe("skipped");
    expect(h.bucket.queryable("off")).toHaveLength(1);
    expect(h.lines.find((l) => l.event === "tenant-disabled")).toMatchObject({ tenant: "off" });
    expect(encodeJob({ version: 1, type: "retention" })).toBeTruthy();
  });

  it("a disabled tenant's skipped compaction and downsampling clear planning's queued notes, so re-enabling sends them again", async () => {
    const h = await withOverrides({ tenants: { off: { enabled: false } } });
    const ref = h.bucket.upload("off", twoHourBlock(0));
    const plan = planFor("off", fakeGroupKey({}), [ref.block]);
    const notes = [compactLeaseName(plan.id), downsampleLeaseName(ref.block, 300_000)];
    for (const n of notes) await h.deps.leases.noteQueued("off", n);
    expect((await runJob(compactJob(plan), "c", h.deps)).status).toBe("skipped");
    const ds = { version: 1, type: "downsample", tenant: "off", block: ref.block, resolution: 300_000 } as const;
    expect((await runJob(ds, "d", h.deps)).status).toBe("skipped");
    for (const n of notes) expect(await h.deps.leases.isQueued("off", n, DAY), n).toBe(false);
  });
});

describe("a race between two editors", () => {
  it("the one whose compare-and-swap loses writes nothing and is told to run again", async () => {
    await setTenantOverrides(store, "a", { enabled: true });
    // Another operator's write lands between this edit's read and its write.
    const racing: typeof store = Object.create(store);
    racing.put = async (key, body, opts) => {
      await store.put(OVERRIDES_KEY, '{"tenants":{"b":{"enabled":false}}}');
      return store.put(key, body, opts);
    };
    const r = await setTenantOverrides(racing, "a", { enabled: false });
    expect(r).toMatchObject({ ok: false, conflict: true });
    expect(!r.ok && r.error).toContain("changed since it was read");
    const now = await showOverrides(store, { base });
    expect(now.ok && now.view.document).toEqual({ tenants: { b: { enabled: false } } });
  });
});

describe("the real bindings", () => {
  it("bindPipeline reads the bucket's document: each tenant's settings, the engines' included", async () => {
    await store.put(OVERRIDES_KEY, '{"tenants":{"a":{"replicaLabels":["replica"],"splitShards":3,"enabled":false}}}');
    const deps = bindPipeline({ store, queue: { send: async () => undefined }, log: jsonLogger(() => undefined) });
    expect(await deps.tenantSettings!("a")).toMatchObject({
      enabled: false,
      replicaLabels: ["replica"],
      dedup: "penalty",
    });
    expect((await deps.tenantSettings!("a")).split?.shardCount).toBe(3);
    expect(await deps.tenantSettings!("b")).toMatchObject({ enabled: true, replicaLabels: [], dedup: "1:1" });
    // The engines plan each tenant with its own replica labels: two replicas of one window are one group
    // (a vertical compaction) for the tenant that names the label, two groups of one block for the other.
    await store.put(OVERRIDES_KEY, '{"tenants":{"ha":{"replicaLabels":["replica"]}}}');
    const fresh = bindPipeline({ store, queue: { send: async () => undefined }, log: jsonLogger(() => undefined) });
    const minT = Date.UTC(2026, 0, 1);
    for (const tenant of ["ha", "plain"]) {
      const live = [
        { meta: await writeStoreBlock(store, tenant, minT, 1, { cluster: "a", replica: "r1" }) },
        { meta: await writeStoreBlock(store, tenant, minT, 2, { cluster: "a", replica: "r2" }) },
      ];
      const plan = await fresh.engines.plan(tenant, live);
      expect(plan.compactions.length, tenant).toBe(tenant === "ha" ? 1 : 0);
      const [a, b] = live.map((l) => l.meta);
      const labels = (await fresh.tenantSettings!(tenant)).replicaLabels;
      expect(fresh.engines.groupKey(a!, labels) === fresh.engines.groupKey(b!, labels), tenant).toBe(tenant === "ha");
    }
    const off = bindPipeline({
      store,
      queue: { send: async () => undefined },
      log: jsonLogger(() => undefined),
      overrides: false,
    });
    expect(off.tenantSettings).toBeUndefined();
  });
});

describe("the bindings' overrides under a clock that stands still", () => {
  it("re-reads a changed document once the refresh interval has passed on the wall clock", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      await store.put(OVERRIDES_KEY, '{"tenants":{"a":{"enabled":false}}}');
      const deps = bindPipeline({
        store,
        queue: { send: async () => undefined },
        log: jsonLogger(() => undefined),
        clock: { now: () => Date.UTC(2023, 0, 1) }, // the pipeline's time: data in the past, standing still
      });
      expect((await deps.tenantSettings!("a")).enabled).toBe(false);
      await store.put(OVERRIDES_KEY, '{"tenants":{"a":{"enabled":true}}}');
      expect((await deps.tenantSettings!("a")).enabled).toBe(false); // within the interval: the copy
      vi.setSystemTime(Date.now() + OVERRIDES_TTL_MS + 1);
      expect((await deps.tenantSettings!("a")).enabled).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("editing the document", () => {
  it("set merges into a tenant's block, unset removes it, each a compare-and-swap", async () => {
    const a = await setTenantOverrides(store, "a", { retention: { raw: "7d" } });
    expect(a).toMatchObject({ ok: true, written: true });
    const b = await setTenantOverrides(store, "a", { retention: { "5m": "30d" }, enabled: false });
    expect(b.ok && b.after).toEqual({ tenants: { a: { retention: { raw: "7d", "5m": "30d" }, enabled: false } } });
    const view = await showOverrides(store, { base });
    expect(view.ok && view.view.tenants.a).toMatchObject({
      enabled: false,
      retention: { raw: "7d", "5m": "30d", "1h": "0" },
    });
    // A stale ETag loses.
    const stale = await setTenantOverrides(store, "a", { enabled: true }, { ifMatch: a.ok ? a.etag : "" });
    expect(stale).toMatchObject({ ok: false, conflict: true });
    expect(await unsetTenantOverrides(store, "a")).toMatchObject({ ok: true, after: {} });
    const dry = await setTenantOverrides(store, "b", { splitShards: 4 }, { dryRun: true });
    expect(dry).toMatchObject({ ok: true, written: false, changed: true });
    expect((await showOverrides(store, { base })).ok).toBe(true);
  });
});
