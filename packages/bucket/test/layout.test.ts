import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELETION_MARK_FILE, NO_COMPACT_MARK_FILE, NO_DOWNSAMPLE_MARK_FILE } from "@strata/tsdb";
import {
  BucketLayout,
  FsStore,
  LeaseLostError,
  LeaseManager,
  PreconditionFailedError,
  RangeCache,
  deleteBlock,
  deleteMarker,
  listAll,
  openStore,
  parseBucketUrl,
  writeMarker,
  type ObjectStore,
} from "../src/index.ts";
import { backoffRetryStrategy } from "../src/s3.ts";
import { testUlid } from "./fixtures.ts";

let root: string;
let store: FsStore;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "strata-layout-"));
  store = new FsStore(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function keys(s: ObjectStore, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const o of listAll(s, prefix)) out.push(o.key);
  return out;
}

describe("bucket URLs", () => {
  it("parses file:// and s3:// URLs and rejects anything else with the reason", async () => {
    expect(parseBucketUrl("file:///data/bucket/")).toEqual({ kind: "file", path: "/data/bucket" });
    expect(parseBucketUrl("s3://my-bucket")).toEqual({ kind: "s3", bucket: "my-bucket", prefix: "" });
    expect(parseBucketUrl("s3://my-bucket/a/b/")).toEqual({ kind: "s3", bucket: "my-bucket", prefix: "a/b" });
    expect(() => parseBucketUrl("gs://x")).toThrow(/unknown scheme/);
    expect(() => parseBucketUrl("s3://UPPER")).toThrow(/not a valid S3 bucket name/);
    expect(() => parseBucketUrl("s3://bkt/a//b")).toThrow(/empty path segment/);
    expect(() => parseBucketUrl("file://host/x")).toThrow(/invalid bucket URL/);
    expect((await openStore(`file://${root}`)).url).toBe(`file://${root}`);
    expect((await openStore("s3://bkt/pre")).url).toBe("s3://bkt/pre");
  });
});

describe("bucket layout", () => {
  const layout = new BucketLayout();
  const id = testUlid(1);

  it("names keys as Mimir and Thanos do, with the root tenant at the bucket root", () => {
    expect(layout.metaKey("t1", id)).toBe(`t1/${id}/meta.json`);
    expect(layout.metaKey("__root__", id)).toBe(`${id}/meta.json`);
    expect(layout.indexKey("t1")).toBe("t1/bucket-index.json.gz");
    expect(layout.globalMarkerKey("t1", id, DELETION_MARK_FILE)).toBe(`t1/markers/${id}-deletion-mark.json`);
    expect(layout.globalMarkerKey("t1", id, NO_COMPACT_MARK_FILE)).toBe(`t1/markers/${id}-no-compact-mark.json`);
    expect(layout.parseGlobalMarker(`t1/markers/${id}-deletion-mark.json`)).toEqual({ id, file: DELETION_MARK_FILE });
    expect(layout.parseGlobalMarker(`t1/markers/${id}-other.json`)).toBeUndefined();
    expect(new BucketLayout({ rootTenant: "anonymous" }).indexKey("anonymous")).toBe("bucket-index.json.gz");
    expect(() => layout.tenantPrefix("a/b")).toThrow(/invalid tenant/);
    expect(() => layout.tenantPrefix(id)).toThrow(/invalid tenant/);
  });

  it("mirrors deletion and no-compact marks to the global location, and removes both", async () => {
    await writeMarker(store, layout, "t1", id, DELETION_MARK_FILE, { id, version: 1, deletion_time: 5 });
    await writeMarker(store, layout, "t1", id, NO_COMPACT_MARK_FILE, {
      id,
      version: 1,
      no_compact_time: 6,
      reason: "manual",
    });
    await writeMarker(store, layout, "t1", id, NO_DOWNSAMPLE_MARK_FILE, {
      id,
      version: 1,
      no_downsample_time: 7,
      reason: "manual",
    });
    expect(await keys(store, "t1/markers/")).toEqual([
      `t1/markers/${id}-deletion-mark.json`,
      `t1/markers/${id}-no-compact-mark.json`,
    ]);
    expect(new TextDecoder().decode((await store.get(`t1/markers/${id}-deletion-mark.json`))!.body)).toBe(
      `{"id":"${id}","version":1,"deletion_time":5}`,
    );
    await deleteMarker(store, layout, "t1", id, NO_COMPACT_MARK_FILE);
    expect(await keys(store, "t1/markers/")).toEqual([`t1/markers/${id}-deletion-mark.json`]);
  });

  it("lists tenants and blocks, and deletes a block meta.json first and its deletion mark last", async () => {
    for (const f of ["chunks/000001", "chunks/000002", "index", "meta.json"])
      await store.put(layout.blockFile("t1", id, f), f);
    await store.put(layout.metaKey("__root__", testUlid(2)), "{}");
    await store.put(layout.metaKey("t2", testUlid(3)), "{}");
    expect(await layout.listTenants(store)).toEqual(["__root__", "t1", "t2"]);
    expect(await layout.listBlockIds(store, "t1")).toEqual([id]);
    const ops: string[] = [];
    const recording = new Proxy(store, {
      get: (t, p, r) =>
        p === "delete" ? (k: string, o?: object) => (ops.push(k), t.delete(k, o)) : Reflect.get(t, p, r),
    });
    await deleteBlock(recording, layout, "t1", id);
    expect(ops[0]).toBe(`t1/${id}/meta.json`);
    expect(ops.slice(-4)).toEqual([
      `t1/${id}/deletion-mark.json`,
      `t1/markers/${id}-deletion-mark.json`,
      `t1/markers/${id}-no-compact-mark.json`,
      `t1/markers/${id}-no-downsample-mark.json`,
    ]);
    expect(await keys(store, "t1/")).toEqual([]);
    expect(await layout.listTenants(store)).toEqual(["__root__", "t2"]);
  });
});

