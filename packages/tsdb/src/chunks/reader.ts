import type { Chunk } from "../chunkenc/chunk.ts";
import { crc32c } from "../encoding/crc32c.ts";
import { hex32 } from "../encoding/decbuf.ts";
import { FormatError } from "../encoding/errors.ts";
import type { BlockSource, ByteSource } from "../encoding/source.ts";
import { compareStrings } from "../encoding/utf8.ts";
import {
  CHUNKS_FORMAT_V1,
  CHUNK_CRC_SIZE,
  MAGIC_CHUNKS,
  MAX_CHUNK_LENGTH_FIELD_SIZE,
  SEGMENT_HEADER_SIZE,
  parseSegmentFileName,
  segmentPath,
  type SegmentInfo,
} from "./format.ts";
import { chunkRecordEncodingAt } from "./record.ts";

export interface ChunkReaderOptions {
  /** Bytes fetched per read-ahead window (default 1 MiB). */
  windowSize?: number;
}

/** 1 MiB: as fast as bigger windows from a file, and a reader holds two of them. */
export const DEFAULT_WINDOW_SIZE = 1 << 20;
const TWO_32 = 4294967296;

/** A window buffer of `windowSize` bytes that can be refilled in place. */
interface WindowBuf {
  readonly buf: Uint8Array;
  /** A view into it was handed out since the last releaseViews(): it must not be overwritten. */
  pinned: boolean;
}

interface Segment {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly src: ByteSource;
  /** Absolute offset of win[0]. */
  winStart: number;
  /** The window's bytes: a view of `wb.buf`, or (sources without readInto) a fresh read. */
  win: Uint8Array | undefined;
  /** The reusable buffer behind `win`, when the source can fill one in place. */
  wb: WindowBuf | undefined;
  /** The next window, being read ahead while the current one is consumed (sequential walks). */
  ahead: Ahead | undefined;
}

/** A window read ahead: `n` bytes from `start` into `wb`, ready when `done` resolves. */
interface Ahead {
  readonly start: number;
  readonly n: number;
  readonly wb: WindowBuf;
  readonly done: Promise<void>;
}

/** Pinned buffers replaced in their segment and spare ones kept for reuse: a few, so memory stays bounded. */
const MAX_KEPT = 2;

/**
 * Random access to a block's chunk records by ref, over any BlockSource (local file,
 * memory, object store). Each segment keeps one read-ahead window: a miss reads
 * `windowSize` bytes starting at the requested record, so walking refs in increasing
 * order costs one source read per window and never loads a whole 512 MiB segment.
 * A record longer than the window is fetched by a read of its own. On a sequential walk
 * (windows above 64 KiB, sources with `readInto`) the next window is read ahead while
 * the current one is consumed, so the walk does not wait for the source.
 *
 * Fast paths: `tryChunk`/`tryRecord` answer synchronously when the window holds the
 * record (the common case), so a walk awaits only on refills; `record()` returns the whole
 * stored record, CRC verified, for a writer to copy as is (`ChunkWriter.write(c, record)`).
 *
 * Buffers and views: `chunk()` returns `data` as a view into a window buffer, which the
 * reader refills in place (via `ByteSource.readInto`) to avoid a fresh multi-MiB buffer per
 * window. A buffer it has handed a view out of is never overwritten until `releaseViews()`
 * is called; until then a refill takes another buffer. So a caller that never calls
 * `releaseViews()` keeps every view valid for as long as it holds it (at the cost of a
 * new window buffer per refill), and a sequential walk that releases once per series
 * (`BlockReader.series()`) cycles through two buffers (three with read-ahead) and makes
 * no garbage.
 *
 * Every length is checked against the segment size before anything is read or
 * allocated, and every record's CRC32C is verified, except where a caller copying records
 * as is opts out (`tryRecord(ref, false)`, `record(ref, false)`): a record that is only
 * copied carries its stored CRC into the output, where every later reader checks it, so
 * the caller verifies (`verifyRecord`) just the records it decodes.
 */
