/**
 * Bucket URLs: `file:///abs/path` (a directory bucket) and `s3://bucket[/prefix]`; and the
 * URLs of what lies in one: a tenant (`<bucket-url>/<tenant>`) and a block
 * (`<bucket-url>/<tenant>/<ULID>`), read by the bucket's key grammar (`keys.ts`).
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { META_FILE, isUlid } from "@strata/tsdb";
import { BucketError } from "./errors.ts";
import type { ObjectStore } from "./store.ts";
import { FsStore } from "./fs/fs-store.ts";
import type { S3StoreOptions } from "./s3/s3-store.ts";
import { ROOT_TENANT, ROOT_TENANT_NAME, parseBlockKey, quoteName, tenantName, tenantProblem } from "./keys.ts";

export type BucketUrl = { kind: "file"; path: string } | { kind: "s3"; bucket: string; prefix: string };

const BUCKET_FORMS = "file:///path or s3://bucket[/prefix]";
const TENANT_FORMS = "s3://bucket[/prefix]/<tenant> or file:///path/<tenant>";
const BLOCK_FORMS = "s3://bucket[/prefix]/<tenant>/<ULID> or file:///path/<tenant>/<ULID>";

export class BucketUrlError extends BucketError {
  override name = "BucketUrlError";
  /** `what` names the kind of URL ("block", "tenant"; default "bucket"), `expected` its forms. */
  constructor(url: string, why: string, options?: ErrorOptions & { what?: string; expected?: string }) {
    super(
      `invalid ${options?.what ?? "bucket"} URL ${JSON.stringify(url)}: ${why} (expected ${options?.expected ?? BUCKET_FORMS})`,
      options,
    );
  }
}

/** Why `name` is not an S3 bucket name (3–63 of a-z, 0-9, '.', '-', starting and ending alphanumeric). */
function s3BucketProblem(name: string): string | undefined {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)
    ? undefined
    : `${JSON.stringify(name)} is not a valid S3 bucket name`;
}

export function parseBucketUrl(url: string): BucketUrl {
  if (url.startsWith("file:")) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (e) {
      throw new BucketUrlError(url, (e as Error).message, { cause: e });
    }
    return { kind: "file", path: resolve(path) };
  }
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (m) {
    const bucket = m[1]!;
    const problem = s3BucketProblem(bucket);
    if (problem) throw new BucketUrlError(url, problem);
    const prefix = (m[2] ?? "").replace(/\/+$/, "");
    if (prefix.split("/").some((p) => p === "" && prefix !== ""))
      throw new BucketUrlError(url, "empty path segment in the prefix");
    return { kind: "s3", bucket, prefix };
  }
  if (url.startsWith("s3://")) throw new BucketUrlError(url, "no bucket name after s3://");
  throw new BucketUrlError(url, "unknown scheme");
}

/**
 * The store a bucket URL names. S3 stores take their endpoint and credentials from the
 * environment. The AWS SDK is loaded only when an s3:// URL is opened (it costs ~200 ms
 * of start-up that file:// users and other CLI commands should not pay).
 */
export async function openStore(url: string, s3?: Omit<S3StoreOptions, "bucket" | "prefix">): Promise<ObjectStore> {
  const u = parseBucketUrl(url);
  if (u.kind === "file") return new FsStore(u.path);
  const { S3Store } = await import("./s3/s3-store.ts");
  return new S3Store({ ...s3, bucket: u.bucket, prefix: u.prefix });
}

/** A tenant of a bucket, as `<bucket-url>/<tenant>` names it. */
export interface TenantUrl {
  /** The bucket's own URL (what `openStore` takes), normalised. */
  bucketUrl: string;
  bucket: BucketUrl;
  /** ROOT_TENANT ("") for the tenant whose blocks sit at the bucket (or prefix) root. */
  tenant: string;
}

/** A block, as `<bucket-url>/<tenant>/<ULID>` names it. */
export interface BlockUrl extends TenantUrl {
  /** The block's ULID, as written (keys are case-sensitive). */
  block: string;
}

type UrlKind = { what: string; expected: string };
const BLOCK: UrlKind = { what: "block", expected: BLOCK_FORMS };
const TENANT: UrlKind = { what: "tenant", expected: TENANT_FORMS };

