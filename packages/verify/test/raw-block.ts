/**
 * A deliberately permissive block builder for tests: writes index v2 and a chunk segment
 * byte by byte from whatever it is given (unsorted labels, overlapping chunks, dangling
 * postings…), which BlockWriter rightly refuses to produce.
 */
import {
  MemoryBlock,
  compareStrings,
  crc32c,
  newUlid,
  serializeMeta,
  utf8Encode,
  EMPTY_TOMBSTONES,
  type BlockMeta,
  type Chunk,
} from "@strata/tsdb";

export interface RawChunk {
  minT: number;
  maxT: number;
  /** Chunk bytes written to the segment; omit and give `ref` to point anywhere. */
  chunk?: Chunk;
  ref?: number;
}

export interface RawSeries {
  labels: [string, string][];
  chunks: RawChunk[];
}

export interface RawBlockOptions {
  series: RawSeries[];
  /** Symbols in table order (default: every label string, sorted). */
  symbols?: string[];
  /** Edit the postings lists (key `name\0value`, "\0" for all-postings) before they are written. */
  postings?: (lists: Map<string, number[]>) => void;
  meta?: Partial<BlockMeta>;
  minTime?: number;
  maxTime?: number;
}

class Bytes {
  a: number[] = [];
  get len(): number {
    return this.a.length;
  }
  u8(v: number) {
    this.a.push(v & 0xff);
  }
  be32(v: number) {
    this.a.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  be64(v: number) {
    this.be32(Math.floor(v / 4294967296));
    this.be32(v % 4294967296);
  }
  uvarint(v: number | bigint) {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.a.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.a.push(Number(x));
  }
  varint(v: number) {
    const x = BigInt(v);
    this.uvarint(x < 0n ? (-x << 1n) - 1n : x << 1n);
  }
  bytes(b: Uint8Array | number[]) {
    for (const x of b) this.a.push(x);
  }
  str(s: string) {
    const b = utf8Encode(s);
    this.uvarint(b.length);
    this.bytes(b);
  }
  pad(align: number) {
    while (this.a.length % align) this.a.push(0);
  }
  crcFrom(start: number) {
    this.be32(crc32c(Uint8Array.from(this.a.slice(start))));
  }
  out(): Uint8Array {
    return Uint8Array.from(this.a);
  }
}

export function rawBlock(o: RawBlockOptions): { block: MemoryBlock; ulid: string } {
  const ulid = newUlid();
  const block = new MemoryBlock(ulid);
  // Chunk segment.
  const seg = new Bytes();
  seg.be32(0x85bd40dd);
  seg.u8(1);
  seg.u8(0);
  seg.u8(0);
  seg.u8(0);
  const refs: number[][] = [];
  let nChunks = 0;
  let nSamples = 0;
  for (const s of o.series) {
    const r: number[] = [];
    for (const c of s.chunks) {
      nChunks++;
      if (c.chunk) {
        r.push(c.ref ?? seg.len);
        seg.uvarint(c.chunk.data.length);
        const start = seg.len;
        seg.u8(c.chunk.encoding);
        seg.bytes(c.chunk.data);
        seg.crcFrom(start);
        nSamples += (c.chunk.data[0]! << 8) | c.chunk.data[1]!;
      } else r.push(c.ref ?? 8);
    }
    refs.push(r);
  }
  block.files.set("chunks/000001", seg.out());

  const symbols =
    o.symbols ??
    [...new Set(o.series.flatMap((s) => s.labels.flat()))].filter((x) => !x.startsWith("#ref:")).sort(compareStrings);
  const ord = (s: string) => {
    if (s.startsWith("#ref:")) return Number(s.slice(5));
    const i = symbols.indexOf(s);
    if (i < 0) throw new Error(`symbol ${s} missing`);
    return i;
  };
  const b = new Bytes();
  b.be32(0xbaaad700);
  b.u8(2);
  const tocSymbols = b.len;
  const body = new Bytes();
  body.be32(symbols.length);
  for (const s of symbols) body.str(s);
  b.be32(body.len);
  b.bytes(body.a);
  b.crcFrom(tocSymbols + 4);
  const tocSeries = b.len;
  const lists = new Map<string, number[]>([["\0", []]]);
  o.series.forEach((s, i) => {
    b.pad(16);
    const id = b.len / 16;
    lists.get("\0")!.push(id);
    for (const [n, v] of s.labels) {
      const k = `${n}\0${v}`;
      if (!lists.has(k)) lists.set(k, []);
      lists.get(k)!.push(id);
    }
    const e = new Bytes();
    e.uvarint(s.labels.length);
    for (const [n, v] of s.labels) {
      e.uvarint(ord(n));
      e.uvarint(ord(v));
    }
    e.uvarint(s.chunks.length);
    s.chunks.forEach((c, j) => {
      if (j === 0) {
        e.varint(c.minT);
        e.uvarint(c.maxT - c.minT);
        e.uvarint(refs[i]![0]!);
      } else {
        const p = s.chunks[j - 1]!;
        e.uvarint(c.minT - p.maxT);
        e.uvarint(c.maxT - c.minT);
        e.varint(refs[i]![j]! - refs[i]![j - 1]!);
      }
    });
    b.uvarint(e.len);
    const st = b.len;
    b.bytes(e.a);
    b.crcFrom(st);
  });
  const tocLabelIndices = b.len;
  o.postings?.(lists);
  b.pad(4);
  const keys = [...lists.keys()]
    .filter((k) => k !== "\0")
    .sort((x, y) => {
      // Keys other than "\0" are "<name>\0<value>".
      const [a1, a2] = x.split("\0") as [string, string];
      const [b1, b2] = y.split("\0") as [string, string];
      return compareStrings(a1, b1) || compareStrings(a2, b2);
    });
  const offsets: [string, string, number][] = [];
  for (const k of ["\0", ...keys]) {
    const [n, v] = k === "\0" ? ["", ""] : (k.split("\0") as [string, string]);
    offsets.push([n, v, b.len]);
    const ids = lists.get(k)!;
    b.be32(4 + 4 * ids.length);
    const st = b.len;
    b.be32(ids.length);
    for (const id of ids) b.be32(id);
    b.crcFrom(st);
  }
  const tocPostingsTable = b.len;
  const t = new Bytes();
  t.be32(offsets.length);
  for (const [n, v, off] of offsets) {
    t.uvarint(2);
    t.str(n);
    t.str(v);
    t.uvarint(off);
  }
  b.be32(t.len);
  const st = b.len;
  b.bytes(t.a);
  b.crcFrom(st);
  const tocStart = b.len;
  for (const v of [tocSymbols, tocSeries, tocLabelIndices, tocPostingsTable, tocLabelIndices, tocPostingsTable])
    b.be64(v);
  b.crcFrom(tocStart);
  block.files.set("index", b.out());

  const all = o.series.flatMap((s) => s.chunks);
  const meta: BlockMeta = {
    ulid,
    minTime: o.minTime ?? Math.min(...all.map((c) => c.minT)),
    maxTime: o.maxTime ?? Math.max(...all.map((c) => c.maxT)) + 1,
    stats: {
      numSamples: BigInt(nSamples),
      numFloatSamples: BigInt(nSamples),
      numSeries: BigInt(o.series.length),
      numChunks: BigInt(nChunks),
    },
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    ...o.meta,
  };
  block.files.set("meta.json", utf8Encode(serializeMeta(meta, { style: meta.thanos ? "thanos" : "prometheus" })));
  block.files.set("tombstones", EMPTY_TOMBSTONES.slice());
  return { block, ulid };
}