export class ChunkReader {
  /** Segment files in index order (ref segment index i = segments[i]). */
  readonly segments: readonly SegmentInfo[];
  private readonly segs: Segment[];
  private readonly windowSize: number;
  /** Capacity of a window buffer: the window size, or less when every segment is smaller. */
  private readonly bufSize: number;
  /** Pinned buffers no segment uses any more; they become spare on releaseViews(). */
  private readonly retired: WindowBuf[] = [];
  /** Unpinned buffers ready to be filled. */
  private readonly spare: WindowBuf[] = [];
  private closed = false;
  // Set by segmentOf/parseLength and read at once, before any await (no allocation per
  // record): the ref's offset in its segment; the record's start, encoding byte and data
  // end in the window it was located in (the CRC follows the data).
  private refOff = 0;
  private recAt = 0;
  private encAt = 0;
  private dataEnd = 0;

  private constructor(segs: Segment[], windowSize: number) {
    this.segs = segs;
    this.windowSize = windowSize;
    let largest = 0;
    for (const s of segs) largest = Math.max(largest, s.size);
    this.bufSize = Math.min(windowSize, largest);
    this.segments = segs.map((s) => ({ name: s.name, size: s.size }));
  }

  /**
   * Open every file under `chunks/` whose name is an unsigned decimal integer, in name
   * order (Go's os.ReadDir order), and check each segment's 8-byte header.
   */
  static async open(block: BlockSource, opts: ChunkReaderOptions = {}): Promise<ChunkReader> {
    const windowSize = opts.windowSize ?? DEFAULT_WINDOW_SIZE;
    if (!(Number.isInteger(windowSize) && windowSize >= 64))
      throw new RangeError(`window size ${windowSize} must be an integer ≥ 64`);
    const names = (await block.listChunkFiles())
      .filter((n) => parseSegmentFileName(n) !== undefined)
      .sort(compareStrings);
    const opened = await Promise.allSettled(names.map((n) => block.open(segmentPath(n))));
    const sources: ByteSource[] = [];
    let failure: unknown;
    for (const r of opened) {
      if (r.status === "fulfilled") sources.push(r.value);
      else failure ??= r.reason;
    }
    try {
      if (failure !== undefined) throw failure;
      const segs = names.map(
        (name, i): Segment => ({
          name,
          path: segmentPath(name),
          size: sources[i]!.size,
          src: sources[i]!,
          winStart: 0,
          win: undefined,
          wb: undefined,
          ahead: undefined,
        }),
      );
      await Promise.all(segs.map(checkHeader));
      return new ChunkReader(segs, windowSize);
    } catch (e) {
      await Promise.allSettled(sources.map((s) => s.close?.()));
      throw e;
    }
  }

  /**
   * The chunk at `ref`. `data` is a view into a read window (or a buffer of its own): it
   * stays valid until `releaseViews()` is called, and for as long as it is held when that
   * is never called. Copy it (`slice()`) to keep it past a release.
   */
  async chunk(ref: number): Promise<Chunk> {
    const c = this.tryChunk(ref);
    if (c !== undefined) return c;
    return (await this.load(ref, false)) as Chunk;
  }

  /**
   * `chunk(ref)` without waiting, when the segment's current window holds the whole record
   * (the common case of a walk in ref order); undefined when a read is due (then call
   * `chunk`). Same checks, errors and view rules as `chunk`.
   */
  tryChunk(ref: number): Chunk | undefined {
    const win = this.inWindow(ref);
    if (win === undefined) return undefined;
    return { encoding: win[this.encAt]!, data: win.subarray(this.encAt + 1, this.dataEnd) };
  }

  /**
   * The whole stored record at `ref` (`uvarint len | encoding | data | BE32 CRC32C`), its
   * CRC verified: what a writer copies as is (`ChunkWriter.write(chunk, record)`) to move a
   * chunk without recomputing its checksum. Same view rules as `chunk`.
   *
   * `verify = false` skips the CRC check (lengths are still checked): for a caller that
   * copies the record unchanged, so its stored CRC still guards it in the output. Such a
   * caller must call `verifyRecord` before it decodes the chunk.
   */
  async record(ref: number, verify = true): Promise<Uint8Array> {
    const r = this.tryRecord(ref, verify);
    if (r !== undefined) return r;
    return (await this.load(ref, true, verify)) as Uint8Array;
  }

  /** `record(ref, verify)` without waiting, or undefined when a read is due (see `tryChunk`). */
  tryRecord(ref: number, verify = true): Uint8Array | undefined {
    const win = this.inWindow(ref, verify);
    if (win === undefined) return undefined;
    return win.subarray(this.recAt, this.dataEnd + CHUNK_CRC_SIZE);
  }

