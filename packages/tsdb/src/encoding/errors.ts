/**
 * One error type for every malformed byte the format layers meet, and the only error class
 * of @strata/tsdb (its base). `code` is stable (callers and the verifier switch on it);
 * `offset` is the absolute byte offset in `file` where the problem was seen, when known;
 * `options.cause` keeps the error it was made from.
 */
export type FormatErrorCode =
  | "invalid-size" // a length or offset points outside the data
  | "invalid-checksum"
  | "bad-magic"
  | "unsupported-version"
  | "out-of-order" // ordering invariant broken (symbols, series, chunks, postings)
  | "invalid-value" // a field holds a value the format forbids
  | "unknown-encoding";

export interface FormatErrorDetails {
  file?: string;
  offset?: number;
  expected?: string;
  found?: string;
}

export class FormatError extends Error {
  override name = "FormatError";
  readonly code: FormatErrorCode;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly expected: string | undefined;
  readonly found: string | undefined;
  /** The message without the file/offset prefix. */
  readonly detail: string;

  constructor(code: FormatErrorCode, message: string, details: FormatErrorDetails = {}, options?: ErrorOptions) {
    super(formatMessage(message, details), options);
    this.code = code;
    this.detail = message;
    this.file = details.file;
    this.offset = details.offset;
    this.expected = details.expected;
    this.found = details.found;
  }

  /** Same error, attributed to a file (readers deep in a layer rarely know it). */
  inFile(file: string): FormatError {
    if (this.file !== undefined) return this;
    const e = new FormatError(
      this.code,
      this.detail,
      { file, offset: this.offset, expected: this.expected, found: this.found },
      this.cause === undefined ? undefined : { cause: this.cause },
    );
    e.stack = this.stack;
    return e;
  }
}

function formatMessage(message: string, d: FormatErrorDetails): string {
  let where = "";
  if (d.file !== undefined) where += d.file;
  if (d.offset !== undefined) where += `${where ? " " : ""}@${d.offset}`;
  let s = where ? `${where}: ${message}` : message;
  if (d.expected !== undefined) s += ` (expected ${d.expected}`;
  if (d.found !== undefined) s += `${d.expected !== undefined ? ", " : " ("}found ${d.found}`;
  if (d.expected !== undefined || d.found !== undefined) s += ")";
  return s;
}
