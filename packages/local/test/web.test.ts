// The page's server and JSON API (`@strata/local/web`) over a bucket made by hand, as a
// `file://` bucket (FsStore) and over the S3 emulator (S3Store through the proxy): every
// response parsed with the API's own zod schemas; blocks in every state (live, marked,
// quarantined, broken, partial, root tenant); bad input answered 400/404 with one line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsStore, type ObjectStore } from "@strata/bucket";
import { S3Store } from "@strata/bucket/s3";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "@strata/emulator";
import {
  BlockDetailResponse,
  BlocksResponse,
  ErrorResponse,
  PlansResponse,
  StatusResponse,
  TenantsResponse,
  startWebServer,
  type WebServer,
} from "@strata/local/web";
import { seedBucket, type Seeded } from "./web-bucket.ts";

async function get(server: WebServer, path: string, init?: RequestInit) {
  const r = await fetch(server.url + path, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) as unknown };
}

function suite(name: string, open: () => Promise<{ store: ObjectStore; cleanup: () => Promise<void> }>) {
  describe(`strata web API: ${name}`, () => {
    let server: WebServer;
    let seeded: Seeded;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const o = await open();
      cleanup = o.cleanup;
      seeded = await seedBucket(o.store);
      server = await startWebServer({
        store: o.store,
        port: 0,
        refreshSeconds: 7,
        engine: { replicaLabels: ["replica"] },
      });
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it("serves the page, its script and style, same-origin only", async () => {
      const page = await get(server, "/");
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.text).toContain('src="/app.js"');
      expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect((await get(server, "/app.js")).headers.get("content-type")).toMatch(/^text\/javascript/);
      expect((await get(server, "/style.css")).headers.get("content-type")).toMatch(/^text\/css/);
      expect((await get(server, "/nope")).status).toBe(404);
    });

    it("/api/status: the bucket, the refresh period, no queues, a summary per tenant", async () => {
      const s = StatusResponse.parse((await get(server, "/api/status")).json());
      expect(s.refreshSeconds).toBe(7);
      expect(s.queues).toBeNull();
      expect(s.tenants.map((t) => t.tenant)).toEqual(["__root__", "team-a", "team-b"]);
      const a = s.tenants.find((t) => t.tenant === "team-a")!;
      expect(a.states).toEqual({ live: 1, marked: 2 });
      expect(a.index.present).toBe(true);
      expect(a.index.ageSeconds).toBeGreaterThanOrEqual(0);
      const b = s.tenants.find((t) => t.tenant === "team-b")!;
      expect(b.states).toEqual({ live: 1, quarantined: 1, broken: 1, partial: 1 });
      const t = TenantsResponse.parse((await get(server, "/api/tenants")).json());
      expect(t.tenants.map((x) => x.tenant)).toEqual(s.tenants.map((x) => x.tenant));
    });

    it("/api/tenants/:tenant/blocks: every block folder with its state, marks and compaction group", async () => {
      const a = BlocksResponse.parse((await get(server, "/api/tenants/team-a/blocks")).json());
      const rows = a.blocks.map((b) => [b.block, b.state, b.level]);
      expect(rows).toEqual(
        [
          [seeded.a1, "marked", 1],
          [seeded.a2, "marked", 1],
          [seeded.a3, "live", 2],
        ].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
      );
      // The replica label is not part of the group: both replicas and the output share a row.
      expect(new Set(a.blocks.map((b) => b.group)).size).toBe(1);
      expect(a.blocks[0]!.groupLabels).toEqual({ cluster: "a" });
      expect(a.blocks.find((b) => b.block === seeded.a1)!.marks.deletion?.time).toBe(seeded.deletionTime);
      expect(a.index.blocks).toBe(3);

      const b = BlocksResponse.parse((await get(server, "/api/tenants/team-b/blocks")).json());
      const byId = new Map(b.blocks.map((x) => [x.block, x]));
      expect(byId.get(seeded.b1)?.state).toBe("live");
      expect(byId.get(seeded.bQuarantined)?.state).toBe("quarantined");
      expect(byId.get(seeded.bQuarantined)?.marks.quarantine?.reason).toContain("checksum");
      expect(byId.get(seeded.bBroken)?.state).toBe("broken");
      expect(byId.get(seeded.bBroken)?.problem).toBeTruthy();
      expect(byId.get(seeded.bPartial)?.state).toBe("partial");

      const root = BlocksResponse.parse((await get(server, "/api/tenants/__root__/blocks")).json());
      expect(root.blocks.map((x) => [x.tenant, x.block, x.state])).toEqual([["__root__", seeded.root, "pending"]]);
    });

    it("/api/tenants/:tenant/plans: what strata status computes", async () => {
      const p = PlansResponse.parse((await get(server, "/api/tenants/team-a/plans")).json());
      expect(p.tenant).toBe("team-a");
      expect(p.error).toBeUndefined();
      const b = PlansResponse.parse((await get(server, "/api/tenants/team-b/plans")).json());
      expect(b.compactions).toEqual([]);
    });

    it("/api/tenants/:tenant/blocks/:ulid: meta.json, marks and the verify report; a broken meta is a field, not a failure", async () => {
      const q = BlockDetailResponse.parse(
        (await get(server, `/api/tenants/team-b/blocks/${seeded.bQuarantined.toLowerCase()}`)).json(),
      );
      expect(q.block.block).toBe(seeded.bQuarantined);
      expect(q.verifyReport).toEqual(seeded.report);
      expect(q.marks.noCompact).toMatchObject({ reason: "strata-verify-failed" });
      expect(q.meta).toMatchObject({ ulid: seeded.bQuarantined });
      expect(q.files.map((f) => f.name).sort()).toEqual(
        ["meta.json", "no-compact-mark.json", "strata-verify-report.json"].sort(),
      );
      const broken = BlockDetailResponse.parse(
        (await get(server, `/api/tenants/team-b/blocks/${seeded.bBroken}`)).json(),
      );
      expect(broken.block.state).toBe("broken");
      expect(broken.meta).toBeUndefined();
      expect(broken.metaError).toMatch(/not JSON/);
      const marked = BlockDetailResponse.parse((await get(server, `/api/tenants/team-a/blocks/${seeded.a1}`)).json());
      expect(marked.marks.deletion).toMatchObject({ deletion_time: seeded.deletionTime });
    });

    it("bad input: 400 for a malformed path, tenant or block id; 404 for an unknown tenant, block or path; 405 for writes", async () => {
      const cases: [string, number, RegExp][] = [
        ["/api/tenants/nobody/blocks", 404, /unknown tenant "nobody"/],
        ["/api/tenants/__x/blocks", 400, /invalid tenant "__x".*reserved/],
        ["/api/tenants/%E0%A4%A/blocks", 400, /malformed path segment/],
        ["/api/tenants/team-a/blocks/not-a-ulid", 400, /expected a ULID/],
        [`/api/tenants/team-a/blocks/${seeded.b1}`, 404, /unknown block/],
        ["/api/tenants/team-a/whatever", 404, /no such API path/],
        ["/api/nothing", 404, /no such API path/],
      ];
      for (const [path, status, message] of cases) {
        const r = await get(server, path);
        expect([path, r.status]).toEqual([path, status]);
        expect(ErrorResponse.parse(r.json()).error).toMatch(message);
      }
      const post = await get(server, "/api/status", { method: "POST" });
      expect(post.status).toBe(405);
      expect(ErrorResponse.parse(post.json()).error).toMatch(/read-only/);
    });
  });
}

