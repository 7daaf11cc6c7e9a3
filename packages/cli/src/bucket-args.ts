// Subpath imports keep the AWS SDK out of the CLI's start-up (openStore loads it for s3:// only).
import { BucketUrlError, openStore } from "@strata/bucket";
import type { ObjectStore } from "@strata/bucket";
import { UsageError } from "./command.ts";

/** Open the bucket URL named on the command line; a malformed URL is a usage error. */
export async function openBucketArg(url: string): Promise<ObjectStore> {
  try {
    return await openStore(url);
  } catch (e) {
    if (e instanceof BucketUrlError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}
