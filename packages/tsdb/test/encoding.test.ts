import { describe, expect, it } from "vitest";
import { crc32c } from "../src/encoding/crc32c.ts";
import { Decbuf } from "../src/encoding/decbuf.ts";
import { Encbuf } from "../src/encoding/encbuf.ts";
import { BitReader, BitWriter } from "../src/encoding/bstream.ts";
import { compareStrings, utf8Encode, compareBytes, utf8Length } from "../src/encoding/utf8.ts";
import { FormatError } from "../src/encoding/errors.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("crc32c", () => {
  it("matches the reference vectors", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // Legacy single-sample chunk record: enc 01 | data 00 01 00 00x10 (tsdb-block-format.md §12).
    const rec = new Uint8Array([0x01, 0x00, 0x01, ...new Array(10).fill(0)]);
    expect(crc32c(rec)).toBe(0x1bf86a40);
  });
  it("chains and agrees with a bytewise implementation on random data", () => {
    const slow = (b: Uint8Array) => {
      let c = 0xffffffff;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    for (let n = 0; n < 70; n++) {
      const b = new Uint8Array(n * 7 + 3).map((_, i) => (i * 131 + n * 17) & 0xff);
      expect(crc32c(b)).toBe(slow(b));
      const cut = Math.floor(b.length / 3);
      expect(crc32c(b, cut, b.length, crc32c(b, 0, cut))).toBe(slow(b));
    }
  });
});

describe("varints", () => {
  it("round-trip across the safe integer range", () => {
    const e = new Encbuf(4);
    const vals = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1_700_000_000_000, Number.MAX_SAFE_INTEGER];
    for (const v of vals) e.putUvarint(v);
    // Signed values are exact while their zigzag form (2|v|) stays below 2^53.
    const signed = vals.map((v) => Math.min(v, 2 ** 52));
    for (const v of signed) e.putVarint(v), e.putVarint(v === 0 ? 0 : -v);
    const d = new Decbuf(e.bytes());
    for (const v of vals) expect(d.uvarint()).toBe(v);
    for (const v of signed) expect([d.varint(), d.varint()]).toEqual([v, v === 0 ? 0 : -v]);
    expect(d.remaining()).toBe(0);
  });
  it("keep the sign of signed varints beyond 2^53 (magnitude rounds, sign must not)", () => {
    const e = new Encbuf();
    e.putBytes(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])); // zigzag of MinInt64
    e.putBytes(new Uint8Array([0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f])); // zigzag of -(2^61)+... (odd)
    const d = new Decbuf(e.bytes());
    expect(d.varint()).toBe(-(2 ** 63));
    expect(d.varint()).toBeLessThan(-(2 ** 60));
  });
  it("match Go's encoding of known values", () => {
    const e = new Encbuf();
    e.putVarint(1000); // zigzag 2000 = 0x7d0
    e.putUvarint(1000);
    expect(hex(e.bytes())).toBe("d00fe807");
  });
  it("reject truncation and overlong input with offsets", () => {
    const d = new Decbuf(new Uint8Array([0x80, 0x80]), { base: 100, file: "index" });
    expect(() => d.uvarint()).toThrowError(/index @100: varint runs past/);
    const long = new Decbuf(new Uint8Array(11).fill(0xff));
    expect(() => long.uvarint()).toThrow(FormatError);
    const big = new Decbuf(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]));
    expect(() => big.uvarint32()).toThrowError(/32-bit varint too large/);
  });
});

describe("Decbuf.framedAt", () => {
  it("checks length and CRC before parsing (symbol table vector)", () => {
    const b = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 3, 0, 1, 0x61, 1, 0x62, 0x42, 0x23, 0x9b, 0x90]);
    const d = Decbuf.framedAt(b, 5);
    expect(d.be32()).toBe(3);
    expect([d.uvarintStr(), d.uvarintStr(), d.uvarintStr()]).toEqual(["", "a", "b"]);
    const bad = b.slice();
    bad[16]! ^= 1;
    expect(() => Decbuf.framedAt(bad, 5)).toThrowError(/CRC32C mismatch/);
    const huge = b.slice();
    huge[5] = 0xff; // length 4 GiB: must fail the bounds check, not allocate
    expect(() => Decbuf.framedAt(huge, 5)).toThrowError(/runs past the end/);
  });
});

describe("bit streams", () => {
  it("round-trip mixed widths MSB-first", () => {
    const w = new BitWriter(1);
    const items: [number, number][] = [];
    for (let i = 0; i < 500; i++) {
      const n = (i * 7) % 33;
      const v = n === 0 ? 0 : ((i * 2654435761) >>> 0) % 2 ** n;
      items.push([v, n]);
      w.writeBits(v, n);
    }
    w.writeBits64(0x12345678, 0x9abcdef0, 64);
    const r = new BitReader(w.bytes());
    for (const [v, n] of items) expect(r.readBits(n)).toBe(v);
    r.readBits64(64);
    expect([r.hi, r.lo]).toEqual([0x12345678, 0x9abcdef0]);
    expect(r.bitsLeft()).toBeLessThan(8);
  });
  it("puts bit 0 in the most significant position", () => {
    const w = new BitWriter();
    w.writeBit(1);
    w.writeBits(0b01, 2);
    expect(w.bytes()).toEqual(new Uint8Array([0b10100000]));
  });
});

describe("Go string order", () => {
  it("orders by UTF-8 bytes, not UTF-16 units", () => {
    const astral = "\u{1F600}"; // surrogates D83D DE00 in UTF-16
    const bmpHigh = "\uFF21"; // fullwidth A, above the surrogate range
    expect(astral < bmpHigh).toBe(true); // JS order
    expect(compareStrings(astral, bmpHigh)).toBe(1); // Go order
    const words = ["b", "a", "\u{10000}", "\uE000", "\uFFFF", "ab", "", "\u00e9", "z\u{1F600}", "z\uFFFD"];
    const goSorted = [...words].sort((x, y) => compareBytes(utf8Encode(x), utf8Encode(y)));
    expect([...words].sort(compareStrings)).toEqual(goSorted);
    for (const w of words) expect(utf8Length(w)).toBe(utf8Encode(w).length);
  });
});
