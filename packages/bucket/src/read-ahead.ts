/**
 * Sequential-read detection for `StoreByteSource`, and the sizes of its read-ahead.
 *
 * Over S3 a GET costs ~15–30 ms before its first byte and one connection carries ~90 MB/s, so
 * a reader walking a file window by window waits for every window unless several large GETs
 * run ahead of it at once (AWS' guidance: concurrent ranged GETs of 8–16 MiB). The tsdb
 * readers already walk chunk segments and the index's series section front to back; this
 * notices such a walk from the offsets alone (a read starting where an earlier one ended,
 * give or take the chunk reader's 64 KiB overlap) and says how far ahead to fetch.
 */

/** The first read-ahead GET of a stream; each next one doubles, up to `MAX_RANGE` (a short walk wastes little). */
export const FIRST_RANGE = 1 << 20;
/** The largest read-ahead GET: 8 MiB, the low end of AWS' 8–16 MiB (a stream starts sooner, waste is smaller). */
export const MAX_RANGE = 8 << 20;
/** At most this much is fetched ahead of one stream: ~4 GETs of 8 MiB in flight, ~350 MB/s at 90 MB/s each. */
export const MAX_AHEAD = 32 << 20;
/** A read continuing a walk may skip this much past where the walk stopped (the index's 16-byte series alignment). */
const SKIP = 64;
/** Streams tracked per object: a series walk and a few random readers of one index file, say. */
const TRACKED = 4;

/** One sequential walk over an object. */
export interface Stream {
  /** Where its last read ended. */
  pos: number;
  /** Length of its last read: a continuing read may start that far back (the chunk reader's 64 KiB overlap). */
  last: number;
  /** Sequential reads seen in a row; read-ahead starts at the second. */
  run: number;
  /** Read-ahead was issued up to here (exclusive). */
  aheadTo: number;
  /** Size of its next read-ahead GET (doubles from FIRST_RANGE to MAX_RANGE). */
  range: number;
  /** Counted in the job's active streams (its fair share of the read-ahead budget). */
  active: boolean;
}

/** The streams of one object, least recently used first. */
export class StreamTracker {
  private readonly streams: Stream[] = [];
  private readonly onActive: (delta: 1 | -1) => void;

  /** `onActive(+1 | -1)`: a stream started or stopped reading ahead (the job counts them to share its budget). */
  constructor(onActive: (delta: 1 | -1) => void) {
    this.onActive = onActive;
  }

  /**
   * Record a read of [offset, end): the stream it continues (now reading ahead, its second
   * read in a row or later), or undefined for a read that starts or is not part of a walk.
   */
  observe(offset: number, end: number): Stream | undefined {
    // Continuing: it goes past where the walk stopped, starting no further back than the walk's last read.
    const i = this.streams.findIndex((s) => end > s.pos && offset <= s.pos + SKIP && offset >= s.pos - s.last);
    if (i < 0) {
      if (this.streams.length === TRACKED) this.stop(this.streams.shift()!);
      this.streams.push({ pos: end, last: end - offset, run: 1, aheadTo: end, range: FIRST_RANGE, active: false });
      return undefined;
    }
    const s = this.streams[i]!;
    this.streams.splice(i, 1);
    this.streams.push(s);
    s.pos = end;
    s.last = end - offset;
    s.run++;
    if (!s.active) {
      s.active = true;
      s.aheadTo = Math.max(s.aheadTo, s.pos);
      this.onActive(1);
    }
    return s;
  }

  /** A stream that reached the object's end stops counting against the budget. */
  finished(s: Stream): void {
    const i = this.streams.indexOf(s);
    if (i >= 0) this.streams.splice(i, 1);
    this.stop(s);
  }

  /** Forget every stream (the object is closed). */
  clear(): void {
    for (const s of this.streams.splice(0)) this.stop(s);
  }

  private stop(s: Stream): void {
    if (!s.active) return;
    s.active = false;
    this.onActive(-1);
  }
}
