/**
 * S3's timing on loopback, for measurement: a latency before each S3 answer and a bandwidth
 * per request, as real S3 behaves (~15–30 ms to the first byte, ~80–100 MB/s per connection,
 * many connections in parallel scaling). Without it the emulator answers in microseconds, and
 * a read path tuned on it says nothing about a Lambda's.
 */
import { Transform, type TransformCallback } from "node:stream";

export interface S3Shaping {
  /** Added before each S3 request is handled, so its first response byte comes this much later (0 = none). */
  latencyMs?: number;
  /** Each request body and each response body is paced to this many bytes per second, per request (absent = unpaced). */
  bandwidthBytesPerSecond?: number;
}

/** The shaping, checked: finite, non-negative, a positive bandwidth. Throws a RangeError naming the field. */
export function checkShaping(s: S3Shaping): S3Shaping {
  const { latencyMs, bandwidthBytesPerSecond } = s;
  if (latencyMs !== undefined && !(Number.isFinite(latencyMs) && latencyMs >= 0))
    throw new RangeError(`S3 shaping: latencyMs must be a non-negative number of milliseconds, got ${latencyMs}`);
  if (
    bandwidthBytesPerSecond !== undefined &&
    !(Number.isFinite(bandwidthBytesPerSecond) && bandwidthBytesPerSecond > 0)
  )
    throw new RangeError(
      `S3 shaping: bandwidthBytesPerSecond must be a positive number, got ${bandwidthBytesPerSecond}`,
    );
  return { ...s };
}

/** Slices at most this long leave a pacer at once: ~0.7 ms of a 90 MB/s stream. */
const SLICE = 64 << 10;

/**
 * Passes bytes through at `bytesPerSecond`: byte n leaves no earlier than n / rate after the
 * first one arrived. The schedule is cumulative (not per chunk), so timer slack never adds up,
 * and a slow reader downstream only delays it (backpressure is the stream's own).
 */
export class Pacer extends Transform {
  private readonly rate: number;
  private t0 = -1;
  private sent = 0;

  constructor(bytesPerSecond: number) {
    super();
    this.rate = bytesPerSecond / 1000;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.t0 < 0) this.t0 = performance.now();
    void this.pace(chunk).then(() => done(), done);
  }

  private async pace(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length; at += SLICE) {
      const slice = chunk.subarray(at, Math.min(chunk.length, at + SLICE));
      this.sent += slice.length;
      const wait = this.t0 + this.sent / this.rate - performance.now();
      if (wait >= 1) await sleep(wait);
      this.push(slice);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