describe("small parts", () => {
  it("RangeCache evicts least recently used pages to stay under its byte limit", () => {
    const c = new RangeCache({ maxBytes: 30, pageSize: 10 });
    c.set("a", new Uint8Array(10));
    c.set("b", new Uint8Array(10));
    c.set("c", new Uint8Array(10));
    c.get("a");
    c.set("d", new Uint8Array(10));
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")).toBeDefined();
    expect(c.size).toBe(30);
    c.set("huge", new Uint8Array(31));
    expect(c.get("huge")).toBeUndefined();
  });

  it("the S3 retry policy retries server and throttling errors with bounded backoff, never client errors", async () => {
    const s = backoffRetryStrategy({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 150 });
    let t = await s.acquireInitialRetryToken("");
    t = await s.refreshRetryTokenForRetry(t, { errorType: "THROTTLING" });
    expect(t.getRetryCount()).toBe(1);
    expect(t.getRetryDelay()).toBeLessThanOrEqual(100);
    t = await s.refreshRetryTokenForRetry(t, {
      errorType: "SERVER_ERROR",
      retryAfterHint: new Date(Date.now() + 10_000),
    });
    expect(t.getRetryDelay()).toBeLessThanOrEqual(150);
    await expect(s.refreshRetryTokenForRetry(t, { errorType: "TRANSIENT", error: new Error("boom") })).rejects.toThrow(
      "boom",
    );
    await expect(
      s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(""), { errorType: "CLIENT_ERROR" }),
    ).rejects.toThrow();
  });

  it("a lease whose object is not a lease record is taken over; a released lease is re-acquired", async () => {
    const m = new LeaseManager(store);
    await store.put("leases/garbage.json", "not json");
    const r = await m.acquire("leases/garbage.json", "w1", 1000);
    expect(r.acquired && r.takenOver).toBe(true);
    if (!r.acquired) return;
    expect(await m.release(r.lease)).toBeUndefined();
    const again = await m.acquire("leases/garbage.json", "w2", 1000);
    expect(again.acquired && again.takenOver).toBe(true);
    await expect(m.acquire("x", "w", 0)).rejects.toThrow(RangeError);
  });

  it("a write that landed though its answer was lost (5xx, then the retry's 412) is still ours: acquire and renew", async () => {
    // The store stores the body, then answers as S3 does to the client's retry of it.
    let lose = 0;
    const lossy: typeof store = Object.create(store);
    lossy.put = async (key, body, opts) => {
      const r = await store.put(key, body, opts);
      if (lose > 0 && (opts?.ifNoneMatch || opts?.ifMatch)) {
        lose--;
        return new PreconditionFailedError(key, opts.ifNoneMatch ? "If-None-Match: *" : `If-Match: ${opts.ifMatch}`);
      }
      return r;
    };
    const m = new LeaseManager(lossy);
    lose = 1;
    const r = await m.acquire("leases/lossy.json", "w1", 60_000);
    expect(r.acquired).toBe(true);
    if (!r.acquired) return;
    lose = 1;
    const renewed = await m.renew(r.lease, 60_000);
    expect(renewed).not.toBeInstanceOf(LeaseLostError);
    // And the lease is really held: another worker is refused, the holder releases it.
    expect((await m.acquire("leases/lossy.json", "w2", 60_000)).acquired).toBe(false);
    expect(await m.release(renewed as Exclude<typeof renewed, LeaseLostError>)).toBeUndefined();
  });
});

