import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { ChunkBuffer, ChunkBufferFactory } from "./chunk-buffer.ts";

const PIECE = 1 << 20;

/** A column chunk's pages in a scratch file (what Cortex's file buffer pool does): memory stays one page. */
class FileChunkBuffer implements ChunkBuffer {
  private readonly path: string;
  private fd: number;
  private len = 0;
  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, "w+");
  }
  append(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done, this.len + done);
    this.len += b.length;
  }
  get size(): number {
    return this.len;
  }
  async drainTo(write: (b: Uint8Array) => Promise<void>): Promise<void> {
    for (let off = 0; off < this.len; ) {
      const piece = new Uint8Array(Math.min(PIECE, this.len - off));
      let got = 0;
      while (got < piece.length) {
        const n = readSync(this.fd, piece, got, piece.length - got, off + got);
        if (n === 0) throw new Error(`${this.path}: scratch file ended at ${off + got} of ${this.len}`);
        got += n;
      }
      await write(piece);
      off += piece.length;
    }
    this.len = 0;
  }
  dispose(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.path, { force: true });
  }
}

/** Scratch files under a new folder of `dir`; `cleanup` removes the folder. */
export function spillBuffers(dir: string): { factory: ChunkBufferFactory; cleanup(): void } {
  const root = mkdtempSync(join(dir, "strata-parquet-"));
  let n = 0;
  return {
    factory: () => new FileChunkBuffer(join(root, `${n++}.pages`)),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