/**
 * A URL's path segments (none empty), and a function making the bucket URL of the first
 * `n` of them (the segments before the tenant).
 */
function splitUrl(url: string, k: UrlKind): { segs: string[]; bucketOf: (n: number) => TenantUrl["bucket"] } {
  const fail = (why: string, cause?: unknown): never => {
    throw new BucketUrlError(url, why, { ...k, ...(cause === undefined ? {} : { cause }) });
  };
  let path: string;
  let bucket: string | undefined;
  if (url.startsWith("file:")) {
    try {
      path = fileURLToPath(url);
    } catch (e) {
      return fail((e as Error).message, e);
    }
    // Checked before resolve() would fold it away: which segment is the tenant must not shift.
    if (/\/\/./.test(path)) fail("empty path segment");
    path = resolve(path);
  } else {
    const m = /^s3:\/\/([^/]*)(\/.*)?$/.exec(url);
    if (!m) return fail("unknown scheme");
    bucket = m[1]!;
    const problem = s3BucketProblem(bucket);
    if (problem) return fail(problem);
    path = (m[2] ?? "").replace(/\/+$/, "");
  }
  const segs = path === "" || path === "/" ? [] : path.split("/").slice(1);
  if (segs.some((p) => p === "")) fail("empty path segment");
  const bucketOf = (n: number): BucketUrl =>
    bucket === undefined
      ? { kind: "file", path: "/" + segs.slice(0, n).join("/") }
      : { kind: "s3", bucket, prefix: segs.slice(0, n).join("/") };
  return { segs, bucketOf };
}

/** The URL `parseBucketUrl` reads back as `b`. */
export function formatBucketUrl(b: BucketUrl): string {
  if (b.kind === "file") return pathToFileURL(b.path).href;
  return `s3://${b.bucket}${b.prefix ? `/${b.prefix}` : ""}`;
}

/**
 * `s3://bucket[/prefix]/<tenant>/<ULID>` or `file:///path/<tenant>/<ULID>`: the last segment
 * is the block's ULID, the one before it the tenant, the rest the bucket. A ULID right under
 * an s3 bucket (`s3://bucket/<ULID>`) is the root tenant's; elsewhere the root tenant is
 * spelled `__root__` (`s3://bucket/prefix/__root__/<ULID>`), which no key ever contains.
 * Everything else (a tenant that is no valid tenant, a ULID-shaped folder of ULID folders)
 * is refused by the bucket's key grammar (`parseBlockKey`). Throws `BucketUrlError`.
 */
export function parseBlockUrl(url: string): BlockUrl {
  const { segs, bucketOf } = splitUrl(url, BLOCK);
  const block = segs[segs.length - 1];
  if (block === undefined) throw new BucketUrlError(url, "no block ULID in the path", BLOCK);
  if (!isUlid(block)) throw new BucketUrlError(url, `last path segment ${quoteName(block)} is not a block ULID`, BLOCK);
  if (segs.length === 1) return withBucket(bucketOf(0), ROOT_TENANT, block);
  const name = segs[segs.length - 2]!;
  const bucket = bucketOf(segs.length - 2);
  if (name === ROOT_TENANT_NAME) return withBucket(bucket, ROOT_TENANT, block);
  const key = parseBlockKey(`${name}/${block}/${META_FILE}`, ROOT_TENANT);
  if ("reason" in key) throw new BucketUrlError(url, key.reason, BLOCK);
  return withBucket(bucket, name, block);
}

function withBucket(bucket: BucketUrl, tenant: string, block: string): BlockUrl {
  return { bucketUrl: formatBucketUrl(bucket), bucket, tenant, block };
}

/**
 * `s3://bucket[/prefix]/<tenant>` or `file:///path/<tenant>`: where new blocks of a tenant go.
 * The last segment is the tenant (`__root__` for the root tenant); `s3://bucket` alone is
 * its root tenant. Throws `BucketUrlError` for a name that is no valid tenant.
 */
