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
}

/** Pinned buffers replaced in their segment and spare ones kept for reuse: a few, so memory stays bounded. */
const MAX_KEPT = 2;

/**
 * Random access to a block's chunk records by ref, over any BlockSource (local file,
 * memory, object store). Each segment keeps one read-ahead window: a miss reads
 * `windowSize` bytes starting at the requested record, so walking refs in increasing
 * order costs one source read per window and never loads a whole 512 MiB segment.
 * A record longer than the window is fetched by a read of its own.
 *
 * Buffers and views: `chunk()` returns `data` as a view into a window buffer, which the
 * reader refills in place (via `ByteSource.readInto`) to avoid a fresh multi-MiB buffer per
 * window. A buffer it has handed a view out of is never overwritten until `releaseViews()`
 * is called; until then a refill takes another buffer. So a caller that never calls
 * `releaseViews()` keeps every view valid for as long as it holds it (at the cost of a
 * new window buffer per refill), and a sequential walk that releases once per series
 * (`BlockReader.series()`) cycles through two buffers and makes no garbage.
 *
 * Every length is checked against the segment size before anything is read or
 * allocated, and every record's CRC32C is verified.
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
    if (!(Number.isInteger(windowSize) && windowSize >= 64)) throw new RangeError(`window size ${windowSize} must be an integer ≥ 64`);
    const names = (await block.listChunkFiles()).filter((n) => parseSegmentFileName(n) !== undefined).sort(compareStrings);
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
        (name, i): Segment => ({ name, path: segmentPath(name), size: sources[i].size, src: sources[i], winStart: 0, win: undefined, wb: undefined }),
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
    if (this.closed) throw new Error("ChunkReader: read after close");
    if (!(Number.isSafeInteger(ref) && ref >= 0)) {
      throw new FormatError("invalid-value", "chunk ref is not a non-negative integer", { file: "chunks", found: String(ref) });
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
    const s = this.segs[si];
    if (off < SEGMENT_HEADER_SIZE || off >= s.size) {
      throw new FormatError("invalid-size", "chunk offset outside the segment's records", {
        file: s.path,
        offset: off,
        expected: `${SEGMENT_HEADER_SIZE} ≤ offset < ${s.size}`,
      });
    }

    // The length prefix: make sure the window holds it (or the segment's last bytes).
    const lenEnd = Math.min(off + MAX_CHUNK_LENGTH_FIELD_SIZE, s.size);
    let win = s.win;
    let base = s.winStart;
    if (win === undefined || off < base || lenEnd > base + win.length) {
      win = await this.fill(s, off);
      base = off;
    }
    let p = off - base;
    let len = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (off + i >= s.size) {
        throw new FormatError("invalid-size", "chunk length runs past the end of the segment", { file: s.path, offset: off });
      }
      const byte = win[p + i];
      len += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        p += i + 1;
        break;
      }
      if (i === MAX_CHUNK_LENGTH_FIELD_SIZE - 1) {
        throw new FormatError("invalid-value", "chunk length varint longer than 5 bytes", { file: s.path, offset: off });
      }
      mul *= 128;
    }
    if (len > 0xffffffff) {
      throw new FormatError("invalid-value", "chunk length exceeds 32 bits", { file: s.path, offset: off, found: String(len) });
    }
    const varintLen = p - (off - base);
    const end = off + varintLen + 1 + len + CHUNK_CRC_SIZE;
    if (end > s.size) {
      throw new FormatError("invalid-size", `chunk of ${len} bytes runs past the end of the segment`, {
        file: s.path,
        offset: off,
        expected: `record end ≤ ${s.size}`,
        found: String(end),
      });
    }

    let fromWindow = true;
    if (end > base + win.length) {
      if (end - off <= this.windowSize) {
        win = await this.fill(s, off);
      } else {
        // Bigger than a window: its own read (a fresh buffer), leaving the window as it was.
        win = await s.src.read(off, end - off);
        fromWindow = false;
      }
      base = off;
      p = varintLen;
    }

    const encAt = p;
    const dataEnd = encAt + 1 + len;
    const stored = ((win[dataEnd] << 24) | (win[dataEnd + 1] << 16) | (win[dataEnd + 2] << 8) | win[dataEnd + 3]) >>> 0;
    const actual = crc32c(win, encAt, dataEnd);
    if (stored !== actual) {
      throw new FormatError("invalid-checksum", `chunk CRC32C mismatch (checksum at @${base + dataEnd})`, {
        file: s.path,
        offset: off,
        expected: `stored ${hex32(stored)}`,
        found: hex32(actual),
      });
    }
    if (fromWindow && s.wb !== undefined) s.wb.pinned = true;
    return { encoding: win[encAt], data: win.subarray(encAt + 1, dataEnd) };
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
    for (const s of this.segs) {
      s.win = undefined;
      s.wb = undefined;
    }
    this.retired.length = 0;
    this.spare.length = 0;
    await Promise.all(this.segs.map((s) => s.src.close?.()));
  }

  /** Replace the segment's window with `windowSize` bytes from `off` (fewer at the end). */
  private async fill(s: Segment, off: number): Promise<Uint8Array> {
    const n = Math.min(this.windowSize, s.size - off);
    s.win = undefined;
    if (s.src.readInto === undefined) {
      const win = await s.src.read(off, n);
      s.win = win;
      s.winStart = off;
      return win;
    }
    let wb = s.wb;
    s.wb = undefined;
    if (wb !== undefined && wb.pinned) {
      // Views into it may still be in use: set it aside until releaseViews().
      if (this.retired.length === MAX_KEPT) this.retired.shift();
      this.retired.push(wb);
      wb = undefined;
    }
    wb ??= this.spare.pop() ?? { buf: new Uint8Array(this.bufSize), pinned: false };
    // Pinned from now on, so that a concurrent chunk() call can never refill it under us.
    wb.pinned = true;
    const win = wb.buf.subarray(0, n);
    await s.src.readInto(off, win);
    s.wb = wb;
    s.win = win;
    s.winStart = off;
    return win;
  }
}

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
  const magic = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
  if (magic !== MAGIC_CHUNKS) {
    throw new FormatError("bad-magic", "not a chunk segment", { file: s.path, offset: 0, expected: hex32(MAGIC_CHUNKS), found: hex32(magic) });
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
