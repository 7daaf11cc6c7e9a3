/**
 * The front-to-back walk of an index's series section behind `IndexReader.iterSeries`
 * and `IndexReader.seriesCursor`: synchronous while the window holds the next entry.
 */
import { Decbuf } from "../encoding/decbuf.ts";
import { FormatError } from "../encoding/errors.ts";
import { readReusing, type ByteSource } from "../encoding/source.ts";
import { SERIES_ALIGN } from "./format.ts";
import type { ChunkMeta } from "../chunkenc/chunk.ts";
import type { Label } from "../labels/labels.ts";

const MAX_VARINT32 = 5;

/** One series of the index: its reference, its labels, its chunks' metas. */
export interface SeriesEntry {
  /** V2: entry offset / 16. V1: entry offset. */
  id: number;
  labels: Label[];
  chunks: ChunkMeta[];
}

/**
 * A front-to-back walk of the series section (see `IndexReader.iterSeries`). `tryNext()`
 * returns the next entry synchronously, `null` at the end, or `undefined` when the window
 * must be refilled first: then `next()` does that. A walk of thousands of small entries
 * thus costs no promise per entry, only one per window.
 */
export class SeriesCursor {
  private readonly src: ByteSource;
  private readonly file: string;
  private readonly end: number;
  private readonly v1: boolean;
  private readonly ws: number;
  private readonly decode: (d: Decbuf, rel: number, id: number) => SeriesEntry;
  private readonly buf: Uint8Array | undefined;
  private win: Uint8Array = new Uint8Array(0);
  private winStart: number;
  private d = new Decbuf(this.win);
  private pos: number;
  // The read tryNext found due: `needMin` bytes (at least) from `pos`.
  private needMin = 0;

  constructor(
    src: ByteSource,
    file: string,
    start: number,
    end: number,
    v1: boolean,
    windowSize: number,
    decode: (d: Decbuf, rel: number, id: number) => SeriesEntry,
  ) {
    this.src = src;
    this.file = file;
    this.end = end;
    this.v1 = v1;
    this.ws = Math.max(windowSize, 64);
    this.decode = decode;
    this.winStart = start;
    this.pos = start;
    // Never bigger than the section; an entry longer than the window gets a read of its own.
    this.buf = src.readInto !== undefined && end > start ? new Uint8Array(Math.min(this.ws, end - start)) : undefined;
  }

  /** The next entry, `null` at the end, or `undefined` when a read is due (call `next()`). */
  tryNext(): SeriesEntry | null | undefined {
    const end = this.end;
    const win = this.win;
    let pos = this.pos;
    while (pos < end) {
      const rel = pos - this.winStart;
      if (rel >= win.length) return this.due(pos, 1);
      if (win[rel] === 0) {
        // Padding up to the next 16-byte boundary; an entry never starts with 0x00.
        if (!this.v1 && pos % SERIES_ALIGN === 0) {
          throw new FormatError("invalid-value", "zero byte where a series entry should start", {
            file: this.file,
            offset: pos,
            expected: "entry length varint",
          });
        }
        pos++;
        continue;
      }
      if (!this.v1 && pos % SERIES_ALIGN !== 0) {
        throw new FormatError("invalid-value", "non-zero byte in series padding", {
          file: this.file,
          offset: pos,
          expected: "0x00",
          found: String(win[rel]),
        });
      }
      if (win.length - rel < MAX_VARINT32 && this.winStart + win.length < end) return this.due(pos, MAX_VARINT32);
      const total = entrySize(this.d, rel, end - pos);
      if (rel + total > win.length) return this.due(pos, total);
      const e = this.decode(this.d, rel, this.v1 ? pos : pos / SERIES_ALIGN);
      this.pos = pos + total;
      return e;
    }
    this.pos = pos;
    return null;
  }

  /** The next entry (`null` at the end), reading windows as needed. */
  async next(): Promise<SeriesEntry | null> {
    for (;;) {
      const e = this.tryNext();
      if (e !== undefined) return e;
      const from = this.pos;
      this.win = await readReusing(
        this.src,
        from,
        Math.min(this.end - from, Math.max(this.ws, this.needMin)),
        this.buf,
      );
      this.winStart = from;
      this.d = new Decbuf(this.win, { base: from, file: this.file });
    }
  }

  private due(pos: number, min: number): undefined {
    this.pos = pos;
    this.needMin = min;
    return undefined;
  }
}

/** Total bytes (len varint + body + CRC) of the entry at d.b[rel]; must fit in `room`. */
export function entrySize(d: Decbuf, rel: number, room: number): number {
  d.pos = rel;
  d.end = d.b.length;
  const len = d.uvarint32();
  const total = d.pos - rel + len + 4;
  if (total > room) {
    throw d.error(
      "invalid-size",
      "series entry runs past the end of the series section",
      `${total} bytes`,
      `≤ ${room}`,
      rel,
    );
  }
  return total;
}
