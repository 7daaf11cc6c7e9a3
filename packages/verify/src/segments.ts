/**
 * Chunk segment access for the verifier. Unlike the tsdb ChunkReader (which refuses the
 * whole block when one segment header is bad), every segment is checked on its own and a
 * bad one only makes the chunks that point into it unreadable. One read-ahead window per
 * segment; every length is checked against the segment size before anything is read.
 */
import {
  CHUNKS_FORMAT_V1,
  CHUNK_CRC_SIZE,
  FormatError,
  MAGIC_CHUNKS,
  SEGMENT_HEADER_SIZE,
  compareStrings,
  crc32c,
  parseSegmentFileName,
  segmentPath,
  type BlockSource,
  type ByteSource,
} from "@strata/tsdb";
import { Code, type Problems } from "./report.ts";
import { fillWindow, newStore } from "./window.ts";

const TWO_32 = 4294967296;
const WINDOW = 1 << 20;
const EMPTY = new Uint8Array(0);

interface Segment {
  name: string;
  path: string;
  size: number;
  src: ByteSource | undefined;
  /** Header bad or unreadable: chunks pointing here are not checked further. */
  broken: boolean;
  win: Uint8Array;
  winStart: number;
  /** The window buffer refilled in place (sources with readInto; allocated on first use). */
  store: Uint8Array | undefined;
}

/**
 * A chunk record as stored: encoding, data and the stored CRC. `data` is a view into the
 * segment's window, which the next read may refill in place: use or copy it before then.
 */
export interface ChunkRecord {
  encoding: number;
  data: Uint8Array;
  crc: number;
  /** Record size in bytes (length varint + encoding + data + CRC). */
  size: number;
}

export class Segments {
  readonly list: Segment[];

  private constructor(list: Segment[]) {
    this.list = list;
  }

  /**
   * Open every segment (names that parse as unsigned integers, in name order), reporting header and naming problems.
   */
  static async open(block: BlockSource, problems: Problems): Promise<Segments> {
    const names = (await block.listChunkFiles())
      .filter((n) => parseSegmentFileName(n) !== undefined)
      .sort(compareStrings);
    for (let i = 0; i < names.length; i++) {
      if (parseSegmentFileName(names[i]!) !== i + 1) {
        problems.add({
          code: Code.SegmentNamesNotConsecutive,
          file: segmentPath(names[i]!),
          message: "chunk segment files must be numbered consecutively from 000001",
          expected: String(i + 1).padStart(6, "0"),
          found: names[i],
        });
        break;
      }
    }
    const list: Segment[] = [];
    for (const name of names) {
      const path = segmentPath(name);
      const s: Segment = {
        name,
        path,
        size: 0,
        src: undefined,
        broken: true,
        win: EMPTY,
        winStart: 0,
        store: undefined,
      };
      list.push(s);
      try {
        s.src = await block.open(path);
        s.size = s.src.size;
        await checkHeader(s);
        s.broken = false;
      } catch (e) {
        problems.fromError(e, { file: path });
      }
    }
    return new Segments(list);
  }

  get totalBytes(): number {
    let n = 0;
    for (const s of this.list) n += s.size;
    return n;
  }

  /**
   * The record at `ref`, or undefined when its segment is broken (already reported).
   * Throws FormatError (code ChunkRefOutOfRange via `refProblem`, or a CRC/bounds error).
   */
  async read(ref: number): Promise<ChunkRecord | undefined> {
    const si = Math.floor(ref / TWO_32);
    const off = ref - si * TWO_32;
    if (si >= this.list.length) {
      throw new RefError(
        `chunk ref points at segment index ${si}`,
        "chunks",
        off,
        `segment index < ${this.list.length}`,
        String(si),
      );
    }
    const s = this.list[si]!;
    if (s.broken) return undefined;
    if (off < SEGMENT_HEADER_SIZE || off >= s.size) {
      throw new RefError(
        "chunk offset outside the segment's records",
        s.path,
        off,
        `${SEGMENT_HEADER_SIZE} ≤ offset < ${s.size}`,
        String(off),
      );
    }
    let rel = off - s.winStart;
    if (rel < 0 || off + 5 > s.winStart + s.win.length) {
      await this.fill(s, off, 5);
      rel = 0;
    }
    const w = s.win;
    let len = 0;
    let mul = 1;
    let p = rel;
    for (let i = 0; ; i++) {
      if (p >= w.length)
        throw new FormatError("invalid-size", "chunk length runs past the end of the segment", {
          file: s.path,
          offset: off,
        });
      const b = w[p++]!;
      len += (b & 0x7f) * mul;
      if (b < 0x80) break;
      if (i === 4)
        throw new FormatError("invalid-value", "chunk length varint longer than 5 bytes", {
          file: s.path,
          offset: off,
        });
      mul *= 128;
    }
    const varLen = p - rel;
    const size = varLen + 1 + len + CHUNK_CRC_SIZE;
    if (off + size > s.size) {
      throw new FormatError("invalid-size", `chunk of ${len} bytes runs past the end of the segment`, {
        file: s.path,
        offset: off,
        expected: `record end ≤ ${s.size}`,
        found: String(off + size),
      });
    }
    if (rel + size > s.win.length) {
      await this.fill(s, off, size);
      rel = 0;
    }
    const win = s.win;
    const enc = rel + varLen;
    const end = enc + 1 + len;
    const stored = ((win[end]! << 24) | (win[end + 1]! << 16) | (win[end + 2]! << 8) | win[end + 3]!) >>> 0;
    const actual = crc32c(win, enc, end);
    if (stored !== actual) {
      throw new FormatError("invalid-checksum", `chunk CRC32C mismatch (checksum at @${off + varLen + 1 + len})`, {
        file: s.path,
        offset: off,
        expected: `stored 0x${stored.toString(16).padStart(8, "0")}`,
        found: `0x${actual.toString(16).padStart(8, "0")}`,
      });
    }
    return { encoding: win[enc]!, data: win.subarray(enc + 1, end), crc: stored, size };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.list.map((s) => s.src?.close?.()));
  }

  private async fill(s: Segment, off: number, min: number): Promise<void> {
    const n = Math.min(s.size - off, Math.max(WINDOW, min));
    const src = s.src!;
    s.win = EMPTY; // nothing half-refilled is served if the read fails
    s.store ??= newStore(src, s.size, WINDOW);
    // A record longer than the window gets a fresh buffer of its own; the window stays reusable.
    s.win = await fillWindow(src, off, n, s.store);
    s.winStart = off;
  }
}

/**
 * A chunk ref that does not resolve to a record: a format finding, so a FormatError (reported as ChunkRefOutOfRange).
 */
export class RefError extends FormatError {
  override name = "RefError";
  constructor(message: string, file: string, offset: number, expected: string, found: string, options?: ErrorOptions) {
    super("invalid-size", message, { file, offset, expected, found }, options);
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
  const h = await s.src!.read(0, SEGMENT_HEADER_SIZE);
  const magic = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  if (magic !== MAGIC_CHUNKS) {
    throw new FormatError("bad-magic", "not a chunk segment", {
      file: s.path,
      offset: 0,
      expected: "0x85bd40dd",
      found: `0x${magic.toString(16).padStart(8, "0")}`,
    });
  }
  if (h[4] !== CHUNKS_FORMAT_V1) {
    throw new FormatError("unsupported-version", "unknown chunk segment version", {
      file: s.path,
      offset: 4,
      expected: "1",
      found: String(h[4]),
    });
  }
}