describe("listTenants: exactly the tenants uploads can create", () => {
  const layout = new BucketLayout();
  const B = testUlid(10);
  const T = testUlid(11); // a ULID-shaped "tenant" folder
  let dir: string;
  let s: FsStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-tenants-"));
    s = new FsStore(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("markers/, leases/, __x/, .x/, invalid names and a ULID-shaped folder of ULID folders are neither tenants nor a root tenant", async () => {
    await s.put(`markers/${B}-deletion-mark.json`, "{}");
    await s.put("leases/compact-x.json", "{}");
    await s.put(`__x/${B}/meta.json`, "{}");
    await s.put(`.x/${B}/meta.json`, "{}");
    await s.put(`a\u202Eb/${B}/meta.json`, "{}");
    await s.put(`debug/metas/${B}.json`, "{}");
    await s.put(`${T}/${B}/meta.json`, "{}");
    await s.put(`${T}/${testUlid(12)}/chunks/000001`, "x");
    await s.put("bucket-index.json.gz", "x");
    await s.put(`team-a/${B}/meta.json`, "{}");
    expect(await layout.listTenants(s)).toEqual(["team-a"]);
    expect(await new BucketLayout({ rootTenant: "" }).listTenants(s)).toEqual(["team-a"]);
  });

  it("a real root block (even one still uploading) makes the root tenant; one listing of one ULID folder decides it", async () => {
    const partial = testUlid(13);
    await s.put(`${partial}/chunks/000001`, "x");
    expect(await layout.listTenants(s)).toEqual(["__root__", "team-a"]);
    await s.delete(`${partial}/chunks/000001`);
    for (let i = 0; i < 5; i++) await s.put(`${testUlid(20 + i)}/meta.json`, "{}");
    const listed: string[] = [];
    const counting = new Proxy(s, {
      get: (t, p, r) =>
        p === "list" ? (prefix: string, o?: object) => (listed.push(prefix), t.list(prefix, o)) : Reflect.get(t, p, r),
    });
    expect(await layout.listTenants(counting)).toEqual(["__root__", "team-a"]);
    // The root listing, the ULID-shaped tenant folder (sorts first: …11 < …20), then the first root block.
    expect(listed).toEqual(["", `${T}/`, `${testUlid(20)}/`]);
    expect(await new BucketLayout({ rootTenant: "anonymous" }).listTenants(s)).toEqual(["anonymous", "team-a"]);
  });

  it("tenantPrefix refuses every invalid tenant with the reason, and maps the root tenant to the bucket root", () => {
    expect(layout.tenantPrefix("__root__")).toBe("");
    expect(layout.tenantPrefix("team-a")).toBe("team-a/");
    expect(() => layout.tenantPrefix("markers")).toThrow(
      `invalid tenant "markers": tenant "markers" is a reserved name`,
    );
    expect(() => layout.tenantPrefix("leases")).toThrow(/reserved name/);
    expect(() => layout.tenantPrefix("__x")).toThrow(
      `invalid tenant "__x": tenant must not start with '__' (reserved)`,
    );
    expect(() => layout.tenantPrefix(".x")).toThrow(/must not start with '\.'/);
    expect(() => layout.tenantPrefix("a\u202Eb")).toThrow(
      `invalid tenant "a\\u202eb": tenant contains a bidirectional formatting character (U+202E) at character 1`,
    );
    expect(() => layout.tenantPrefix(T.toLowerCase())).toThrow(/ULID-shaped/);
  });
});
