/**
 * The object store port: the few operations Strata needs from S3 (or a directory that
 * behaves like it). Conditional writes are part of the contract, not an optimisation:
 * the bucket index and the job leases are only safe because `ifNoneMatch: "*"` and
 * `ifMatch` are enforced atomically by the store.
 */
import { compareStrings, type ByteSink, type ByteSource } from "@strata/tsdb";
import { BucketError } from "./errors.ts";

export interface ObjectInfo {
  key: string;
  size: number;
  /** Modification time, as the store reports it (S3: second precision). */
  lastModified: Date;
  /** Present on head/get; listings may omit it. */
  etag?: string;
}

export interface GetResult extends ObjectInfo {
  /**
   * The object's ETag. For a ranged read the filesystem store gives it only when already
   * known ("" otherwise) rather than hash a whole segment file to answer a small read.
   */
  etag: string;
  /** The whole object, or the requested range. */
  body: Uint8Array;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface PutOptions {
  /** Create only: fails with PreconditionFailedError when the key exists. */
  ifNoneMatch?: "*";
  /**
   * Compare-and-swap: fails with PreconditionFailedError unless the current ETag is this one (absent counts as a
   * mismatch).
   */
  ifMatch?: string;
  contentType?: string;
}

export interface UploadOptions {
  ifNoneMatch?: "*";
  /** Multipart part size in bytes (S3 minimum 5 MiB). */
  partSize?: number;
  contentType?: string;
}

export interface ListOptions {
  /** "/" lists one level: deeper keys are folded into `prefixes`. */
  delimiter?: "/";
  /** Opaque token from a previous page. */
  token?: string;
  /** Page size (default and maximum 1000). */
  maxKeys?: number;
}

export interface ListPage {
  /** Objects in UTF-8 byte order of their keys. */
  objects: ObjectInfo[];
  /** Common prefixes (each ending in the delimiter), when a delimiter was given. */
  prefixes: string[];
  /** Set when there are more results. */
  next?: string;
}

/**
 * A conditional write or delete lost: the value callers branch on (not thrown by the
 * stores), so that compare-and-swap loops read as plain control flow.
 */
export class PreconditionFailedError extends BucketError {
  // The name it had before the rename, which is also S3's error code: tests match on it.
  override name = "PreconditionFailed";
  readonly key: string;
  readonly condition: string;
  /** S3 409 ConditionalRequestConflict: a concurrent conditional operation; retry after re-reading. */
  readonly conflict: boolean;
  constructor(key: string, condition: string, conflict = false, options?: ErrorOptions) {
    super(`${key}: precondition failed (${condition})${conflict ? " [409 conflict]" : ""}`, options);
    this.key = key;
    this.condition = condition;
    this.conflict = conflict;
  }
}

/** Thrown by `mustGet` and by sources opened on missing objects. */
export class ObjectNotFoundError extends BucketError {
  override name = "ObjectNotFoundError";
  readonly key: string;
  constructor(key: string, where = "", options?: ErrorOptions) {
    super(`${where}${key}: no such object`, options);
    this.key = key;
  }
}

export interface ObjectStore {
  /** A human name for errors: the bucket URL. */
  readonly url: string;
  /** The whole object or a byte range; undefined when absent. A range outside the object is a RangeError. */
  get(key: string, range?: ByteRange): Promise<GetResult | undefined>;
  /**
   * Optional: a byte range copied straight into `into`, in order (their lengths sum to
   * `range.length`), without a buffer of the whole range first; false when the object is
   * absent, a RangeError outside it. The page cache fills its pages with it (S3Store has it).
   */
  getInto?(key: string, range: ByteRange, into: readonly Uint8Array[]): Promise<boolean>;
  /**
   * Optional: `getCapped` in one request (S3Store: a ranged GET); without it the helper of the
   * same name makes a HEAD and a GET.
   */
  getCapped?(key: string, maxBytes: number): Promise<(GetResult & { truncated: boolean }) | undefined>;
  /** Size, time and ETag; with `{ etag: false }` a store may skip computing the ETag (filesystem) and give "". */
  head(key: string, opts?: { etag?: boolean }): Promise<(ObjectInfo & { etag: string }) | undefined>;
  /** Small objects in one request. Resolves to the new ETag, or PreconditionFailedError. */
  put(key: string, body: Uint8Array | string, opts?: PutOptions): Promise<string | PreconditionFailedError>;
  /**
   * A streaming writer for large objects (S3: multipart upload). The object appears,
   * whole, when `close()` resolves; `abort()` leaves nothing behind. `close()` rejects with
   * PreconditionFailedError when `ifNoneMatch` was given and the key appeared meanwhile.
   */
  createWriter(key: string, opts?: UploadOptions): Promise<ObjectWriter>;
  list(prefix: string, opts?: ListOptions): Promise<ListPage>;
  /** Deleting an absent key is not an error, unless `ifMatch` is given. */
  delete(key: string, opts?: { ifMatch?: string }): Promise<void | PreconditionFailedError>;
  close?(): Promise<void>;
}

export interface ObjectWriter extends ByteSink {
  /** Resolves once the object is stored, to its ETag. */
  readonly done: Promise<string>;
}

/** Every object under a prefix, across pages. */
export async function* listAll(
  store: ObjectStore,
  prefix: string,
  opts: Omit<ListOptions, "token"> = {},
): AsyncGenerator<ObjectInfo> {
  let token: string | undefined;
  do {
    const page = await store.list(prefix, { ...opts, token });
    yield* page.objects;
    token = page.next;
  } while (token !== undefined);
}

/** Common prefixes one level below `prefix` (delimiter "/"), across pages. */
export async function listPrefixes(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await store.list(prefix, { delimiter: "/", token });
    out.push(...page.prefixes);
    token = page.next;
  } while (token !== undefined);
  return out;
}