  /**
   * Check the CRC of a record read with `verify = false` (as `record()` returned it, or a
   * copy); `ref` names it in the error. Throws the FormatError a verified read would have.
   */
  verifyRecord(ref: number, record: Uint8Array): void {
    const s = this.segmentOf(ref);
    const off = this.refOff;
    const encAt = chunkRecordEncodingAt(record);
    if (record.length < encAt + 1 + CHUNK_CRC_SIZE) {
      throw new FormatError("invalid-size", "chunk record shorter than its framing", {
        file: s.path,
        offset: off,
        found: `${record.length} bytes`,
      });
    }
    this.encAt = encAt;
    this.dataEnd = record.length - CHUNK_CRC_SIZE;
    this.verify(s, off, record, off);
  }

  /** The chunk a record (as `record()` returns it) holds: `data` is a view into the record. */
  static chunkOfRecord(record: Uint8Array): Chunk {
    const encAt = chunkRecordEncodingAt(record);
    return { encoding: record[encAt]!, data: record.subarray(encAt + 1, record.length - CHUNK_CRC_SIZE) };
  }

  /** Segment of a ref, checked; the offset inside it goes to `this.refOff`. */
  private segmentOf(ref: number): Segment {
    if (this.closed) throw new Error("ChunkReader: read after close");
    if (!(Number.isSafeInteger(ref) && ref >= 0)) {
      throw new FormatError("invalid-value", "chunk ref is not a non-negative integer", {
        file: "chunks",
        found: String(ref),
      });
    }
    const si = Math.floor(ref / TWO_32);
    const off = ref - si * TWO_32;
    if (si >= this.segs.length) {
      throw new FormatError("invalid-size", `chunk ref ${ref} points at segment index ${si}`, {
        file: "chunks",
        offset: off,
        expected: `index < ${this.segs.length}`,
      });
    }
    const s = this.segs[si]!;
    if (off < SEGMENT_HEADER_SIZE || off >= s.size) {
      throw new FormatError("invalid-size", "chunk offset outside the segment's records", {
        file: s.path,
        offset: off,
        expected: `${SEGMENT_HEADER_SIZE} ≤ offset < ${s.size}`,
      });
    }
    this.refOff = off;
    return s;
  }

  /** The synchronous path: the window holding the verified record at `ref` (positions set), or undefined. */
  private inWindow(ref: number, verify = true): Uint8Array | undefined {
    const s = this.segmentOf(ref);
    const off = this.refOff;
    const win = s.win;
    const base = s.winStart;
    if (win === undefined || off < base || Math.min(off + MAX_CHUNK_LENGTH_FIELD_SIZE, s.size) > base + win.length)
      return undefined;
    const end = this.parseLength(s, off, win, base);
    if (end > base + win.length) return undefined;
    if (verify) this.verify(s, off, win, base);
    if (s.wb !== undefined) s.wb.pinned = true;
    return win;
  }

  /**
   * The asynchronous path: refill the window (or read a record bigger than it), locate and
   * verify the record, and return it whole or as a chunk, before any other call can move
   * the positions.
   */
  private async load(ref: number, asRecord: boolean, verify = true): Promise<Chunk | Uint8Array> {
    const s = this.segmentOf(ref);
    const off = this.refOff;
    // The length prefix: make sure the window holds it (or the segment's last bytes).
    const lenEnd = Math.min(off + MAX_CHUNK_LENGTH_FIELD_SIZE, s.size);
    let win = s.win;
    let base = s.winStart;
    if (win === undefined || off < base || lenEnd > base + win.length) {
      // The window starts at `off`, or earlier when it was read ahead.
      ({ win, start: base } = await this.fill(s, off, true));
    }
    const end = this.parseLength(s, off, win, base);
    let fromWindow = true;
    if (end > base + win.length) {
      if (end - off <= this.windowSize) {
        // The record straddles the window's end, the usual way a sequential walk leaves a
        // window: the window read ahead repeats the old one's tail, so it holds the record
        // unless the record is longer than that overlap.
        ({ win, start: base } = await this.fill(s, off, true));
        if (end > base + win.length) ({ win, start: base } = await this.fill(s, off, false));
      } else {
        // Bigger than a window: its own read (a fresh buffer), leaving the window as it was.
        win = await s.src.read(off, end - off);
        base = off;
        fromWindow = false;
      }
      // Same bytes, new place: locate the record again in the window in hand.
      this.parseLength(s, off, win, base);
    }
    if (verify) this.verify(s, off, win, base);
    if (fromWindow && s.wb !== undefined) s.wb.pinned = true;
    return asRecord
      ? win.subarray(this.recAt, this.dataEnd + CHUNK_CRC_SIZE)
      : { encoding: win[this.encAt]!, data: win.subarray(this.encAt + 1, this.dataEnd) };
  }

