/**
 * The base of every error @strata/bucket throws or returns (a bad bucket URL, a missing
 * object, a lost condition or lease, an unreadable or contended bucket index), so that
 * `instanceof BucketError` tells them from the AWS SDK's and Node's. Subclasses set a stable
 * `name`; `options.cause` keeps the error they were made from.
 */
export class BucketError extends Error {
  override name = "BucketError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