/** get(), with a clear error when the object is missing. */
export async function mustGet(store: ObjectStore, key: string, range?: ByteRange): Promise<GetResult> {
  const r = await store.get(key, range);
  if (!r) throw new ObjectNotFoundError(key, `${store.url}/`);
  return r;
}

/**
 * An object anyone may have written, read with a cap: its size from a HEAD, then the whole
 * object (with its ETag, as `get`) when within `maxBytes`, or only its first `maxBytes` + 1
 * bytes (a ranged GET) when larger, so a huge object costs a bounded buffer. `truncated`: the
 * object is larger than `maxBytes` (`size` is its real size, `body` only its start).
 * Undefined when absent.
 */
export async function getCapped(
  store: ObjectStore,
  key: string,
  maxBytes: number,
): Promise<(GetResult & { truncated: boolean }) | undefined> {
  if (store.getCapped) return store.getCapped(key, maxBytes);
  const h = await store.head(key, { etag: false });
  if (!h) return undefined;
  // An object replaced between the two calls is read as it is then: a larger one only by a
  // writer racing this very read, a shorter one a RangeError (a failed read, retried).
  const r = h.size <= maxBytes ? await store.get(key) : await store.get(key, { offset: 0, length: maxBytes + 1 });
  if (!r) return undefined;
  return { ...r, truncated: r.size > maxBytes };
}

/** Upload a ByteSource (a local file, a buffer) through a streaming writer, `partSize` bytes at a time. */
export async function uploadFrom(
  store: ObjectStore,
  key: string,
  src: ByteSource,
  opts: UploadOptions = {},
): Promise<string> {
  const w = await store.createWriter(key, opts);
  const step = opts.partSize ?? 8 << 20;
  try {
    for (let off = 0; off < src.size; off += step) {
      await w.write(await src.read(off, Math.min(step, src.size - off)));
    }
  } catch (e) {
    await w.abort?.();
    throw e;
  }
  await w.close();
  return w.done;
}

/** ETags compare without quotes or a weak prefix. */
export function normalizeEtag(etag: string): string {
  let e = etag.trim();
  if (e.startsWith("W/")) e = e.slice(2);
  if (e.length >= 2 && e.startsWith('"') && e.endsWith('"')) e = e.slice(1, -1);
  return e;
}

/** Byte order of UTF-8 keys, as S3 lists them. */
export const compareKeys = compareStrings;