  /**
   * Decode the length prefix of the record at `off` (win[0] is at `base` and holds at least
   * the prefix) and check the record fits the segment; sets recAt/encAt/dataEnd relative
   * to `win` and returns the record's absolute end.
   */
  private parseLength(s: Segment, off: number, win: Uint8Array, base: number): number {
    const p0 = off - base;
    let len = 0;
    let mul = 1;
    let p = p0;
    // Fast path: chunks under 16 KiB have a 1- or 2-byte length (same checks as the loop).
    const b0 = win[p0]!;
    const b1 = win[p0 + 1]!;
    if (b0 < 0x80 && off + 1 <= s.size) {
      len = b0;
      p = p0 + 1;
    } else if (b0 >= 0x80 && b1 < 0x80 && off + 2 <= s.size) {
      len = (b0 & 0x7f) | (b1 << 7);
      p = p0 + 2;
    } else
      for (let i = 0; ; i++) {
        if (off + i >= s.size) {
          throw new FormatError("invalid-size", "chunk length runs past the end of the segment", {
            file: s.path,
            offset: off,
          });
        }
        const byte = win[p0 + i]!;
        len += (byte & 0x7f) * mul;
        if (byte < 0x80) {
          p = p0 + i + 1;
          break;
        }
        if (i === MAX_CHUNK_LENGTH_FIELD_SIZE - 1) {
          throw new FormatError("invalid-value", "chunk length varint longer than 5 bytes", {
            file: s.path,
            offset: off,
          });
        }
        mul *= 128;
      }
    if (len > 0xffffffff) {
      throw new FormatError("invalid-value", "chunk length exceeds 32 bits", {
        file: s.path,
        offset: off,
        found: String(len),
      });
    }
    const end = off + (p - p0) + 1 + len + CHUNK_CRC_SIZE;
    if (end > s.size) {
      throw new FormatError("invalid-size", `chunk of ${len} bytes runs past the end of the segment`, {
        file: s.path,
        offset: off,
        expected: `record end ≤ ${s.size}`,
        found: String(end),
      });
    }
    this.recAt = p0;
    this.encAt = p;
    this.dataEnd = p + 1 + len;
    return end;
  }

  /** Check the CRC of the record located by parseLength in `win`. */
  private verify(s: Segment, off: number, win: Uint8Array, base: number): void {
    const encAt = this.encAt;
    const dataEnd = this.dataEnd;
    const stored =
      ((win[dataEnd]! << 24) | (win[dataEnd + 1]! << 16) | (win[dataEnd + 2]! << 8) | win[dataEnd + 3]!) >>> 0;
    const actual = crc32c(win, encAt, dataEnd);
    if (stored !== actual) {
      throw new FormatError("invalid-checksum", `chunk CRC32C mismatch (checksum at @${base + dataEnd})`, {
        file: s.path,
        offset: off,
        expected: `stored ${hex32(stored)}`,
        found: hex32(actual),
      });
    }
  }

  /**
   * Declare that no view returned by `chunk()` so far is in use any more, so their window
   * buffers may be refilled. Call only when no `chunk()` call is pending.
   */
  releaseViews(): void {
    for (const s of this.segs) if (s.wb !== undefined) s.wb.pinned = false;
    for (const wb of this.retired) {
      wb.pinned = false;
      if (this.spare.length < MAX_KEPT) this.spare.push(wb);
    }
    this.retired.length = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A read ahead still in flight must end before its file is closed.
    await Promise.all(this.segs.map((s) => s.ahead?.done.catch(() => {})));
    for (const s of this.segs) {
      s.win = undefined;
      s.wb = undefined;
      s.ahead = undefined;
    }
    this.retired.length = 0;
    this.spare.length = 0;
    await Promise.all(this.segs.map((s) => s.src.close?.()));
  }

