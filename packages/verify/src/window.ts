import type { ByteSource } from "@strata/tsdb";

const EMPTY = new Uint8Array(0);

/**
 * Sequential-friendly reads over a ByteSource: one read-ahead window, refilled when a
 * request falls outside it. The window is one buffer refilled in place when the source
 * has `readInto` (a scan then makes no garbage however big the file); requests longer
 * than the window get a read of their own. Callers check offsets against the file size
 * before asking, so nothing here allocates from an unchecked length.
 */
export class Window {
  private readonly src: ByteSource;
  private readonly size: number;
  private readonly windowSize: number;
  /** The reusable buffer (allocated on first use), undefined for sources without readInto. */
  private store: Uint8Array | undefined;
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;

  constructor(src: ByteSource, windowSize = 1 << 20) {
    this.src = src;
    this.size = src.size;
    this.windowSize = windowSize;
  }

  /**
   * Bytes [offset, offset + length) as `{ b, at }` where b[at] is the byte at `offset`.
   * The view is valid until the next call (the window is refilled in place).
   */
  async get(offset: number, length: number): Promise<{ b: Uint8Array; at: number }> {
    if (offset >= this.start && offset + length <= this.start + this.buf.length)
      return { b: this.buf, at: offset - this.start };
    if (length > this.windowSize) return { b: await this.src.read(offset, length), at: 0 };
    const n = Math.max(Math.min(this.size - offset, this.windowSize), length);
    this.buf = EMPTY; // nothing half-refilled is served if the read fails
    this.buf = await fillWindow(
      this.src,
      offset,
      n,
      this.store ?? (this.store = newStore(this.src, this.size, this.windowSize)),
    );
    this.start = offset;
    return { b: this.buf, at: 0 };
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  async upTo(offset: number, length: number): Promise<{ b: Uint8Array; at: number; n: number }> {
    const n = Math.min(length, this.size - offset);
    const r = await this.get(offset, n);
    return { ...r, n };
  }
}

/** A window buffer for `src`: as big as a window or the file, whichever is smaller; none without readInto. */
export function newStore(src: ByteSource, fileSize: number, windowSize: number): Uint8Array | undefined {
  return src.readInto === undefined ? undefined : new Uint8Array(Math.max(0, Math.min(windowSize, fileSize)));
}

/** `n` bytes from `offset`: into `store` (refilled in place) when it can hold them, else a fresh read. */
export async function fillWindow(
  src: ByteSource,
  offset: number,
  n: number,
  store: Uint8Array | undefined,
): Promise<Uint8Array> {
  if (store === undefined || n > store.length || src.readInto === undefined) return src.read(offset, n);
  const dst = store.subarray(0, n);
  await src.readInto(offset, dst);
  return dst;
}
