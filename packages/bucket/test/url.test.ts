// Block and tenant URLs: `<bucket-url>/<tenant>/<ULID>` read by the bucket's key grammar, and
// the check that a URL names a block that is there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BlockNotFoundError,
  BucketUrlError,
  FsStore,
  UnknownTenantError,
  blockUrl,
  openBlockUrl,
  parseBlockUrl,
  parseTenantUrl,
  requireBlock,
  tenantUrl,
} from "../src/index.ts";

const U = "01JABCDEFGHJKMNPQRSTVWXYZ0";
const V = "01JABCDEFGHJKMNPQRSTVWXYZ1";

describe("parseBlockUrl", () => {
  it("reads s3 block URLs: tenant before the ULID, the rest the bucket and prefix", () => {
    expect(parseBlockUrl(`s3://metrics/team-a/${U}`)).toEqual({
      bucketUrl: "s3://metrics",
      bucket: { kind: "s3", bucket: "metrics", prefix: "" },
      tenant: "team-a",
      block: U,
    });
    expect(parseBlockUrl(`s3://metrics/prod/eu/team-a/${U}/`)).toMatchObject({
      bucketUrl: "s3://metrics/prod/eu",
      bucket: { kind: "s3", bucket: "metrics", prefix: "prod/eu" },
      tenant: "team-a",
    });
  });

  it("reads the root tenant: a ULID right under the bucket, or __root__ anywhere", () => {
    expect(parseBlockUrl(`s3://metrics/${U}`)).toMatchObject({ bucketUrl: "s3://metrics", tenant: "", block: U });
    expect(parseBlockUrl(`s3://metrics/prod/__root__/${U}`)).toMatchObject({
      bucketUrl: "s3://metrics/prod",
      tenant: "",
    });
    expect(parseBlockUrl(`file:///data/bucket/__root__/${U}`)).toMatchObject({
      bucketUrl: "file:///data/bucket",
      bucket: { kind: "file", path: "/data/bucket" },
      tenant: "",
    });
  });

  it("reads file block URLs, percent-decoded", () => {
    expect(parseBlockUrl(`file:///data/my%20bucket/team-a/${U}`)).toEqual({
      bucketUrl: "file:///data/my%20bucket",
      bucket: { kind: "file", path: "/data/my bucket" },
      tenant: "team-a",
      block: U,
    });
  });

  it("refuses malformed URLs with the reason and the forms expected", () => {
    const bad: [string, RegExp][] = [
      ["gs://metrics/team-a/" + U, /unknown scheme/],
      ["/data/team-a/" + U, /unknown scheme/],
      ["s3://UPPER/team-a/" + U, /not a valid S3 bucket name/],
      ["s3://metrics", /no block ULID in the path/],
      ["s3://metrics/team-a/not-a-ulid", /last path segment "not-a-ulid" is not a block ULID/],
      [`s3://metrics/team-a//${U}`, /empty path segment/],
      [`file:///data//team-a/${U}`, /empty path segment/],
      [`s3://metrics/__x/${U}`, /"__x" is not a valid tenant: tenant must not start with '__'/],
      [`s3://metrics/markers/${U}`, /"markers" is a reserved name/],
      [`s3://metrics/${V}/${U}`, /holds block folders, so it is a tenant/],
      [`file://host/x/team-a/${U}`, /invalid block URL/],
    ];
    for (const [url, why] of bad) {
      let err: unknown;
      try {
        parseBlockUrl(url);
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(BucketUrlError);
      expect((err as Error).message, url).toMatch(why);
      expect((err as Error).message, url).toMatch(
        /^invalid block URL .*\(expected s3:\/\/bucket\[\/prefix\]\/<tenant>\/<ULID>/,
      );
    }
  });

  it("reads back what blockUrl writes", () => {
    for (const [bucket, tenant] of [
      ["s3://metrics", ""],
      ["s3://metrics", "team-a"],
      ["s3://metrics/prod", ""],
      ["file:///data/b", ""],
      ["file:///data/b", "team a#1"],
    ] as const) {
      const url = blockUrl(bucket, tenant, U);
      expect(parseBlockUrl(url), url).toMatchObject({ bucketUrl: bucket, tenant, block: U });
      expect(parseTenantUrl(tenantUrl(bucket, tenant))).toMatchObject({ bucketUrl: bucket, tenant });
    }
    expect(blockUrl("s3://metrics", "", U)).toBe(`s3://metrics/${U}`);
    expect(blockUrl("s3://metrics/prod", "", U)).toBe(`s3://metrics/prod/__root__/${U}`);
  });
});

describe("parseTenantUrl", () => {
  it("takes the last segment for the tenant, a bare s3 bucket for its root tenant", () => {
    expect(parseTenantUrl("s3://metrics/prod/team-a")).toEqual({
      bucketUrl: "s3://metrics/prod",
      bucket: { kind: "s3", bucket: "metrics", prefix: "prod" },
      tenant: "team-a",
    });
    expect(parseTenantUrl("s3://metrics")).toMatchObject({ bucketUrl: "s3://metrics", tenant: "" });
    expect(parseTenantUrl("file:///data/b/__root__/")).toMatchObject({ bucketUrl: "file:///data/b", tenant: "" });
  });

  it("refuses a block URL or an invalid tenant", () => {
    expect(() => parseTenantUrl(`s3://metrics/team-a/${U}`)).toThrow(
      /^invalid tenant URL .*: tenant is ULID-shaped .*\(expected s3:\/\/bucket\[\/prefix\]\/<tenant>/,
    );
    expect(() => parseTenantUrl("s3://metrics/leases")).toThrow(/reserved name/);
    expect(() => parseTenantUrl("ftp://x/t")).toThrow(/unknown scheme/);
  });
});

describe("requireBlock / openBlockUrl", () => {
  let root: string;
  let store: FsStore;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "strata-url-"));
    store = new FsStore(root);
    await store.put(`team-a/${U}/meta.json`, "{}");
    await store.put(`team-a/${V}/index`, "partial");
    await store.put(`${U}/meta.json`, "{}");
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("gives the block's key prefix when its meta.json is there", async () => {
    const bucketUrl = pathToFileURL(root).href;
    expect(await requireBlock(store, parseBlockUrl(`${bucketUrl}/team-a/${U}`))).toBe(`team-a/${U}/`);
    expect(await requireBlock(store, parseBlockUrl(`${bucketUrl}/__root__/${U}`))).toBe(`${U}/`);
    const b = await openBlockUrl(`${bucketUrl}/team-a/${U}`);
    expect(b).toMatchObject({ tenant: "team-a", block: U, prefix: `team-a/${U}/` });
    expect(b.store.url).toBe(`file://${root}`);
  });

  it("tells a missing block from an unknown tenant", async () => {
    const bucketUrl = pathToFileURL(root).href;
    await expect(requireBlock(store, parseBlockUrl(`${bucketUrl}/team-a/${V}`))).rejects.toThrow(
      new BlockNotFoundError(`${bucketUrl}/team-a/${V}`),
    );
    await expect(requireBlock(store, parseBlockUrl(`${bucketUrl}/team-a/${V}`))).rejects.toThrow(
      `no meta.json at ${bucketUrl}/team-a/${V}`,
    );
    await expect(openBlockUrl(`${bucketUrl}/team-b/${U}`)).rejects.toThrow(UnknownTenantError);
    await expect(openBlockUrl(`${bucketUrl}/team-b/${U}`)).rejects.toThrow(
      `unknown tenant "team-b" in ${bucketUrl} (no objects under it)`,
    );
    await expect(openBlockUrl(`${bucketUrl}/__root__/${V}`)).rejects.toThrow(BlockNotFoundError);
  });
});
