/** Bucket URLs: `file:///abs/path` (a directory bucket) and `s3://bucket[/prefix]`. */
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { BucketError } from "./errors.ts";
import type { ObjectStore } from "./store.ts";
import { FsStore } from "./fs/fs-store.ts";
import type { S3StoreOptions } from "./s3/s3-store.ts";

export type BucketUrl = { kind: "file"; path: string } | { kind: "s3"; bucket: string; prefix: string };

export class BucketUrlError extends BucketError {
  override name = "BucketUrlError";
  constructor(url: string, why: string, options?: ErrorOptions) {
    super(`invalid bucket URL ${JSON.stringify(url)}: ${why} (expected file:///path or s3://bucket[/prefix])`, options);
  }
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
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
      throw new BucketUrlError(url, `${JSON.stringify(bucket)} is not a valid S3 bucket name`);
    const prefix = (m[2] ?? "").replace(/\/+$/, "");
    if (prefix.split("/").some((p) => p === "" && prefix !== ""))
      throw new BucketUrlError(url, "empty path segment in the prefix");
    return { kind: "s3", bucket, prefix };
  }
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