suite("file:// bucket", async () => {
  const dir = await mkdtemp(join(tmpdir(), "strata-web-"));
  return { store: new FsStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

let emu: S3Emulator | undefined;
suite("S3 emulator", async () => {
  emu = await startS3Emulator({ buckets: ["web-test"] });
  const store = new S3Store({
    bucket: "web-test",
    clientConfig: {
      endpoint: emu.endpoint,
      credentials: EMULATOR_CREDENTIALS,
      region: EMULATOR_REGION,
      forcePathStyle: true,
    },
  });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await emu?.stop();
    },
  };
});

describe("strata web API: an unreadable bucket index", () => {
  it("shows as the index's error; the blocks are still listed; the plans say why they are missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "strata-web-"));
    const store = new FsStore(dir);
    const seeded = await seedBucket(store);
    await store.put("team-a/bucket-index.json.gz", "not gzip");
    const server = await startWebServer({ store, port: 0 });
    try {
      const a = BlocksResponse.parse(await (await fetch(`${server.url}/api/tenants/team-a/blocks`)).json());
      expect(a.index.error).toBeTruthy();
      expect(a.blocks.map((b) => b.block)).toEqual([seeded.a1, seeded.a2, seeded.a3].sort());
      const p = PlansResponse.parse(await (await fetch(`${server.url}/api/tenants/team-a/plans`)).json());
      expect(p.error).toMatch(/bucket index unreadable.*strata index rebuild/);
      // Read-only: the page never heals (rewrites) the index, as the pipeline's bindings would.
      expect(new TextDecoder().decode((await store.get("team-a/bucket-index.json.gz"))!.body)).toBe("not gzip");
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
