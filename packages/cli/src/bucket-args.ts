// Subpath imports keep the AWS SDK out of the CLI's start-up (openStore loads it for s3:// only).
import { stat } from "node:fs/promises";
import { BucketUrlError, openStore, parseBucketUrl } from "@strata/bucket";
import type { ObjectStore } from "@strata/bucket";
import { UsageError } from "./command.ts";

/**
 * Open the bucket URL named on the command line; a malformed URL is a usage error. A file://
 * bucket must be an existing directory (a mistyped path would otherwise read as an empty
 * bucket), unless the command creates it (`create`: upload).
 */
export async function openBucketArg(url: string, opts: { create?: boolean } = {}): Promise<ObjectStore> {
  let store: ObjectStore;
  try {
    store = await openStore(url);
  } catch (e) {
    if (e instanceof BucketUrlError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
  const u = parseBucketUrl(url);
  if (u.kind === "file" && !opts.create && !(await stat(u.path).catch(() => undefined))?.isDirectory())
    throw Object.assign(new Error(`${url}: no such directory (a file:// bucket is a directory)`), { code: "ENOENT" });
  return store;
}