export function parseTenantUrl(url: string): TenantUrl {
  const { segs, bucketOf } = splitUrl(url, TENANT);
  const bucket = bucketOf(Math.max(0, segs.length - 1));
  const name = segs[segs.length - 1];
  const tenant = name === undefined || name === ROOT_TENANT_NAME ? ROOT_TENANT : name;
  if (tenant !== ROOT_TENANT) {
    const problem = tenantProblem(tenant);
    if (problem) throw new BucketUrlError(url, problem, TENANT);
  }
  return { bucketUrl: formatBucketUrl(bucket), bucket, tenant };
}

/** The URL of a tenant in a bucket; `parseTenantUrl` reads it back. */
export function tenantUrl(bucketUrl: string, tenant: string): string {
  const base = bucketUrl.replace(/\/+$/, "");
  const file = base.startsWith("file:");
  if (tenant !== ROOT_TENANT) return `${base}/${file ? encodeURIComponent(tenant) : tenant}`;
  // Only an s3 bucket without a prefix reads a bare root; elsewhere a segment would be taken for a tenant.
  return /^s3:\/\/[^/]+$/.test(base) ? base : `${base}/${ROOT_TENANT_NAME}`;
}

/** The URL of a block in a bucket; `parseBlockUrl` reads it back. */
export function blockUrl(bucketUrl: string, tenant: string, block: string): string {
  return `${tenantUrl(bucketUrl, tenant)}/${block}`;
}

/** A block URL that names no block: no meta.json there (the tenant has other objects). */
export class BlockNotFoundError extends BucketError {
  override name = "BlockNotFoundError";
  readonly url: string;
  constructor(url: string, options?: ErrorOptions) {
    super(`no ${META_FILE} at ${url}`, options);
    this.url = url;
  }
}

/** A tenant the bucket does not have: no object at all under it (or, as `why` says, no block). */
export class UnknownTenantError extends BucketError {
  override name = "UnknownTenantError";
  readonly tenant: string;
  constructor(bucketUrl: string, tenant: string, options?: ErrorOptions & { why?: string }) {
    super(
      `unknown tenant ${quoteName(tenantName(tenant))} in ${bucketUrl} (${options?.why ?? "no objects under it"})`,
      options,
    );
    this.tenant = tenant;
  }
}

/** Whether the bucket holds any object under the tenant's prefix (for the root tenant: any object). */
export async function tenantExists(store: ObjectStore, tenant: string): Promise<boolean> {
  const page = await store.list(tenant === ROOT_TENANT ? "" : `${tenant}/`, { maxKeys: 1 });
  return page.objects.length > 0 || page.prefixes.length > 0;
}

/**
 * The key prefix of the block a URL names (`<tenant>/<ULID>/`, `<ULID>/` for the root tenant): what `StoreBlockSource`
 * reads.
 */
export function blockUrlPrefix(loc: BlockUrl): string {
  return `${loc.tenant === ROOT_TENANT ? "" : `${loc.tenant}/`}${loc.block}/`;
}

/**
 * Checks that the block a URL names is in `store` (the bucket `loc.bucketUrl` opened): its
 * meta.json is there, as a block is complete only once it is. Returns its key prefix, or
 * throws `UnknownTenantError` (nothing at all under the tenant) or `BlockNotFoundError`.
 */
export async function requireBlock(store: ObjectStore, loc: BlockUrl): Promise<string> {
  const prefix = blockUrlPrefix(loc);
  if (await store.head(prefix + META_FILE, { etag: false })) return prefix;
  if (loc.tenant !== ROOT_TENANT && !(await tenantExists(store, loc.tenant)))
    throw new UnknownTenantError(loc.bucketUrl, loc.tenant);
  throw new BlockNotFoundError(blockUrl(loc.bucketUrl, loc.tenant, loc.block));
}

/**
 * A block URL opened: its bucket's store (the caller closes it) and the block's key prefix,
 * checked by `requireBlock`. Throws `BucketUrlError` for a malformed URL; the store is closed
 * when the block is not there.
 */
export async function openBlockUrl(
  url: string,
  s3?: Omit<S3StoreOptions, "bucket" | "prefix">,
): Promise<BlockUrl & { store: ObjectStore; prefix: string }> {
  const loc = parseBlockUrl(url);
  const store = await openStore(loc.bucketUrl, s3);
  try {
    return { ...loc, store, prefix: await requireBlock(store, loc) };
  } catch (e) {
    await store.close?.();
    throw e;
  }
}
