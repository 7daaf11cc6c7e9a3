/**
 * The random-access port every reader works through: read N bytes at an offset. A local
 * file, an in-memory buffer and (in the bucket package) an S3 object by ranged GETs all
 * implement it, so the format code never knows where bytes live.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes from `offset`; rejects if the range is outside [0, size).
   * The result may be a view into a shared buffer: copy it to keep it past the next read.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: fill all of `dst` with the bytes from `offset` (same range rules as `read`).
   * Lets a reader refill one buffer it owns instead of receiving a fresh one per read, so a
   * sequential scan makes no garbage; readers fall back to `read` when it is absent.
   */
  readInto?(offset: number, dst: Uint8Array): Promise<void>;
  close?(): Promise<void>;
}

/** A sink for a file being written sequentially. `write` may keep no reference to its argument after resolving. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Abandon the file (best effort). */
  abort?(): Promise<void>;
}

/** Where a block's files are read from: names relative to the block directory. */
export interface BlockSource {
  /** A human name for errors (a path or a URL). */
  readonly name: string;
  open(relPath: string): Promise<ByteSource>;
  /** Undefined when the file does not exist. */
  tryOpen(relPath: string): Promise<ByteSource | undefined>;
  /** File names (not paths) directly under `chunks/`. */
  listChunkFiles(): Promise<string[]>;
}

/** Where a new block's files are written. */
export interface BlockSink {
  create(relPath: string): Promise<ByteSink>;
}

export class MemorySource implements ByteSource {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.bytes.length);
    return this.bytes.subarray(offset, offset + length);
  }
  async readInto(offset: number, dst: Uint8Array): Promise<void> {
    checkRange(offset, dst.length, this.bytes.length);
    dst.set(this.bytes.subarray(offset, offset + dst.length));
  }
}

export function checkRange(offset: number, length: number, size: number): void {
  if (!(offset >= 0 && length >= 0 && offset + length <= size)) {
    throw new RangeError(`read [${offset}, ${offset + length}) outside object of ${size} bytes`);
  }
}

/**
 * `length` bytes from `offset`: filled into the caller's `buf` (a view of it is returned,
 * valid until `buf` is filled again) when the source has `readInto` and `buf` is big
 * enough, otherwise whatever `read` returns.
 */
export async function readReusing(
  src: ByteSource,
  offset: number,
  length: number,
  buf: Uint8Array | undefined,
): Promise<Uint8Array> {
  if (src.readInto === undefined || buf === undefined || buf.length < length) return src.read(offset, length);
  const dst = buf.subarray(0, length);
  await src.readInto(offset, dst);
  return dst;
}

/** Read a whole (small) source into memory. */
export async function readAll(src: ByteSource): Promise<Uint8Array> {
  return src.read(0, src.size);
}
