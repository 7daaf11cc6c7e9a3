/**
 * An index's symbol table, built once and immutable: the sorted strings, each one's UTF-8
 * (concatenated) and its byte length, and the lookup from string to reference.
 *
 * One table may back any number of `IndexWriter`s at once (every shard of a split
 * compaction writes the same full table, as Prometheus does): the writers only read it, so
 * an 8-shard split holds the symbols once, not eight times.
 */
import { FormatError } from "../encoding/errors.ts";
import { uvarintSize } from "../encoding/encbuf.ts";
import { compareStrings, encodeInto, utf8Length } from "../encoding/utf8.ts";
import { HEADER_LEN, INDEX_FILE, checkSectionLength } from "./format.ts";

export class SymbolTable {
  /** The symbols, strictly ascending in Go (bytewise UTF-8) order; reference k is strings[k]. */
  readonly strings: readonly string[];
  /** UTF-8 byte length of symbol k. */
  readonly lens: Uint32Array;
  /** Offset of symbol k's UTF-8 in `utf8` (the table is < 4 GiB, its 32-bit length says so). */
  readonly at: Uint32Array;
  /** Every symbol's UTF-8, concatenated: encoded once, copied into the index as often as needed. */
  readonly utf8: Uint8Array;
  /** Bytes of the symbol table section after its length field, CRC excluded: the count and every entry. */
  readonly sectionBytes: number;
  private readonly refs: Map<string, number>;

  private constructor(strings: string[], lens: Uint32Array, at: Uint32Array, utf8: Uint8Array, sectionBytes: number) {
    this.strings = strings;
    this.lens = lens;
    this.at = at;
    this.utf8 = utf8;
    this.sectionBytes = sectionBytes;
    const refs = new Map<string, number>();
    for (let i = 0; i < strings.length; i++) refs.set(strings[i]!, i);
    this.refs = refs;
  }

  /**
   * A table of `symbols`, which must be well-formed strings strictly ascending in Go order
   * (`FormatError` otherwise, naming `file`), and fit the section's 32-bit length field.
   */
  static from(symbols: Iterable<string>, file = INDEX_FILE): SymbolTable {
    const list: string[] = [];
    let prev: string | undefined;
    for (const s of symbols) {
      if (typeof s !== "string" || !(s as unknown as { isWellFormed(): boolean }).isWellFormed()) {
        throw new FormatError("invalid-value", "symbol is not a well-formed Unicode string", {
          file,
          found: JSON.stringify(s),
        });
      }
      if (prev !== undefined && compareStrings(s, prev) <= 0) {
        throw new FormatError("out-of-order", "symbols not strictly ascending", {
          file,
          expected: `> ${JSON.stringify(prev)}`,
          found: JSON.stringify(s),
        });
      }
      list.push(s);
      prev = s;
    }
    const lens = new Uint32Array(list.length);
    let bytes = 4; // the count field
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const n = utf8Length(list[i]!);
      lens[i] = n;
      total += n;
      bytes += uvarintSize(n) + n;
    }
    // Before anything the size of the strings is allocated.
    checkSectionLength(bytes, "symbol table", HEADER_LEN, file);
    const at = new Uint32Array(list.length);
    const utf8 = new Uint8Array(total);
    let o = 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      at[i] = o;
      if (lens[i] === s.length) for (let j = 0; j < s.length; j++) utf8[o + j] = s.charCodeAt(j);
      else encodeInto(s, utf8, o);
      o += lens[i]!;
    }
    return new SymbolTable(list, lens, at, utf8, bytes);
  }

  /** Number of symbols. */
  get length(): number {
    return this.strings.length;
  }

  /** The reference of `s`, or undefined when it is not a symbol. */
  ref(s: string): number | undefined {
    return this.refs.get(s);
  }

  /**
   * Approximate bytes this table holds beyond the strings themselves (which it shares with
   * whoever made them): the UTF-8, the per-symbol arrays, the list and the lookup.
   */
  get retainedBytes(): number {
    // V8: 8 bytes per array slot, about 3 slots per Map entry plus its share of the buckets.
    return (
      this.utf8.byteLength +
      this.lens.byteLength +
      this.at.byteLength +
      8 * this.strings.length +
      28 * this.strings.length
    );
  }
}
