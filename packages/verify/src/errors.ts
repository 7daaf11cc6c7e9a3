/**
 * The base of the errors @strata/verify throws for its own reasons (a block repair will not
 * touch). What it finds wrong in a block's bytes is tsdb's FormatError (RefError is one), so
 * that every format finding is reported the same way, whichever layer met it.
 */
export class VerifyError extends Error {
  override name = "VerifyError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
