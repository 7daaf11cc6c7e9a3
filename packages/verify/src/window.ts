import type { ByteSource } from "@strata/tsdb";

/**
 * Sequential-friendly reads over a ByteSource: one read-ahead window, refilled when a
 * request falls outside it. Requests longer than the window get a read of their own.
 * Callers check offsets against the file size before asking, so nothing here allocates
 * from an unchecked length.
 */
export class Window {
  private readonly src: ByteSource;
  private readonly size: number;
  private readonly windowSize: number;
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;

  constructor(src: ByteSource, windowSize = 1 << 20) {
    this.src = src;
    this.size = src.size;
    this.windowSize = windowSize;
  }

  /**
   * Bytes [offset, offset + length) as `{ b, at }` where b[at] is the byte at `offset`.
   * The view is valid until the next call.
   */
  async get(offset: number, length: number): Promise<{ b: Uint8Array; at: number }> {
    if (offset >= this.start && offset + length <= this.start + this.buf.length) return { b: this.buf, at: offset - this.start };
    if (length > this.windowSize) return { b: await this.src.read(offset, length), at: 0 };
    const n = Math.min(this.size - offset, this.windowSize);
    this.buf = await this.src.read(offset, Math.max(n, length));
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
