import { ByteBuf } from "./bytes.ts";

/**
 * Where a column chunk's laid-out pages wait until their row group is written (column chunks
 * must be contiguous in the file, so a row group's columns are all held until its end).
 */
export interface ChunkBuffer {
  append(b: Uint8Array): void;
  readonly size: number;
  /** Hands the bytes over in order, in pieces; the buffer is empty afterwards. */
  drainTo(write: (b: Uint8Array) => Promise<void>): Promise<void>;
  dispose(): void;
}

export type ChunkBufferFactory = () => ChunkBuffer;

/** In memory (the default): a row group costs its compressed size. */
export class MemoryChunkBuffer implements ChunkBuffer {
  private buf = new ByteBuf(64 * 1024);
  append(b: Uint8Array): void {
    this.buf.bytes(b);
  }
  get size(): number {
    return this.buf.len;
  }
  async drainTo(write: (b: Uint8Array) => Promise<void>): Promise<void> {
    if (this.buf.len > 0) await write(this.buf.view());
    this.buf.reset();
  }
  dispose(): void {
    this.buf = new ByteBuf(16);
  }
}
