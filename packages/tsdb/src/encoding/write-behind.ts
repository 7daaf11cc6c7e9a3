/**
 * Write-behind for a writer that fills fixed-size buffers: a filled buffer goes to the sink
 * while the writer fills another, with up to `depth` buffers handed over and not yet
 * written. Sink writes stay strictly one at a time and in order (an S3 multipart upload
 * needs that); only the writer stops waiting for each.
 *
 * Why more than two buffers: once a block's output outgrows the kernel's dirty-page
 * allowance, a write(2) is paused by the page cache's throttling for up to ~200 ms at a
 * time. With one buffer in flight the merge stalls for each pause; a few more let it go on
 * reading and merging meanwhile, so the job takes max(CPU, disk) instead of their sum.
 * The queue starts at one buffer and grows only after long waits: extra buffers cost cache
 * misses and allocation where writes are fast. Memory: at most `depth` + 1 buffers.
 */
import type { ByteSink } from "./source.ts";

/** Buffers handed over and not yet written, by default (with 1 MiB buffers: 8 MiB). */
export const DEFAULT_WRITE_BEHIND = 8;

/** A wait for the sink at least this long reads as throttling: the queue may then grow. */
const STALL_MS = 10;

export class WriteBehind {
  private readonly sink: ByteSink;
  private readonly bufSize: number;
  private readonly depth: number;
  /** Written buffers, free to fill again (each `bufSize` bytes). */
  private readonly spare: Uint8Array[] = [];
  /** The last write handed over; each write starts when the one before it is done. */
  private tail: Promise<void> = Promise.resolve();
  /** Buffers of `bufSize` in use: the one being filled, those queued and the spare ones. */
  private owned = 1;
  /**
   * Buffers allowed in the queue now: 1 (plain double buffering) until a wait for the sink
   * is long enough to be throttling (STALL_MS), then doubled up to `depth` at each such
   * wait. Writes into the page cache never wait that long, so they keep two warm buffers.
   */
  private allowed = 1;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  /** `bufSize`: the size of the buffers the writer fills; `depth`: buffers queued at most. */
  constructor(sink: ByteSink, bufSize: number, depth = DEFAULT_WRITE_BEHIND) {
    this.sink = sink;
    this.bufSize = bufSize;
    this.depth = Math.max(1, Math.floor(depth));
  }

  /**
   * Wait until a buffer can be handed over (fewer than `depth` queued); rethrows a failed
   * write. Then call `swap` at once, without awaiting anything in between.
   */
  async ready(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      if (this.spare.length > 0 || this.owned <= this.allowed) return;
      const t0 = performance.now();
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = undefined;
      if (performance.now() - t0 >= STALL_MS) this.allowed = Math.min(this.depth, 2 * this.allowed);
    }
  }

  /**
   * Queue `buf[0, len)` for writing and return the buffer to fill next (after `ready()`).
   * `buf` belongs to the queue from now on. After a failed write nothing more is written.
   */
  swap(buf: Uint8Array, len: number): Uint8Array {
    const bytes = buf.subarray(0, len);
    // A buffer grown past the standard size (for one huge entry) is left to the collector.
    const reuse = buf.length === this.bufSize;
    if (!reuse) this.owned--;
    const written = this.tail.then(() => this.sink.write(bytes));
    this.tail = written.then(
      () => {
        if (reuse) this.spare.push(buf);
        this.wake?.();
      },
      (error: unknown) => {
        this.failure ??= { error };
        this.wake?.();
        throw error;
      },
    );
    this.tail.catch(() => {}); // observed by ready() or settle()
    const b = this.spare.pop();
    if (b !== undefined) return b;
    this.owned++;
    return new Uint8Array(this.bufSize);
  }

  /** Wait until everything handed over is written; rethrows a failed write. */
  async settle(): Promise<void> {
    await this.tail;
    if (this.failure) throw this.failure.error;
  }
}
