// Bad input met in a bucket is the operator's to fix, not a bug: one line and exit 1, as a
// malformed block file is (main.ts reports FormatError so). Kept out of main.ts so the
// dispatcher never loads @strata/bucket: it is imported here only once an error happened.
import { UsageError } from "./command.ts";

const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH"]);

/**
 * The one line to print for an error that is bad input from a bucket, or undefined when it is
 * not one: the bucket's own errors (no such block, unknown tenant, no such object) and what
 * S3 answered (no such bucket, access denied, no credentials, an endpoint that cannot be reached).
 */
export async function bucketProblem(e: unknown): Promise<string | undefined> {
  if (!(e instanceof Error) || e instanceof UsageError) return undefined;
  const { BucketError } = await import("@strata/bucket");
  if (e instanceof BucketError) return e.message;
  // The AWS SDK's service errors carry $metadata; $fault "client" is a 4xx (the request, not S3, is wrong).
  const sdk = e as Error & { $fault?: string; $metadata?: unknown };
  if (sdk.$metadata !== undefined && sdk.$fault === "client") return `S3: ${e.name}: ${e.message}`;
  if (e.name === "CredentialsProviderError") return `S3: no credentials: ${e.message}`;
  // The endpoint cannot be reached (after the store's retries): the environment's to fix, not a bug.
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined && UNREACHABLE.has(code)) {
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || "the AWS S3 endpoint";
    return `S3: cannot reach ${endpoint}: ${e.message}`;
  }
  return undefined;
}

/** Writes the one line for a bucket problem (`bucketProblem`) and returns the exit code; undefined when `e` is not one. */
export async function reportBucketProblem(name: string, e: unknown): Promise<number | undefined> {
  const line = await bucketProblem(e);
  if (line === undefined) return undefined;
  process.stderr.write(`strata ${name}: ${line}\n`);
  // A malformed URL that reached here unconverted is still a usage error.
  return (e as Error).name === "BucketUrlError" ? 2 : 1;
}