  /**
   * Replace the segment's window with `windowSize` bytes from `off` (fewer at the end), or
   * (`mayUseAhead`) with the window read ahead when it holds `off`'s length prefix. After
   * a sequential step (the segment's first record, or an offset inside the old window) the
   * next window is read ahead, overlapping the old one's tail by READ_AHEAD_OVERLAP so the
   * record that straddled the boundary is in it: the walk then never waits for the source
   * while it has work. The window actually installed is `s.winStart`, `s.win`.
   */
  private async fill(s: Segment, off: number, mayUseAhead: boolean): Promise<{ win: Uint8Array; start: number }> {
    const sequential =
      off === SEGMENT_HEADER_SIZE || (s.win !== undefined && off >= s.winStart && off <= s.winStart + s.win.length);
    const n = Math.min(this.windowSize, s.size - off);
    s.win = undefined;
    if (s.src.readInto === undefined) {
      const win = await s.src.read(off, n);
      s.win = win;
      s.winStart = off;
      return { win, start: off };
    }
    let wb = s.wb;
    s.wb = undefined;
    if (wb?.pinned) {
      // Views into it may still be in use: set it aside until releaseViews().
      if (this.retired.length === MAX_KEPT) this.retired.shift();
      this.retired.push(wb);
      wb = undefined;
    }
    const a = s.ahead;
    s.ahead = undefined;
    let win: Uint8Array;
    if (
      a !== undefined &&
      mayUseAhead &&
      off >= a.start &&
      Math.min(off + MAX_CHUNK_LENGTH_FIELD_SIZE, s.size) <= a.start + a.n
    ) {
      if (wb !== undefined && this.spare.length < MAX_KEPT) this.spare.push(wb);
      await a.done;
      wb = a.wb;
      win = wb.buf.subarray(0, a.n);
      s.winStart = a.start;
    } else {
      if (a !== undefined) {
        // Read ahead for nothing: its buffer is free once the read is over.
        await a.done.catch(() => {});
        a.wb.pinned = false;
        if (this.spare.length < MAX_KEPT) this.spare.push(a.wb);
      }
      wb ??= this.spare.pop() ?? { buf: new Uint8Array(this.bufSize), pinned: false };
      // Pinned from now on, so that a concurrent chunk() call can never refill it under us.
      wb.pinned = true;
      win = wb.buf.subarray(0, n);
      await s.src.readInto(off, win);
      s.winStart = off;
    }
    s.wb = wb;
    s.win = win;
    if (sequential && s.ahead === undefined) this.readAhead(s);
    return { win, start: s.winStart };
  }

  /** Start reading the window after the current one (overlapping its tail) into a spare buffer. */
  private readAhead(s: Segment): void {
    const win = s.win!;
    const end = s.winStart + win.length;
    if (end >= s.size || win.length <= READ_AHEAD_OVERLAP) return;
    const start = end - READ_AHEAD_OVERLAP;
    const n = Math.min(this.windowSize, s.size - start);
    const wb = this.spare.pop() ?? { buf: new Uint8Array(this.bufSize), pinned: false };
    wb.pinned = true;
    const done = s.src.readInto!(start, wb.buf.subarray(0, n));
    done.catch(() => {}); // observed by the fill that uses or discards it, or by close()
    s.ahead = { start, n, wb, done };
  }
}

/**
 * Bytes a read-ahead window repeats from the end of the current one: records up to this size never need a read of their
 * own.
 */
const READ_AHEAD_OVERLAP = 64 * 1024;

async function checkHeader(s: Segment): Promise<void> {
  if (s.size < SEGMENT_HEADER_SIZE) {
    throw new FormatError("invalid-size", "segment shorter than its header", {
      file: s.path,
      offset: 0,
      expected: `≥ ${SEGMENT_HEADER_SIZE} bytes`,
      found: `${s.size} bytes`,
    });
  }
  const h = await s.src.read(0, SEGMENT_HEADER_SIZE);
  const magic = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  if (magic !== MAGIC_CHUNKS) {
    throw new FormatError("bad-magic", "not a chunk segment", {
      file: s.path,
      offset: 0,
      expected: hex32(MAGIC_CHUNKS),
      found: hex32(magic),
    });
  }
  if (h[4] !== CHUNKS_FORMAT_V1) {
    throw new FormatError("unsupported-version", "unknown chunk segment version", {
      file: s.path,
      offset: 4,
      expected: String(CHUNKS_FORMAT_V1),
      found: String(h[4]),
    });
  }
}
